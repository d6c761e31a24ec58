"""What a lock says to install, one record per package, whatever the lock's format.

A lock is a compiled requirements.txt (every line pinned with ``==``, maybe with ``--hash``)
or a PEP 751 ``pylock.toml`` (read by :mod:`satchel.requirements.pylock`). Both become
:class:`LockedPackage` records, which ``satchel sync`` and ``satchel install -r pylock.toml``
install without resolving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from satchel.errors import RequirementsFileError
from satchel.requirements.models import ParsedRequirements, RequirementSpec
from satchel.requirements.urls import is_archive_name, is_file_url, is_vcs_url, url_filename

#: kinds of :class:`LockedPackage`
PIN = "pin"  # name==version: the file comes from the index (requirements.txt)
FILE = "file"  # one wheel or sdist the lock names, with its hashes (pylock)
DIRECT = "direct"  # a URL, path or VCS reference, built or unpacked as for `install`


@dataclass(frozen=True)
class LockedPackage:
    """One package a lock says to install.

    ``name`` is canonical; ``version`` the pinned version (None when a lock leaves it out, as it
    may for directories and VCS entries). ``where`` names the place in the lock for messages
    ("requirements.txt:12", "pylock.toml, packages[3]"). ``kind``: :data:`PIN`, :data:`FILE` or
    :data:`DIRECT`. ``url``: the file's URL (``file:`` for a path) for FILE; the pip-style
    requirement URL for DIRECT (``git+URL@commit``, ``file:///dir``, an archive URL).
    ``filename``/``size``: of the FILE. ``hashes``: ``"algo:hexdigest"`` (lowercase), any one of
    several for an algorithm may match. ``extras``: asked for on the line (requirements.txt).
    ``is_wheel``: the FILE is a wheel (else an sdist, which is built).
    """

    name: str
    version: str | None
    where: str
    kind: str
    url: str | None = None
    filename: str | None = None
    size: int | None = None
    hashes: tuple[str, ...] = ()
    editable: bool = False
    extras: frozenset[str] = frozenset()
    is_wheel: bool = False
    spec: RequirementSpec | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return f"{self.name}=={self.version}" if self.version else self.name


def locked_from_requirements(
    parsed: ParsedRequirements, env: Mapping[str, str]
) -> list[LockedPackage]:
    """The lines of compiled requirements files as locked packages (markers false for the
    target ``env`` are skipped). Every line must be pinned (``==``/``===``, or a URL or path);
    like pip, a ``--hash`` on any line requires one on every line."""
    specs = parsed.requirements
    require_hashes = parsed.require_hashes or any(s.hashes for s in specs)
    out: list[LockedPackage] = []
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.marker is not None and not spec.marker.evaluate({**env, "extra": ""}):
            continue
        if require_hashes and not spec.hashes and not (spec.editable or _is_local(spec)):
            raise RequirementsFileError(
                f"{spec.source}: {spec.line!r} has no --hash, and the file has hashes",
                hint="a --hash on any line turns on hash checking for all of them; "
                "compile the lock again with --generate-hashes",
            )
        if spec.url is not None:
            version = None
            if spec.requirement is not None:
                version = _pinned(spec)
            item = LockedPackage(
                name=spec.name or "",
                version=version,
                where=spec.source,
                kind=DIRECT,
                url=spec.url,
                hashes=spec.hashes,
                editable=spec.editable,
                extras=spec.extras,
                spec=spec,
            )
        else:
            version = _pinned(spec)
            if version is None:
                raise RequirementsFileError(
                    f"{spec.source}: {spec.line!r} is not pinned with ==",
                    hint="sync installs a lock as it is, without resolving: compile the "
                    "requirements first (satchel compile requirements.in -o requirements.txt)",
                )
            assert spec.name is not None
            item = LockedPackage(
                name=spec.name,
                version=version,
                where=spec.source,
                kind=PIN,
                hashes=spec.hashes,
                extras=spec.extras,
                spec=spec,
            )
        if item.name:
            other = seen.get(item.name)
            if other is not None:
                raise RequirementsFileError(
                    f"{spec.source}: {item.name} is listed twice (also at {other})",
                    hint="a lock names each package once",
                )
            seen[item.name] = spec.source
        out.append(item)
    return out


def _pinned(spec: RequirementSpec) -> str | None:
    """The version of an exact pin (``==1.0``, ``===1.0``), None for anything looser."""
    specifiers = list(spec.specifier)
    if len(specifiers) != 1:
        return None
    only = specifiers[0]
    if only.operator not in ("==", "===") or only.version.endswith(".*"):
        return None
    return only.version


def _is_local(spec: RequirementSpec) -> bool:
    """A directory or VCS reference: nothing with a fixed digest to check (pip exempts them
    from --require-hashes too when they are editable; a plain directory cannot be hashed)."""
    url = spec.url or ""
    return is_vcs_url(url) or (is_file_url(url) and not is_archive_name(url_filename(url)))


def check_one_each(packages: Sequence[LockedPackage]) -> None:
    """Several lock files given together name each package once."""
    seen: dict[str, str] = {}
    for p in packages:
        if not p.name:
            continue
        if p.name in seen:
            raise RequirementsFileError(
                f"{p.where}: {p.name} is locked twice (also at {seen[p.name]})",
                hint="a lock names each package once",
            )
        seen[p.name] = p.where
