"""Installing a lock as it is (`satchel sync`, `satchel install -r pylock.toml`): no resolution.

Each locked package becomes exactly one thing to install: an index pin's file chosen by the
target's tags among the files of that version (the same choice as `install`), a pylock file
as listed, or a direct reference. Then, before the environment changes at all:

1. every file is downloaded (or found in the cache) and checked against the lock's ``size``
   and hashes -- a mismatch names the lock entry, the file and both digests;
2. every distribution to remove is checked to be removable (it has a RECORD);
3. wheels are unpacked and sdists, directories and VCS checkouts built (the build layer);
4. the lock is checked for completeness: a dependency of a locked package missing from the
   lock (or at a version it does not accept) is a warning, an error with --strict.

Only then are distributions removed and installed (the same linker as `install`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.version import Version

from satchel.cache.store import Cache, Tree
from satchel.commands.buildflags import merge_config_settings
from satchel.commands.pipeline import FETCH_WORKERS, Installer, Target, installed_identity
from satchel.commands.request import config_pairs
from satchel.commands.say import say
from satchel.commands.sources import BuildOptions, SourceFinder, is_wheel_url, url_file
from satchel.commands.sync_request import Lock, Place, SyncRequest, say_kept
from satchel.errors import HashMismatchError, InstallError, SatchelError
from satchel.index.client import IndexClient, IndexOptions
from satchel.index.metadata import parse_metadata
from satchel.index.models import IndexFile
from satchel.install.installed import InstalledDist
from satchel.install.lockcheck import Dist, problems, unprovided_extras
from satchel.install.plan import Wanted, make_plan
from satchel.progress import Progress
from satchel.requirements.locked import DIRECT, FILE, PIN, LockedPackage
from satchel.resolve import ResolvedPackage
from satchel.settings import Settings
from satchel.units import count, human_time

log = logging.getLogger("satchel")


def install_locked(
    request: SyncRequest,
    settings: Settings,
    cache: Cache,
    place: Place,
    lock: Lock,
    installed: dict[str, InstalledDist],
    kept: Mapping[str, str],
    started: float,
) -> int:
    target = Target(place.interpreter, place.paths, place.label, is_directory=place.is_directory)
    client = IndexClient(cache, _index_options(request, settings, lock))
    editables = frozenset(p.url for p in lock.packages if p.editable and p.url)
    installer = Installer(
        cache,
        client,
        BuildOptions(
            isolation=request.build_isolation,
            config_settings=merge_config_settings(
                config_pairs(request.config_settings, "--config-settings")
            ),
            editables=editables,
        ),
        link_mode=request.link_mode,
        compile_bytecode=request.compile_bytecode,
    )
    finder = installer.finder(place.interpreter)
    progress = Progress(enabled=sys.stderr.isatty() and not settings.quiet)
    try:
        installed_urls = {n: installed_identity(d.direct_url) for n, d in installed.items()}
        wanted = _wanted(lock, finder, installer, installed, installed_urls)
        read_at = time.perf_counter()
        say(f"Read {count(len(wanted), 'package')} from {', '.join(lock.files)} in {human_time(read_at - started)}")
        plan = make_plan(
            wanted, installed, reinstall=request.reinstall, installed_urls=installed_urls
        )
        for w in list(plan.keep):
            if w.url is None and installed_urls.get(w.name) is not None:
                # Locked from an index or as a file, installed from a URL, path or VCS (an
                # editable checkout, say): the lock's distribution replaces it.
                plan.keep.remove(w)
                plan.install.append(w)
                plan.remove.append(installed[w.name])
        locked_names = {w.name for w in wanted}
        extraneous = (
            sorted((d for n, d in installed.items() if n not in locked_names and n not in kept), key=lambda d: d.name)
            if request.exact
            else []
        )
        remove = [*plan.remove, *extraneous]
        if not plan.install and not remove:
            _report_problems(request, lock, wanted, {}, installed, {}, place)
            say(f"Nothing to do: {count(len(wanted), 'package')} already installed in {place.label}")
            say_kept(kept, lock.packages)
            return 0
        _check_removable(remove)
        if not request.dry_run and plan.install and settings.link_worker:
            installer.start_link_worker()  # (getting ready while the wheels are found and checked)
        # Only what is to be installed is looked up (index pages, metadata of direct references).
        to_install = _to_install(lock, [w.item for w in plan.install], [w.name for w in plan.install], finder, place)
        packages = [pkg for _, pkg in to_install]
        new = {pkg.name: pkg for pkg in packages}
        if request.dry_run:
            _report_problems(request, lock, wanted, new, installed, None, place)
            would = f"install {count(len(packages), 'package')}"
            say(f"Would uninstall {len(remove)} and {would} (dry run)" if remove else f"Would {would} (dry run)")
            _print_changes(remove, packages)
            say_kept(kept, lock.packages)
            return 0
        _fetch_and_verify(client, [item for item, _ in to_install], new)
        with progress:
            trees = installer.prepare(finder, packages, progress)
        fetched_at = time.perf_counter()
        _report_problems(request, lock, wanted, new, installed, trees, place)
        with progress:
            installer.link(finder, target, remove, packages, trees, progress)
        done = time.perf_counter()
        say(f"Prepared {count(len(trees), 'package')} in {human_time(fetched_at - read_at)}")
        if remove:
            say(f"Uninstalled {count(len(remove), 'package')}")
        say(f"Installed {count(len(packages), 'package')} in {human_time(done - fetched_at)}")
        _print_changes(remove, packages)
        say_kept(kept, lock.packages)
        return 0
    finally:
        installer.close()
        client.close()


# -- from lock entries to what to install ------------------------------------------------------


def _wanted(
    lock: Lock,
    finder: SourceFinder,
    installer: Installer,
    installed: Mapping[str, InstalledDist],
    installed_urls: Mapping[str, str | None],
) -> list[Wanted[LockedPackage]]:
    """Each locked package with its name, version and (direct references) identity: what the
    plan compares with the environment, before anything is looked up on an index."""
    out = []
    for item in lock.packages:
        if item.kind != DIRECT:
            version = item.version
            if version is None:  # (PEP 751 allows leaving it out)
                assert item.filename is not None
                version = str(_version_from_filename(item.filename))
            out.append(Wanted(item.name, version, item))
            continue
        assert item.url is not None
        name = item.name or finder.name_of(item.url)
        probe = ResolvedPackage(name, Version("0"), file=None, url=item.url, is_direct=True)
        identity = installer.identity(finder, probe)
        version = item.version
        if version is None and is_wheel_url(item.url):
            version = str(_version_from_filename(url_file(item.url).filename))
        if version is None:
            # Unknown until built: the same source as installed keeps the installed version.
            have = installed.get(name)
            same = have is not None and identity is not None and installed_urls.get(name) == identity
            version = have.version if same and have is not None else ""
        out.append(Wanted(name, version, item, identity))
    return out


def _to_install(
    lock: Lock, items: Sequence[LockedPackage], names: Sequence[str], finder: SourceFinder, place: Place
) -> list[tuple[LockedPackage, ResolvedPackage]]:
    """The one thing to install for each of ``items`` (named ``names``), in lock order: an
    index pin's file chosen as `install` chooses (tags, then build number; its hashes must
    match), a pylock file as listed, a direct reference as given."""
    from satchel.resolve.candidates import EXCLUDED_HASH, FileParser, FilePolicy, select_files

    interp = place.interpreter
    for item in items:
        if item.kind == PIN:
            finder.prefetch(item.name)
    ranks: dict[str, int] = {}
    for rank, tag in enumerate(interp.tags):
        ranks.setdefault(tag, rank)
    python = Version(interp.version_str)
    parser = FileParser(ranks, python)
    out = []
    for item, name in zip(items, names, strict=True):
        if item.kind == PIN:
            assert item.version is not None
            formats = lock.parsed.allowed_formats(item.name)
            policy = FilePolicy(
                tag_ranks=ranks,
                python_version=python,
                allow_wheels="binary" in formats,
                allow_sdists="source" in formats,
                hashes=frozenset(item.hashes),
            )
            files = select_files(item.name, finder.find_files(item.name), policy, parser)
            pinned = Version(item.version)
            entry = next((files.entry(i) for i, v in enumerate(files.versions) if v == pinned), None)
            file = entry.file or entry.yanked_file if entry is not None else None
            if file is None:
                if entry is not None and any(e.kind == EXCLUDED_HASH for e in entry.excluded):
                    detail = next(str(e) for e in entry.excluded if e.kind == EXCLUDED_HASH)
                    raise HashMismatchError(
                        f"{item.where}: hash mismatch for {item.label}: {detail}",
                        hint="the index serves other files than the lock was made with; "
                        "nothing in the environment was changed",
                    )
                why = "; ".join(str(e) for e in entry.excluded) if entry is not None else ""
                raise SatchelError(
                    f"{item.where}: no file of {item.label} for {place.label}"
                    + (f" ({why})" if why else " on the index"),
                    hint="the lock was made for another environment, or with another index",
                )
            pkg = ResolvedPackage(
                name, pinned, file=file, url=None, is_direct=True, extras=tuple(sorted(item.extras)),
                hashes=item.hashes,
            )
        elif item.kind == FILE:
            assert item.url is not None and item.filename is not None
            hashes: dict[str, str] = {}
            for h in item.hashes:
                algo, _, digest = h.partition(":")
                hashes.setdefault(algo, digest)
            file = IndexFile(item.filename, item.url, hashes=hashes, size=item.size)
            version = Version(item.version) if item.version else _version_from_filename(item.filename)
            pkg = ResolvedPackage(name, version, file=file, url=None, is_direct=True, hashes=item.hashes)
        else:
            assert item.kind == DIRECT and item.url is not None
            if item.version is not None:
                version = Version(item.version)
            elif is_wheel_url(item.url):
                version = _version_from_filename(url_file(item.url).filename)
            else:
                version = finder.get_direct_metadata(name, item.url).version
            pkg = ResolvedPackage(
                name, version, file=None, url=item.url, is_direct=True, extras=tuple(sorted(item.extras)),
                hashes=item.hashes,
            )
        out.append((item, pkg))
    return out


def _version_from_filename(filename: str) -> Version:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    if filename.endswith(".whl"):
        return parse_wheel_filename(filename)[1]
    return parse_sdist_filename(filename)[1]


def _index_options(request: SyncRequest, settings: Settings, lock: Lock) -> IndexOptions:
    from satchel.commands.indexes import index_options
    from satchel.commands.request import IndexChoice

    choice = IndexChoice(
        index_url=request.index_url,
        extra_index_urls=request.extra_index_urls,
        find_links=request.find_links,
        no_index=request.no_index,
    )
    # A lock whose files all have URLs needs no index unless one is named.
    needs_index = any(p.kind == PIN for p in lock.packages)
    return index_options(choice, settings, lock.parsed, needs_index=needs_index)



def _fetch_and_verify(
    client: IndexClient, items: Sequence[LockedPackage], packages: Mapping[str, ResolvedPackage]
) -> None:
    """Download every file to install (in parallel; cached files are not fetched again) and
    check each against its lock entry's size and hashes. The first failure, in lock order, is
    raised; nothing has been changed in the environment."""

    def one(item: LockedPackage) -> None:
        pkg = packages[item.name]
        if pkg.file is not None:
            file = pkg.file
        elif pkg.url is not None and not pkg.url.startswith("git+") and _is_archive_url(pkg.url):
            file = url_file(pkg.url)
        else:
            return  # a directory or a VCS checkout: nothing with a digest to check
        try:
            path = client.download(pkg.name, file)
        except HashMismatchError as exc:
            raise HashMismatchError(
                f"{item.where}: {exc.message}",
                hint="the file changed since the lock was made, or the lock is wrong; "
                "nothing in the environment was changed",
            ) from None
        if item.size is not None:
            size = os.path.getsize(path)
            if size != item.size:
                raise HashMismatchError(
                    f"{item.where}: size mismatch for {file.filename}: the lock has {item.size} bytes, "
                    f"the file has {size}",
                    hint="the file changed since the lock was made, or the lock is wrong; "
                    "nothing in the environment was changed",
                )
        _check_hashes(item, file, path)

    with ThreadPoolExecutor(max(1, min(FETCH_WORKERS, len(items))), thread_name_prefix="satchel-verify") as pool:
        futures = [pool.submit(one, item) for item in items]
        for future in futures:
            future.result()


def _is_archive_url(url: str) -> bool:
    from satchel.requirements.urls import is_archive_name, url_filename

    return is_archive_name(url_filename(url))


def _check_hashes(item: LockedPackage, file: IndexFile, path: Path) -> None:
    """``path`` has, for some algorithm the lock names, one of the digests it allows (and
    every algorithm the lock names for a pylock entry: PEP 751 lists one digest each)."""
    if not item.hashes:
        return
    allowed: dict[str, set[str]] = {}
    for h in item.hashes:
        algo, _, digest = h.partition(":")
        allowed.setdefault(algo, set()).add(digest)
    for algo in sorted(allowed):
        actual = file.sha256 if algo == "sha256" and file.sha256 else _digest(path, algo)
        if actual not in allowed[algo]:
            expected = " or ".join(sorted(allowed[algo]))
            raise HashMismatchError(
                f"{item.where}: hash mismatch for {file.filename}: the lock has {algo} {expected}, "
                f"the file has {algo} {actual}",
                hint="the file changed since the lock was made, or the lock is wrong; "
                "nothing in the environment was changed",
            )
        if item.kind == PIN:
            return  # a requirements line: one matching algorithm is enough, as for pip


def _digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_removable(remove: Sequence[InstalledDist]) -> None:
    for dist in remove:
        record = dist.record_path
        if record is None or not record.is_file():
            by = dist.installer or "another tool"
            raise InstallError(
                f"cannot uninstall {dist.display_name} {dist.version}: no RECORD file (installed by {by})",
                hint="remove it by hand or with the tool that installed it; nothing was changed",
            )


# -- is the lock complete? ---------------------------------------------------------------------


def _report_problems(
    request: SyncRequest,
    lock: Lock,
    wanted: Sequence[Wanted[LockedPackage]],
    new: Mapping[str, ResolvedPackage],
    installed: Mapping[str, InstalledDist],
    trees: Mapping[str, Tree] | None,
    place: Place,
) -> None:
    """Warn (--strict: fail) about dependencies the lock misses. Metadata comes from the
    unpacked wheels (``trees``) of what is installed now, from the environment for what is
    kept; with ``trees`` None (a dry run) packages not installed yet are not checked."""
    dists: dict[str, Dist] = {}
    for w in wanted:
        pkg = new.get(w.name)
        requires: tuple[str, ...] = ()
        provides: tuple[str, ...] | None = None
        version = str(pkg.version) if pkg is not None else w.version
        tree = trees.get(w.name) if trees is not None else None
        if tree is not None:
            requires, provides = _tree_metadata(tree)
        elif pkg is None:
            have = installed.get(w.name)
            if have is not None:
                requires = tuple(have.requires_dist)
                provides = tuple(have.provides_extra)
                version = have.version
        dists[w.name] = Dist(version, requires, frozenset(w.item.extras), provides)
    for unknown in unprovided_extras(dists, place.markers):  # (a warning, as pip's and uv's)
        log.warning("%s", unknown)
    found = problems(dists, place.markers)
    if not found:
        return
    if request.strict:
        raise SatchelError(
            f"{lock.files[0] if len(lock.files) == 1 else 'the lock'} is incomplete: {found[0]}"
            + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
            hint="compile the lock again; without --strict this is a warning",
        )
    for problem in found:
        log.warning("%s", problem)


def _tree_metadata(tree: Tree) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Requires-Dist and Provides-Extra of an unpacked wheel (None for the second: unknown)."""
    for entry in os.scandir(tree.path):
        if entry.name.endswith(".dist-info") and entry.is_dir():
            path = Path(entry.path) / "METADATA"
            try:
                meta = parse_metadata(path.read_bytes(), source=str(path))
            except (OSError, SatchelError):
                return (), None
            return meta.requires_dist, tuple(meta.provides_extra)
    return (), None


# -- output ------------------------------------------------------------------------------------


def _print_changes(removed: Sequence[InstalledDist], added: Sequence[ResolvedPackage]) -> None:
    lines = [(d.name, f" - {d.name}=={d.version}") for d in removed]
    lines += [(p.name, f" + {p.name}=={p.version}") for p in added]
    for _, line in sorted(lines, key=lambda t: (t[0], t[1].startswith(" +"))):
        say(line)


__all__ = ["install_locked"]
