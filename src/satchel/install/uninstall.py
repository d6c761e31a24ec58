"""Remove an installed distribution: the files its RECORD lists, their bytecode, the directories
that leaves empty, and its .dist-info directory.

Works on any tool's install that has a RECORD (pip, uv, installer, satchel). Nothing outside the
environment's prefix is removed, whatever RECORD says; such entries are reported as skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from satchel.errors import InstallError
from satchel.install.installed import InstalledDist
from satchel.install.record import RecordError, read_record

log = logging.getLogger("satchel.install")

_NO_RECORD_HINT = "remove it by hand or with the tool that installed it"


@dataclass
class UninstallResult:
    """What uninstalling one distribution removed, found gone, or left alone."""
    name: str
    version: str
    removed: list[Path] = field(default_factory=list)  # files removed (RECORD entries and .pyc)
    removed_dirs: list[Path] = field(default_factory=list)  # directories left empty and removed
    missing: list[str] = field(default_factory=list)  # RECORD entries that were already gone
    skipped: list[str] = field(default_factory=list)  # RECORD entries outside the environment


def _real(path: str) -> str:
    """``path`` with its directory resolved (the last component itself may be a link)."""
    head, tail = os.path.split(path)
    return os.path.join(os.path.realpath(head), tail)


def _inside(path: str, root: str) -> bool:
    return path.startswith(root.rstrip(os.sep) + os.sep)


def uninstall(
    dist: InstalledDist,
    paths: Mapping[str, str],
    *,
    prefix: str | os.PathLike[str] | None = None,
) -> UninstallResult:
    """Uninstall ``dist`` from the environment whose scheme is ``paths``. ``prefix`` (default
    ``paths["data"]``, the environment's root) bounds what may be removed."""
    label = f"{dist.display_name} {dist.version}"
    record_path = dist.record_path
    if record_path is None or not record_path.is_file():
        by = dist.installer or "another tool"
        raise InstallError(
            f"cannot uninstall {label}: no RECORD file (installed by {by})", hint=_NO_RECORD_HINT
        )
    try:
        entries = read_record(record_path)
    except (OSError, RecordError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise InstallError(f"cannot uninstall {label}: cannot read {record_path} ({reason})")

    root = os.path.realpath(prefix if prefix is not None else paths["data"])
    site_packages = str(dist.site_packages)
    dist_info = _real(os.path.normpath(str(dist.dist_info)))
    if not _inside(dist_info, root):
        raise InstallError(
            f"cannot uninstall {label}: {dist.dist_info} is outside the environment {root}"
        )
    result = UninstallResult(dist.name, dist.version)

    to_remove: dict[str, str] = {}  # real path -> RECORD path (or the .pyc's own path)
    pycache_listings: dict[str, list[str]] = {}
    for entry in entries:
        full = os.path.normpath(os.path.join(site_packages, entry.path))
        real = _real(full)
        if not _inside(real, root):
            result.skipped.append(entry.path)
            continue
        if _inside(real, dist_info):
            continue  # removed with the directory, last
        to_remove[real] = entry.path
        if real.endswith(".py"):
            for pyc in _bytecode_of(real, pycache_listings):
                to_remove.setdefault(pyc, pyc)
    if result.skipped:
        log.warning(
            "not removing %d file(s) of %s outside the environment %s (e.g. %s)",
            len(result.skipped),
            label,
            root,
            result.skipped[0],
        )

    # Check first, so a read-only directory fails the uninstall before anything is removed.
    for directory in sorted({os.path.dirname(p) for p in to_remove} | {os.path.dirname(dist_info)}):
        if os.path.isdir(directory) and not os.access(directory, os.W_OK | os.X_OK):
            raise InstallError(
                f"cannot uninstall {label}: {directory} is not writable",
                hint="run with permission to change the environment",
            )

    parents: set[str] = set()
    try:
        for real, shown in to_remove.items():
            try:
                if os.path.isdir(real) and not os.path.islink(real):
                    continue  # RECORD lists files; a directory goes only once it is empty
                os.unlink(real)
            except FileNotFoundError:
                if shown == real:
                    continue  # a .pyc that went away by itself
                result.missing.append(shown)
                continue
            result.removed.append(Path(real))
            parents.add(os.path.dirname(real))
        if os.path.isdir(dist_info):
            import shutil

            shutil.rmtree(dist_info)
        parents.add(os.path.dirname(dist_info))
    except OSError as exc:
        raise InstallError(
            f"cannot uninstall {label}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        )

    _remove_empty_dirs(parents, _kept_dirs(paths, root, site_packages), root, result)
    return result


def _bytecode_of(source: str, listings: dict[str, list[str]]) -> list[str]:
    """The .pyc files compiled from ``source``: ``__pycache__/<stem>.<tag>.pyc`` and ``<source>c``."""
    directory, filename = os.path.split(source)
    stem = filename[: -len(".py")]
    cache_dir = os.path.join(directory, "__pycache__")
    if cache_dir not in listings:
        try:
            listings[cache_dir] = os.listdir(cache_dir)
        except OSError:
            listings[cache_dir] = []
    out = []
    for name in listings[cache_dir]:
        if name.startswith(stem + ".") and name.endswith(".pyc"):
            tag = name[len(stem) + 1 : -len(".pyc")].split(".")  # "cpython-311" [+ "opt-1"]
            if len(tag) == 1 or (len(tag) == 2 and tag[1].startswith("opt-")):
                out.append(os.path.join(cache_dir, name))
    if os.path.exists(source + "c"):
        out.append(source + "c")
    return out


def _kept_dirs(paths: Mapping[str, str], root: str, site_packages: str) -> set[str]:
    """Directories never removed, even when empty: the prefix, the directories leading to
    site-packages and scripts, and the top of the headers tree (``include``)."""
    kept = {root}
    for key in ("purelib", "platlib", "scripts"):
        if paths.get(key):
            kept.update(_ancestors(os.path.realpath(paths[key]), root))
    kept.update(_ancestors(os.path.realpath(site_packages), root))
    headers = paths.get("headers") or paths.get("include")
    if headers:
        top = _ancestors(os.path.realpath(headers), root)
        if top:
            kept.add(top[-1])
    return kept


def _ancestors(path: str, root: str) -> list[str]:
    """``path`` and its parents inside ``root``, deepest first."""
    out = []
    while _inside(path, root):
        out.append(path)
        path = os.path.dirname(path)
    return out


def _remove_empty_dirs(
    parents: set[str], stops: set[str], root: str, result: UninstallResult
) -> None:
    for start in sorted(parents, key=lambda p: p.count(os.sep), reverse=True):
        d = start
        while _inside(d, root) and os.path.realpath(d) not in stops:
            try:
                os.rmdir(d)
            except OSError:
                break
            result.removed_dirs.append(Path(d))
            d = os.path.dirname(d)
