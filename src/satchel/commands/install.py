"""`satchel install`: requirements -> resolve -> plan -> fetch -> link."""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache.store import Cache
from satchel.commands.buildflags import build_options
from satchel.commands.common import auto_prune, cache_in_use, open_cache
from satchel.commands.managed import check_not_externally_managed
from satchel.commands.pipeline import Installer, Target, installed_identity
from satchel.commands.releases import release_control
from satchel.commands.remembering import ResolutionMemory
from satchel.commands.request import InstallRequest
from satchel.commands.request import name_set as _names
from satchel.commands.say import say
from satchel.commands.sources import BuildOptions, SourceFinder
from satchel.errors import HashMismatchError, SatchelError
from satchel.index.client import IndexClient, IndexOptions
from satchel.index.metadata import CoreMetadata
from satchel.install.installed import InstalledDist, list_installed
from satchel.install.link_worker import LinkWorker
from satchel.install.plan import Wanted, make_plan
from satchel.progress import Progress, Task
from satchel.python.interpreter import Interpreter
from satchel.requirements.models import ParsedRequirements, RequirementSpec
from satchel.resolve import ResolvedPackage, ResolveOptions, RootRequirement
from satchel.settings import Settings
from satchel.units import count, human_time

log = logging.getLogger("satchel")


def run(request: InstallRequest, settings: Settings, *, link_worker: LinkWorker | None = None) -> int:
    """``satchel install``. ``link_worker``: one started for this run already (the caller
    closes it); else the install starts its own."""
    started = time.perf_counter()
    parsed = request.requirements
    if not parsed.requirements and not request.dynamic and not request.from_projects:
        raise SatchelError(
            "no requirements given", hint="name packages, or pass -r requirements.txt"
        )
    cache = open_cache(settings)
    try:
        with cache_in_use(cache):
            code = _install(request, settings, cache, parsed, started, link_worker)
    finally:
        cache.close()
    auto_prune(settings)
    return code


def _target(request: InstallRequest, cache: Cache) -> Target:
    from satchel.python.cached import get_interpreter
    from satchel.python.discover import find_target

    if request.target is not None:
        if request.prefix is not None or request.user or request.root is not None:
            raise SatchelError("--target cannot be combined with --prefix, --user or --root")
        exe = find_target(request.python, system=request.python is None, cwd=Path.cwd(), cache=cache)
        interp = get_interpreter(exe, cache)
        root = request.target.absolute()
        _check_target_dir(root, create=not request.dry_run)
        paths = {
            "purelib": str(root),
            "platlib": str(root),
            "scripts": str(root / "bin"),
            "data": str(root),
            "headers": str(root / "include"),
        }
        return Target(interp, paths, str(root), is_directory=True)
    exe = find_target(request.python, system=request.system, cwd=Path.cwd(), cache=cache)
    interp = get_interpreter(exe, cache)
    if request.prefix is None and request.root is None and not (request.dry_run and request.report):
        # (as pip: --target, --prefix and --root write elsewhere; a dry run asking for a report
        # changes nothing)
        check_not_externally_managed(
            interp.executable, interp.externally_managed, allowed=request.break_system_packages
        )
    if request.prefix is None and not request.user and request.root is None:
        return Target(interp, dict(interp.paths), interp.prefix)
    return _scheme_target(request, interp)


def _scheme_target(request: InstallRequest, interp: Interpreter) -> Target:
    """--prefix DIR / --user / --root DIR: the scheme pip would compute in the target
    interpreter. What is installed there already (and only that) counts as installed, as with
    --target."""
    from satchel.python.scheme import rooted, scheme_of

    if request.user and request.prefix is not None:
        raise SatchelError("--user and --prefix cannot be combined: they imply different installation locations")
    if request.user or request.prefix is not None:
        scheme = scheme_of(interp.executable, prefix=request.prefix and request.prefix.absolute(), user=request.user)
        if request.user and scheme.venv_without_global:
            raise SatchelError(
                f"cannot perform a --user install: user site-packages are not visible in the virtual environment {interp.prefix}",
                hint="install into the environment itself (without --user)",
            )
        if request.user and not scheme.user_site_enabled:
            raise SatchelError(
                f"cannot perform a --user install: user site-packages are disabled for {interp.executable}"
            )
        paths = dict(scheme.paths)
    else:
        paths = dict(interp.paths)
    if request.root is not None:
        paths = rooted(paths, request.root.absolute())
    return Target(interp, paths, paths["data"], is_directory=True)


