"""`satchel sync FILE...`: make an environment exactly match a lock, without resolving.

FILE is a compiled requirements.txt (every line pinned) or a PEP 751 pylock.toml. What is
missing or at another version is installed; what the lock does not list is uninstalled, except
pip, setuptools and wheel (as pip-sync and `uv pip sync` keep them) and satchel itself with its
dependencies. Everything is downloaded, verified and built before the environment changes.

This module stays light: an environment that already matches the lock is answered from the
lock, the interpreter cache and the installed metadata, without importing the index client, the
build layer or the installer (``satchel.commands.locked`` does the work when there is some).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from satchel.commands.say import say
from satchel.commands.sync_request import Lock, Place, SyncRequest, say_kept

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from satchel.cache.store import Cache
    from satchel.install.installed import InstalledDist
    from satchel.requirements.locked import LockedPackage
    from satchel.requirements.models import ParsedRequirements
    from satchel.settings import Settings




def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.commands.common import open_cache

    started = time.perf_counter()
    request = SyncRequest.from_args(args, exact=True, files=args.files)
    cache = open_cache(settings)
    try:
        place = find_place(request, cache)
        lock = read_locks(request, place)
        if not lock.packages and not request.allow_empty:
            from satchel.errors import SatchelError

            raise SatchelError(
                f"{', '.join(lock.files)} selects no packages for {place.label}: syncing would uninstall everything",
                hint="pass --allow-empty-requirements to do that",
            )
        return sync(request, settings, cache, place, lock, started)
    finally:
        cache.close()


def run_install(args: argparse.Namespace, settings: Settings) -> int:
    """`satchel install -r pylock.toml`: install the lock's selection without resolving,
    adding to the environment and removing nothing (like `uv pip install -r pylock.toml`)."""
    from satchel.commands.common import open_cache
    from satchel.errors import SatchelError

    started = time.perf_counter()
    others = [f for f in args.requirement if not is_pylock_name(f)]
    if args.requirements or args.editable or others or args.constraint:
        raise SatchelError(
            "a pylock.toml is installed as it is, and cannot be combined with other requirements or constraints",
            hint="install the lock and the rest in two commands, or lock them together",
        )
    request = SyncRequest.from_args(args, exact=False, files=args.requirement)
    cache = open_cache(settings)
    try:
        place = find_place(request, cache)
        lock = read_locks(request, place)
        return sync(request, settings, cache, place, lock, started)
    finally:
        cache.close()


def is_pylock_name(path: str) -> bool:
    """``pylock.toml`` or ``pylock.NAME.toml`` (PEP 751), by the file name alone (no import)."""
    import os
    import re

    return re.fullmatch(r"pylock(\.[^.]+)?\.toml", os.path.basename(path)) is not None


def sync(
    request: SyncRequest,
    settings: Settings,
    cache: Cache,
    place: Place,
    lock: Lock,
    started: float,
) -> int:
    """Install ``lock`` into ``place``; with ``request.exact``, remove what it does not list."""
    exact = request.exact
    from satchel.install.installed import list_installed

    installed = {d.name: d for d in list_installed(place.paths)}
    kept = kept_packages(installed, place.markers) if exact else {}
    if not request.reinstall and already_synced(lock.packages, installed, kept, place, exact=exact):
        from satchel.units import count, human_time

        elapsed = human_time(time.perf_counter() - started)
        say(f"Read {count(len(lock.packages), 'package')} from {', '.join(lock.files)} in {elapsed}")
        say(f"Nothing to do: {count(len(lock.packages), 'package')} already installed in {place.label}")
        say_kept(kept, lock.packages)
        return 0
    from satchel.commands.common import cache_in_use
    from satchel.commands.locked import install_locked

    with cache_in_use(cache):
        return install_locked(request, settings, cache, place, lock, installed, kept, started)


# -- the target ---------------------------------------------------------------------------------


def find_place(request: SyncRequest, cache: Cache) -> Place:
    """The environment (-p, $VIRTUAL_ENV, ./.venv) or --target directory to install into."""

    from satchel.python.cached import get_facts
    from satchel.python.discover import find_target

    target = request.target
    if target is not None:
        exe = find_target(request.python, system=request.python is None, cwd=Path.cwd(), cache=cache)
        facts = get_facts(exe, cache)
        root = target.absolute()
        paths = {
            "purelib": str(root),
            "platlib": str(root),
            "scripts": str(root / "bin"),
            "data": str(root),
            "headers": str(root / "include"),
        }
        return Place(exe, facts, paths, str(root), is_directory=True)
    exe = find_target(request.python, system=request.system, cwd=Path.cwd(), cache=cache)
    facts = get_facts(exe, cache)
    from satchel.commands.managed import check_not_externally_managed

    check_not_externally_managed(str(exe), facts.externally_managed, allowed=request.break_system_packages)
    return Place(exe, facts, dict(facts.paths), facts.prefix)


# -- reading the lock ---------------------------------------------------------------------------


def read_locks(request: SyncRequest, place: Place) -> Lock:
    """The lock files named on the command line, read for ``place``'s interpreter."""

    from satchel.errors import RequirementsFileError
    from satchel.requirements.locked import check_one_each, locked_from_requirements
    from satchel.requirements.models import ParsedRequirements

    files: list[str] = list(request.files)
    cwd = Path.cwd()
    packages: list[LockedPackage] = []
    text_files = []
    groups = _groups_per_lock(request.groups, [f for f in files if is_pylock_name(f)], cwd)
    for name in files:
        if is_pylock_name(name):
            from satchel.requirements.pylock import read_pylock, select_from_pylock

            interp = place.interpreter
            lock = read_pylock(cwd / name, name)
            packages += select_from_pylock(
                lock,
                cwd / name,
                name,
                env=interp.markers,
                tags=interp.tags,
                extras=request.extras,
                groups=groups[name],
                all_extras=request.all_extras,
                default_groups=request.default_groups,
                target=place.label,
            )
        elif name.endswith(".toml"):
            raise RequirementsFileError(
                f"{name}: not a lock file satchel reads",
                hint="sync reads pylock.toml, pylock.NAME.toml (PEP 751) or a compiled requirements.txt",
            )
        else:
            text_files.append(name)
    parsed = ParsedRequirements()
    if text_files:
        from satchel.requirements.parser import parse_command_line

        parsed = parse_command_line(requirement_files=text_files, base_dir=cwd)
        if request.require_hashes:
            parsed = _requiring_hashes(parsed)
        packages += locked_from_requirements(parsed, place.markers)
    if len(text_files) == len(files):
        for option, value in (("--extra", request.extras), ("--group", request.groups)):
            if value:
                raise RequirementsFileError(
                    f"{option} selects from a pylock.toml, and no pylock file was given",
                    hint="a compiled requirements.txt holds one selection already",
                )
    check_one_each(packages)
    return Lock(files, packages, parsed)


