"""Reading PEP 751 lock files (``pylock.toml``) with ``packaging.pylock``, and choosing what to
install from one for a target, by the spec's installer rules (``Pylock.select``):

- the lock is validated (``Pylock.from_dict``); a ``lock-version`` other than 1.x is an error,
  a newer 1.x a warning;
- ``requires-python`` and ``environments`` must admit the target (checked here first, for a
  clear message; ``select`` checks them again);
- ``extras`` and ``dependency-groups`` (default: ``default-groups``) feed package markers; a
  package whose marker is false is skipped;
- a wheel is chosen by the target's tags among the listed wheels only, else the sdist;
- a file's ``path`` (relative to the lock's directory) is used before its ``url``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from satchel.errors import RequirementsFileError
from satchel.requirements.locked import DIRECT, FILE, LockedPackage
from satchel.requirements.toml import parse_toml
from satchel.requirements.urls import path_to_url

log = logging.getLogger("satchel")

TYPE_CHECKING = False
if TYPE_CHECKING:
    from packaging.pylock import Package, PackageArchive, PackageSdist, PackageWheel, Pylock


def is_pylock_path(path: str | os.PathLike[str]) -> bool:
    """``pylock.toml`` or ``pylock.<name>.toml`` (PEP 751 file names)."""
    from packaging.pylock import is_valid_pylock_path

    return is_valid_pylock_path(Path(path))


def read_pylock(path: Path, display: str) -> Pylock:
    """The lock at ``path``, validated (a leading BOM allowed; every file's digests checked by
    :func:`_check_digests`); errors name ``display`` (the path as given)."""
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError
    from packaging.version import Version

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RequirementsFileError(
            f"cannot read {display}: {exc.strerror or exc}"
        ) from None
    doc = parse_toml(data, display)
    # packaging warns about a newer minor version through its own logger; say it once, here.
    quiet = logging.getLogger("packaging.pylock")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        lock = Pylock.from_dict(doc)
    except PylockUnsupportedVersionError:
        version = doc.get("lock-version")
        raise RequirementsFileError(
            f"{display}: lock-version {version} is not supported (satchel reads lock-version 1.x)",
            hint="write the lock with a tool that produces PEP 751 lock-version 1.0",
        ) from None
    except PylockValidationError as exc:
        raise RequirementsFileError(
            f"{display}: not a valid PEP 751 lock: {exc}",
            hint="check the file against PEP 751, or write it again with the tool that made it",
        ) from None
    finally:
        quiet.setLevel(level)
    _check_digests(lock, display)
    if lock.lock_version > Version("1.0"):
        log.warning(
            "%s: lock-version %s is newer than 1.0; reading it by the 1.0 rules", display, lock.lock_version
        )
    return lock


def select_from_pylock(
    lock: Pylock,
    path: Path,
    display: str,
    *,
    env: Mapping[str, str],
    tags: Sequence[str],
    extras: Collection[str] = (),
    groups: Collection[str] = (),
    all_extras: bool = False,
    default_groups: bool = True,
    target: str = "the target",
) -> list[LockedPackage]:
    """What ``lock`` says to install into a target with marker environment ``env`` and wheel
    ``tags`` (most preferred first), with ``extras`` and dependency ``groups`` (when none are
    named, the lock's default groups, unless ``default_groups`` is false)."""
    from packaging.pylock import PylockSelectError
    from packaging.tags import Tag

    full_version = env.get("python_full_version", "")
    if lock.requires_python is not None and not lock.requires_python.contains(full_version, prereleases=True):
        raise RequirementsFileError(
            f"{display}: the lock requires Python {lock.requires_python}, and {target} is Python {full_version}",
            hint="choose another interpreter with -p, or lock for this one",
        )
    if lock.environments and not any(
        m.evaluate(dict(env), context="requirement") for m in lock.environments
    ):
        listed = "; ".join(f"{str(m)!r}" for m in lock.environments)
        raise RequirementsFileError(
            f"{display}: {target} (Python {full_version}, {env.get('sys_platform', '?')}) "
            f"matches none of the lock's environments: {listed}",
            hint="lock for this environment too, or install into one the lock was made for",
        )
    wanted_extras = _chosen(
        "extra", list(lock.extras or []) if all_extras else extras, lock.extras or [], display
    )
    # Named groups replace the default ones (as packaging's select and uv do).
    if groups:
        chosen_groups = set(_chosen("group", groups, lock.dependency_groups or [], display))
    else:
        chosen_groups = set(lock.default_groups or []) if default_groups else set()
    position = {id(p): i for i, p in enumerate(lock.packages)}
    try:
        selected = list(
            lock.select(
                environment=dict(env),  # type: ignore[arg-type]
                tags=[Tag(*t.split("-")) for t in tags],
                extras=wanted_extras,
                dependency_groups=chosen_groups,
            )
        )
    except PylockSelectError as exc:
        raise RequirementsFileError(
            f"{display}: {exc}", hint=f"the lock was not made for {target}, or not for this interpreter"
        ) from None
    base = path.parent
    out = []
    for package, artifact in selected:
        where = f"{display}, packages[{position[id(package)]}] ({package.name})"
        out.append(_locked(package, artifact, base, where))
    return out


def _chosen(kind: str, asked: Collection[str], available: Sequence[str], display: str) -> list[str]:
    """``asked`` spelled as the lock spells them; an unknown one is an error."""
    from packaging.utils import canonicalize_name

    by_name = {canonicalize_name(a): a for a in available}
    out = []
    for name in asked:
        found = by_name.get(canonicalize_name(name))
        if found is None:
            have = ", ".join(available) or "none"
            raise RequirementsFileError(
                f"{display}: the lock has no {kind} {name!r} (it has: {have})",
                hint=f"pick {'an' if kind == 'extra' else 'a'} {kind} the lock was made with",
            )
        out.append(found)
    return out


def _locked(package: Package, artifact: Any, base: Path, where: str) -> LockedPackage:
    from packaging.pylock import (
        PackageArchive,
        PackageDirectory,
        PackageSdist,
        PackageVcs,
        PackageWheel,
    )

    version = str(package.version) if package.version is not None else None
    name = str(package.name)
    if isinstance(artifact, (PackageWheel, PackageSdist)):
        url = _location(artifact.path, artifact.url, base, where)
        return LockedPackage(
            name=name,
            version=version,
            where=where,
            kind=FILE,
            url=url,
            filename=artifact.filename,
            size=artifact.size,
            hashes=_hashes(artifact.hashes, where),
            is_wheel=isinstance(artifact, PackageWheel),
        )
    if isinstance(artifact, PackageArchive):
        url = _location(artifact.path, artifact.url, base, where)
        if artifact.subdirectory:
            url += f"#subdirectory={artifact.subdirectory}"
        return LockedPackage(
            name=name,
            version=version,
            where=where,
            kind=DIRECT,
            url=url,
            size=artifact.size,
            hashes=_hashes(artifact.hashes, where),
        )
    if isinstance(artifact, PackageDirectory):
        directory = _local(artifact.path, base)
        if artifact.subdirectory:
            directory = directory / artifact.subdirectory
        return LockedPackage(
            name=name,
            version=version,
            where=where,
            kind=DIRECT,
            url=path_to_url(directory),
            editable=bool(artifact.editable),
        )
    assert isinstance(artifact, PackageVcs)
    if artifact.type != "git":
        raise RequirementsFileError(
            f"{where}: {artifact.type} repositories are not supported (satchel installs from git)"
        )
    repo = path_to_url(_local(artifact.path, base)) if artifact.path else artifact.url
    assert repo is not None  # packaging checks that one of them is given
    url = f"git+{repo}@{artifact.commit_id}"
    if artifact.subdirectory:
        url += f"#subdirectory={artifact.subdirectory}"
    return LockedPackage(name=name, version=version, where=where, kind=DIRECT, url=url)


def _local(path: str, base: Path) -> Path:
    """A lock's path: relative ones are relative to the lock's directory (either separator)."""
    return base / Path(path.replace("\\", "/"))


def _location(path: str | None, url: str | None, base: Path, where: str) -> str:
    """``path`` (when the file is there) before ``url``."""
    if path:
        local = _local(path, base)
        if local.exists() or not url:
            if not local.exists():
                raise RequirementsFileError(f"{where}: {local} does not exist (the lock's path {path!r})")
            return path_to_url(local)
    assert url is not None  # packaging checks that one of them is given
    return url


#: hashlib.algorithms_guaranteed without the variable-length shakes, and the hex digits of
#: each one's digest (tests check both against hashlib; a constant here keeps hashlib, and
#: OpenSSL, out of an already-synced run).
HEX_DIGITS = {
    "md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128,
    "sha3_224": 56, "sha3_256": 64, "sha3_384": 96, "sha3_512": 128, "blake2b": 128, "blake2s": 64,
}
CHECKABLE = frozenset(HEX_DIGITS)


def _check_digests(lock: Pylock, display: str) -> None:
    """Every digest the lock gives for a file (wheels, sdists, archives) in an algorithm of
    :data:`CHECKABLE` is hex (either case) of that algorithm's length; else an error naming
    ``display``, the package and the file. (Other algorithms are ignored, as :func:`_hashes`
    ignores them.)"""
    for index, package in enumerate(lock.packages):
        files = [*(package.wheels or ()), package.sdist, package.archive]
        for file in files:
            if file is None:
                continue
            for algo, digest in file.hashes.items():
                length = HEX_DIGITS.get(algo.lower())
                if length is None or (len(digest) == length and not digest.lower().strip("0123456789abcdef")):
                    continue
                shown = digest if len(digest) <= 140 else digest[:137] + "..."
                raise RequirementsFileError(
                    f"{display}, packages[{index}] ({package.name}): malformed {algo} digest "
                    f"{shown!r} of {_file_name(file)} (expected {length} hex digits)",
                    hint="write the lock again with the tool that made it, or copy the digest "
                    "again, e.g. from the output of 'sha256sum <file>'",
                )


def _file_name(file: PackageWheel | PackageSdist | PackageArchive) -> str:
    """How an error names a lock's file: its ``name``, else the last part of its path or URL
    (not the whole URL, which may hold credentials)."""
    name = getattr(file, "name", None)
    if name:
        return str(name)
    where = (file.path or "").replace("\\", "/") or (file.url or "").split("#", 1)[0].split("?", 1)[0]
    return where.rstrip("/").rsplit("/", 1)[-1] or "?"


def _hashes(hashes: Mapping[str, str], where: str) -> tuple[str, ...]:
    """``{"sha256": hex}`` as ``("sha256:hex",)``: the algorithms hashlib can check."""
    out = tuple(
        f"{algo.lower()}:{digest.lower()}"
        for algo, digest in sorted(hashes.items())
        if algo.lower() in CHECKABLE
    )
    if not out:
        raise RequirementsFileError(
            f"{where}: none of the hash algorithms {', '.join(sorted(hashes))} can be checked",
            hint="lock with sha256 hashes",
        )
    return out