def _check_target_dir(root: Path, *, create: bool) -> None:
    """--target must be a directory satchel can write (made now, before anything is resolved or
    downloaded); with --dry-run it is only checked."""
    import errno
    import os

    def fail(reason: str) -> SatchelError:
        return SatchelError(
            f"cannot install into --target {root}: {reason}",
            hint="pass a writable directory (it is created when missing)",
        )

    if root.exists():
        if not root.is_dir():
            raise fail("it is not a directory")
        if not os.access(root, os.W_OK):
            raise fail("permission denied")
        return
    if not create:
        parent = root.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            raise fail(f"{parent} is not a directory")
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOTDIR:
            reason = "a parent is not a directory"
        raise fail(reason) from None


def _index_options(request: InstallRequest, settings: Settings, parsed: ParsedRequirements) -> IndexOptions:
    from satchel.commands.indexes import index_options
    from satchel.commands.timeflags import exclude_newer_of

    upgrade_all = request.upgrade
    upgrade_names = _canonical_names(request.upgrade_packages)

    def refresh(name: str) -> bool:
        # Like uv: asking for the newest version (-U, -P NAME) revalidates those index pages,
        # rather than trusting a page cached up to --ttl ago.
        return settings.must_refresh(name) or upgrade_all or name in upgrade_names

    return index_options(
        request.index, settings, parsed, refresh=refresh, exclude_newer=exclude_newer_of(request)
    )


def looked_up(
    request: InstallRequest, parsed: ParsedRequirements, installed: Mapping[str, InstalledDist]
) -> list[str]:
    """Root requirements the resolver will look up on the index whatever else it finds: named
    ones without a URL or a marker (which may leave them out on this target), not pinned to a
    URL by a constraint, and not installed already unless -U, -P or --reinstall asks again."""
    again = request.upgrade or request.reinstall
    upgrade_names = _canonical_names(request.upgrade_packages)
    pinned = {c.name for c in parsed.constraints if c.url is not None}
    names = []
    for spec in parsed.requirements:
        name = spec.name
        if name is None or spec.url is not None or spec.marker is not None or name in pinned:
            continue
        if name in installed and not (again or name in upgrade_names):
            continue
        names.append(name)
    return names


def _roots(specs: Iterable[RequirementSpec], finder: SourceFinder) -> list[RootRequirement]:
    out = []
    for spec in specs:
        requirement = spec.requirement
        if requirement is None:
            # A path or URL without a name: ask its source (static metadata, else the backend).
            assert spec.url is not None
            requirement = _named(spec, finder.name_of(spec.url))
        out.append(RootRequirement(requirement, url=spec.url, source=spec.source, hashes=spec.hashes))
    return out


def _named(spec: RequirementSpec, name: str) -> Requirement:
    extras = f"[{','.join(sorted(spec.extras))}]" if spec.extras else ""
    marker = f" ; {spec.marker}" if spec.marker is not None else ""
    return Requirement(f"{name}{extras} @ {spec.url}{marker}")


def _build_options(request: InstallRequest, run: Settings, parsed: ParsedRequirements) -> BuildOptions:
    return build_options(
        parsed,
        config_settings=request.config_settings,
        isolation=request.build_isolation,
        build_constraint_files=request.build_constraint,
        no_isolation=request.no_build_isolation_package,
        git_timeout=run.git_timeout,
    )


def _canonical_names(names: Iterable[str]) -> frozenset[str]:
    return frozenset(str(canonicalize_name(n)) for n in names)


def _installed_metadata(dists: dict[str, InstalledDist]) -> Any:
    def lookup(name: str) -> CoreMetadata | None:
        dist = dists.get(name)
        if dist is None:
            return None
        try:
            return CoreMetadata(
                name=dist.display_name,
                version=Version(dist.version),
                requires_dist=tuple(dist.requires_dist),
                requires_python=dist.requires_python,
                provides_extra=tuple(dist.provides_extra),
            )
        except ValueError:
            return None

    return lookup