def _groups_per_lock(groups: Sequence[str], locks: Sequence[str], cwd: Path) -> dict[str, list[str]]:
    """The ``--group`` options for each pylock file given: ``NAME`` selects from every one;
    ``PATH:NAME`` (as uv and pip spell a group of a named file) from the one at ``PATH`` only,
    which must be one of them. (A group of a pyproject.toml is resolved, not locked: it cannot
    be added to a lock's selection.)"""
    import os

    from satchel.errors import RequirementsFileError

    chosen: dict[str, list[str]] = {name: [] for name in locks}
    for group in groups:
        path, colon, name = group.rpartition(":")
        if not colon:
            for selected in chosen.values():
                selected.append(group)
            continue
        where = os.path.realpath(cwd / path)
        matches = [lock for lock in locks if os.path.realpath(cwd / lock) == where]
        if not matches or not name:
            given = ", ".join(locks) or "none"
            raise RequirementsFileError(
                f"--group {group}: {path} is not one of the pylock files given ({given})"
                if not matches
                else f"--group {group}: no group name after the path",
                hint="with -r pylock.toml a group is selected from the lock: --group NAME, or "
                "--group pylock.toml:NAME; install a pyproject.toml's group in a second command",
            )
        chosen[matches[0]].append(name)
    return chosen


def _requiring_hashes(parsed: ParsedRequirements) -> ParsedRequirements:
    import dataclasses

    return dataclasses.replace(parsed, require_hashes=True)


# -- is there anything to do? -------------------------------------------------------------------

#: Never removed by `sync` when the lock does not list them: the packaging tools pip-sync and
#: `uv pip sync` keep too, and satchel itself (with its dependencies, see kept_packages).
ALWAYS_KEPT = ("pip", "setuptools", "wheel")
SELF = "satchel"


def kept_packages(installed: Mapping[str, InstalledDist], env: Mapping[str, str]) -> dict[str, str]:
    """name -> version of what sync keeps even when the lock does not list it: pip, setuptools,
    wheel, and satchel with everything it needs to run (installed in the target, it would
    otherwise remove its own dependencies and stop working)."""
    kept = {n: installed[n].version for n in (*ALWAYS_KEPT, SELF) if n in installed}
    if SELF not in installed:
        return kept
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    queue = [SELF]
    while queue:
        dist = installed[queue.pop()]
        for text in dist.requires_dist:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            name = canonicalize_name(req.name)
            if name in installed and name not in kept:
                kept[name] = installed[name].version
                queue.append(name)
    return kept


def already_synced(
    packages: Sequence[LockedPackage],
    installed: Mapping[str, InstalledDist],
    kept: Mapping[str, str],
    place: Place,
    *,
    exact: bool,
) -> bool:
    """Whether the environment holds every locked package at its version (and, with ``exact``,
    nothing else but what sync keeps), and the lock is complete (no dependency missing: then
    the full path says so). Only index packages and files are judged here: any direct reference
    (directory, VCS, archive URL) goes the full way."""
    from packaging.requirements import Requirement
    from packaging.version import InvalidVersion, Version

    from satchel.install.satisfied import check, plain_requirement
    from satchel.requirements.locked import DIRECT

    roots: list[Any] = []  # Requirement, or satisfied's PlainRequirement standing in for one
    for p in packages:
        dist = installed.get(p.name)
        if p.kind == DIRECT or p.version is None or dist is None or dist.direct_url is not None:
            return False
        try:
            if Version(dist.version) != Version(p.version):
                return False
        except InvalidVersion:
            return False
        extras = f"[{','.join(sorted(p.extras))}]" if p.extras else ""
        text = f"{p.name}{extras}=={p.version}"
        roots.append(plain_requirement(text) or Requirement(text))
    names = {p.name for p in packages}
    if exact and any(n not in names and n not in kept for n in installed):
        return False
    only_locked = {n: d for n, d in installed.items() if n in names}
    outcome = check(roots, only_locked, place.markers, place.version_str)
    if not outcome:
        import logging

        logging.getLogger("satchel").debug("sync: %s; checking the lock in full", outcome.reason)
    return bool(outcome)