def _install(
    request: InstallRequest,
    settings: Settings,
    cache: Cache,
    parsed: ParsedRequirements,
    started: float,
    link_worker: LinkWorker | None = None,
) -> int:
    target = _target(request, cache)
    installed = {d.name: d for d in list_installed(target.paths)}
    index_options = _index_options(request, settings, parsed)
    client = IndexClient(cache, index_options, installed_metadata=_installed_metadata(installed))
    memory = ResolutionMemory(cache, client, index_options, installed=installed)
    installer = Installer(
        cache,
        client,
        _build_options(request, settings, parsed),
        link_mode=request.link_mode,
        default_link_mode=settings.link_mode,
        compile_bytecode=request.compile_bytecode,
    )
    if not request.dry_run and settings.link_worker:
        installer.start_link_worker(link_worker)  # (ready when linking starts: link_worker.py)
    finder = installer.finder(target.interpreter)
    # (a cold run's first pages load while the resolver is set up: see prefetch_uncached)
    client.prefetch_uncached(looked_up(request, parsed, installed))
    progress = Progress(enabled=sys.stderr.isatty() and not settings.quiet and request.progress)
    try:
        if request.dynamic:
            # -r pyproject.toml with dynamic dependencies: the build backend's metadata says them
            from satchel.commands.project_sources import dynamic_requirements

            built = dynamic_requirements(request.dynamic, finder, target.interpreter.markers)
            parsed = dataclasses.replace(parsed, requirements=[*parsed.requirements, *built])
        # Like pip: a --hash on any requirement turns on hash-checking mode for all of them.
        # (--no-require-hashes, pip 26: a --hash checks that requirement only.)
        require_hashes = (
            request.require_hashes
            or parsed.require_hashes
            or (not (request.no_require_hashes or parsed.no_require_hashes) and any(s.hashes for s in parsed.requirements))
        )
        if require_hashes:
            _check_hashes_given(parsed.requirements)
        options = ResolveOptions(
            pre=request.pre or parsed.pre,
            upgrade=request.upgrade,
            upgrade_packages=_canonical_names(request.upgrade_packages),
            # -U upgrades everything the requirements pull in (like uv); -P NAME just those.
            installed={} if request.reinstall or request.upgrade else _installed_versions(installed.values()),
            no_deps=request.no_deps,
            only_binary=_names(request.only_binary, set(parsed.only_binary)),
            no_binary=_names(request.no_binary, set(parsed.no_binary)),
            prefer_binary=request.prefer_binary or parsed.prefer_binary,
            all_releases=release_control(request, parsed)[0],
            only_final=release_control(request, parsed)[1],
        )
        with progress:
            resolving = progress.task("Resolving")
            finder.on_project = lambda name: resolving.advance()
            resolution = memory.resolve(
                _roots(parsed.requirements, finder),
                finder=finder,
                interpreter=target.interpreter,
                constraints=_roots(parsed.constraints, finder),
                options=options,
            )
            resolving.finish()
        for warning in resolution.warnings:
            log.warning("%s", warning)
        resolved_at = time.perf_counter()
        say(f"Resolved {count(len(resolution), 'package')} in {human_time(resolved_at - started)}")
        if require_hashes:
            _check_all_hashed(resolution.values())
        # Direct references are kept only when installed from the same place (same URL; for
        # git the same commit); local directories and sdists are always reinstalled, like pip.
        wanted = [
            Wanted(pkg.name, str(pkg.version), pkg, installer.identity(finder, pkg))
            for pkg in resolution.values()
        ]
        installed_urls = {n: installed_identity(d.direct_url) for n, d in installed.items()}
        plan = make_plan(wanted, installed, reinstall=request.reinstall, installed_urls=installed_urls)
        for w in plan.keep:
            log.debug("%s==%s is already installed; keeping it", w.name, w.version)
        for dist in plan.remove:
            log.debug("%s==%s is installed; replacing it", dist.name, dist.version)
        if plan.empty:
            if request.report:
                _report(request, installer, finder, target, parsed, [], {})
            say(f"Nothing to do: {count(len(plan.keep), 'package')} already installed in {target.label}")
            return 0
        if request.dry_run:
            if request.report:
                _report(request, installer, finder, target, parsed, [w.item for w in plan.install], None)
            say(f"Would install {count(len(plan.install), 'package')} (dry run)")
            _print_changes(plan.remove, [w.item for w in plan.install])
            return 0
        with progress:
            client.on_download = _download_bar(progress)
            trees = installer.prepare(finder, [w.item for w in plan.install], progress)
            fetched_at = time.perf_counter()
            installer.link(finder, target, plan.remove, [w.item for w in plan.install], trees, progress)
        done = time.perf_counter()
        say(f"Prepared {count(len(trees), 'package')} in {human_time(fetched_at - resolved_at)}")
        say(f"Installed {count(len(plan.install), 'package')} in {human_time(done - fetched_at)}")
        _print_changes(plan.remove, [w.item for w in plan.install])
        if request.report:
            _report(request, installer, finder, target, parsed, [w.item for w in plan.install], trees)
        return 0
    finally:
        installer.close()
        client.close()
        memory.close()


def _report(
    request: InstallRequest,
    installer: Installer,
    finder: SourceFinder,
    target: Target,
    parsed: ParsedRequirements,
    packages: Sequence[ResolvedPackage],
    trees: dict[str, Any] | None,
) -> None:
    """pip's installation report of ``packages`` (``trees``: their unpacked wheels, None for a
    dry run: index wheels' METADATA is then read as the resolver read it, the rest prepared)."""
    from satchel.commands.report import (
        archive_hashes,
        dist_info_metadata,
        index_download_info,
        requested_extras_of,
        write_report,
    )

    def metadata_of(pkg: ResolvedPackage) -> bytes:
        tree = trees.get(pkg.name) if trees is not None else None
        if tree is None and pkg.file is not None and pkg.file.is_wheel:
            return installer.client.metadata_bytes(pkg.name, pkg.file)
        if tree is None:
            tree = installer.tree_for(finder, pkg)
        return dist_info_metadata(tree.path, (f.path for f in tree.manifest.files))

    def download_info_of(pkg: ResolvedPackage) -> dict[str, Any]:
        if pkg.url is None:
            return index_download_info(pkg)
        tree = trees.get(pkg.name) if trees is not None else None
        info = installer.direct_url(finder, pkg, tree) or {}
        if "archive_info" in info and not info["archive_info"]:
            # An archive whose digest nobody gave (a local file, a URL without #sha256=):
            # hashed here, as pip hashes it for the report.
            info["archive_info"] = archive_hashes(_archive_path(installer, finder, pkg))
        return info

    assert request.report is not None
    write_report(
        request.report,
        sorted(packages, key=lambda p: p.name),
        metadata_of=metadata_of,
        download_info_of=download_info_of,
        requested_extras=requested_extras_of(parsed.requirements),
        markers=target.interpreter.markers,
    )


def _archive_path(installer: Installer, finder: SourceFinder, pkg: ResolvedPackage) -> Path:
    """The local file of a direct archive reference (downloaded into the cache if need be)."""
    from satchel.commands.sources import is_wheel_url, url_file

    assert pkg.url is not None
    if is_wheel_url(pkg.url):
        return installer.client.download(pkg.name, url_file(pkg.url))
    return Path(finder.source_of(pkg.name, None, pkg.url).location)


def _download_bar(progress: Progress) -> Callable[[int | None, int], None] | None:
    """A "Downloading" bar in bytes and rate, opened by the first download (none when every
    file is cached)."""
    if not progress.enabled:
        return None
    lock = threading.Lock()
    bar: list[Task] = []

    def report(total: int | None, amount: int) -> None:
        with lock:
            if not bar:
                bar.append(progress.task("Downloading", total=0, unit="bytes"))
        if total:
            bar[0].add_total(total)
        if amount:
            bar[0].advance(amount)

    return report


def _installed_versions(dists: Iterable[InstalledDist]) -> dict[str, Version]:
    out = {}
    for d in dists:
        try:
            out[d.name] = Version(d.version)
        except ValueError:
            continue
    return out


def _print_changes(removed: Sequence[InstalledDist], added: Sequence[ResolvedPackage]) -> None:
    lines = [(d.name, f" - {d.name}=={d.version}") for d in removed]
    lines += [(p.name, f" + {p.name}=={p.version}") for p in added]
    for _, line in sorted(lines, key=lambda t: (t[0], t[1].startswith(" +"))):
        say(line)


# -- hashes --------------------------------------------------------------------------------------


def _check_hashes_given(specs: Sequence[RequirementSpec]) -> None:
    for spec in specs:
        if not spec.hashes:
            raise HashMismatchError(
                f"{spec.source}: {spec.line!r} has no --hash (hashes are required)",
                hint="add --hash=sha256:... for every requirement (a --hash on any line, or "
                "--require-hashes, turns on hash checking for all of them)",
            )
        pinned = spec.url is not None or any(s.operator in ("==", "===") for s in spec.specifier)
        if not pinned:
            raise HashMismatchError(
                f"{spec.source}: {spec.line!r} must be pinned with == when hashes are required"
            )


def _check_all_hashed(packages: Iterable[ResolvedPackage]) -> None:
    for pkg in packages:
        if not pkg.installed and not pkg.hashes:
            raise HashMismatchError(
                f"{pkg.name}=={pkg.version} has no --hash, and hashes are required",
                hint="pin every dependency with its hashes (e.g. pip-compile --generate-hashes)",
            )
