"""`satchel install`: requirements -> resolve -> plan -> fetch -> link."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache import buckets
from satchel.cache.store import Cache, Tree
from satchel.cli.output import human_time
from satchel.cli.progress import Progress
from satchel.commands.common import cache_in_use, open_cache
from satchel.errors import HashMismatchError, SatchelError
from satchel.index.client import IndexClient, IndexOptions
from satchel.index.metadata import CoreMetadata
from satchel.install.installed import InstalledDist, list_installed
from satchel.install.plan import Wanted, make_plan
from satchel.python.interpreter import Interpreter
from satchel.requirements.models import ParsedRequirements, RequirementSpec
from satchel.resolve import ResolvedPackage, ResolveOptions, RootRequirement, resolve
from satchel.settings import Settings

log = logging.getLogger("satchel")


@dataclass
class Target:
    interpreter: Interpreter
    paths: dict[str, str]
    label: str


def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.requirements.parser import parse_command_line

    started = time.perf_counter()
    parsed = parse_command_line(
        args.requirements,
        editables=args.editable,
        requirement_files=args.requirement,
        constraint_files=args.constraint,
        base_dir=Path.cwd(),
    )
    if not parsed.requirements:
        raise SatchelError(
            "no requirements given", hint="name packages, or pass -r requirements.txt"
        )
    _refuse_unsupported(parsed)
    cache = open_cache(settings)
    try:
        with cache_in_use(cache):
            return _install(args, settings, cache, parsed, started)
    finally:
        cache.close()


def _refuse_unsupported(parsed: ParsedRequirements) -> None:
    for spec in parsed.requirements:
        if spec.editable:
            raise SatchelError(
                f"{spec.source}: editable installs (-e {spec.line.removeprefix('-e').strip()}) "
                "are not supported yet"
            )
        if spec.name is None:
            raise SatchelError(
                f"{spec.source}: cannot tell the project name of {spec.line!r} yet",
                hint="write it as `name @ URL`",
            )


def _target(args: argparse.Namespace, cache: Cache) -> Target:
    from satchel.python.cached import get_interpreter
    from satchel.python.discover import find_target

    if args.target is not None:
        exe = find_target(args.python, system=args.python is None, cwd=Path.cwd(), cache=cache)
        interp = get_interpreter(exe, cache)
        root = args.target.absolute()
        paths = {
            "purelib": str(root),
            "platlib": str(root),
            "scripts": str(root / "bin"),
            "data": str(root),
            "headers": str(root / "include"),
        }
        return Target(interp, paths, str(root))
    exe = find_target(args.python, system=args.system, cwd=Path.cwd(), cache=cache)
    interp = get_interpreter(exe, cache)
    return Target(interp, dict(interp.paths), interp.prefix)


def _index_options(args: argparse.Namespace, settings: Settings, parsed: ParsedRequirements) -> IndexOptions:
    from satchel.index.config import load_index_config

    no_index = args.no_index or parsed.no_index
    find_links = [*args.find_links, *parsed.find_links]
    if no_index:
        indexes: list[str] = []
    else:
        config = load_index_config(index_url=args.index_url or parsed.index_url)
        extras = [*args.extra_index_url, *parsed.extra_index_urls]
        if not extras and not args.index_url and not parsed.index_url:
            extras = list(config.extra_index_urls)
        if not find_links and not args.index_url:
            find_links = list(config.find_links)
        indexes = [config.index_url, *[u for u in extras if u != config.index_url]]
    upgrade_all = bool(args.upgrade)
    upgrade_names = frozenset(str(canonicalize_name(n)) for n in args.upgrade_package)

    def refresh(name: str) -> bool:
        # Like uv: asking for the newest version (-U, -P NAME) revalidates those index pages,
        # rather than trusting a page cached up to --ttl ago.
        return settings.must_refresh(name) or upgrade_all or name in upgrade_names

    return IndexOptions(
        index_urls=indexes,
        find_links=find_links,
        offline=settings.offline,
        ttl=settings.index_ttl,
        refresh=refresh,
        timeout=settings.timeout,
    )


def _roots(specs: Iterable[RequirementSpec]) -> list[RootRequirement]:
    out = []
    for spec in specs:
        assert spec.requirement is not None
        out.append(RootRequirement(spec.requirement, url=spec.url, source=spec.source, hashes=spec.hashes))
    return out


def _names(values: Iterable[str], parsed: set[str]) -> frozenset[str]:
    out = set(parsed)
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part in (":all:", ":none:"):
                if part == ":none:":
                    out.clear()
                else:
                    out.add(":all:")
            elif part:
                out.add(str(canonicalize_name(part)))
    return frozenset(out)


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
                requires_python=dist.metadata.get("Requires-Python"),
                provides_extra=tuple(dist.metadata.get_all("Provides-Extra") or ()),
            )
        except ValueError:
            return None

    return lookup


def _install(
    args: argparse.Namespace, settings: Settings, cache: Cache, parsed: ParsedRequirements, started: float
) -> int:
    target = _target(args, cache)
    installed = {d.name: d for d in list_installed(target.paths)}
    # Like pip: a --hash on any requirement turns on hash-checking mode for all of them.
    require_hashes = (
        args.require_hashes or parsed.require_hashes or any(s.hashes for s in parsed.requirements)
    )
    if require_hashes:
        _check_hashes_given(parsed.requirements)
    client = IndexClient(
        cache,
        _index_options(args, settings, parsed),
        installed_metadata=_installed_metadata(installed),
    )
    try:
        options = ResolveOptions(
            pre=args.pre or parsed.pre,
            upgrade=args.upgrade,
            upgrade_packages=frozenset(str(canonicalize_name(n)) for n in args.upgrade_package),
            installed={} if args.reinstall else _installed_versions(installed.values()),
            no_deps=args.no_deps,
            only_binary=_names(args.only_binary, set(parsed.only_binary)),
            no_binary=_names(args.no_binary, set(parsed.no_binary)),
        )
        resolution = resolve(
            _roots(parsed.requirements),
            finder=client,
            interpreter=target.interpreter,
            constraints=_roots(parsed.constraints),
            options=options,
        )
        for warning in resolution.warnings:
            log.warning("%s", warning)
        resolved_at = time.perf_counter()
        _say(f"Resolved {len(resolution)} packages in {human_time(resolved_at - started)}")
        if require_hashes:
            _check_all_hashed(resolution.values())
        # direct_url.json records URLs without their #sha256=... fragment: compare them so.
        wanted = [
            Wanted(pkg.name, str(pkg.version), pkg, pkg.url.split("#", 1)[0] if pkg.url else None)
            for pkg in resolution.values()
        ]
        installed_urls = {n: (d.direct_url or {}).get("url") for n, d in installed.items()}
        plan = make_plan(wanted, installed, reinstall=args.reinstall, installed_urls=installed_urls)
        for w in plan.keep:
            log.debug("%s==%s is already installed; keeping it", w.name, w.version)
        for dist in plan.remove:
            log.debug("%s==%s is installed; replacing it", dist.name, dist.version)
        if plan.empty:
            _say(f"Nothing to do: {len(plan.keep)} packages already installed in {target.label}")
            return 0
        if args.dry_run:
            _say(f"Would install {len(plan.install)} packages (dry run)")
            _print_changes(plan.remove, [w.item for w in plan.install])
            return 0
        progress = Progress(enabled=sys.stderr.isatty() and not settings.quiet)
        with progress:
            trees = _fetch(cache, client, [w.item for w in plan.install], progress)
            fetched_at = time.perf_counter()
            _link(args, cache, client, target, plan.remove, [w.item for w in plan.install], trees, progress)
        done = time.perf_counter()
        _say(f"Prepared {len(trees)} packages in {human_time(fetched_at - resolved_at)}")
        _say(f"Installed {len(plan.install)} packages in {human_time(done - fetched_at)}")
        _print_changes(plan.remove, [w.item for w in plan.install])
        return 0
    finally:
        client.close()


def _installed_versions(dists: Iterable[InstalledDist]) -> dict[str, Version]:
    out = {}
    for d in dists:
        try:
            out[d.name] = Version(d.version)
        except ValueError:
            continue
    return out


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


def _print_changes(removed: Sequence[InstalledDist], added: Sequence[ResolvedPackage]) -> None:
    lines = [(d.name, f" - {d.name}=={d.version}") for d in removed]
    lines += [(p.name, f" + {p.name}=={p.version}") for p in added]
    for _, line in sorted(lines, key=lambda t: (t[0], t[1].startswith(" +"))):
        _say(line)


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


def _allowed(pkg: ResolvedPackage, sha256: str) -> None:
    if not pkg.hashes:
        return
    allowed = {h.split(":", 1)[1].lower() for h in pkg.hashes if h.lower().startswith("sha256:")}
    if sha256.lower() not in allowed:
        raise HashMismatchError(
            f"{pkg.name}=={pkg.version}: {pkg.file.filename if pkg.file else pkg.url} has sha256 "
            f"{sha256}, which is not among the --hash values given",
        )


# -- fetch and link ------------------------------------------------------------------------------


def _fetch(
    cache: Cache, client: IndexClient, packages: list[ResolvedPackage], progress: Progress
) -> dict[str, Tree]:
    """Make sure every package's wheel is unpacked in the cache; in parallel."""
    if not packages:
        return {}
    task = progress.task("Preparing", total=len(packages))

    def prepare(pkg: ResolvedPackage) -> tuple[str, Tree]:
        tree = _tree_for(cache, client, pkg)
        task.advance()
        return pkg.name, tree

    workers = min(8, len(packages))
    with ThreadPoolExecutor(workers, thread_name_prefix="satchel-fetch") as pool:
        results = list(pool.map(prepare, packages))
    task.finish()
    return dict(results)


def _file_of(pkg: ResolvedPackage) -> Any:
    from satchel.index.models import IndexFile

    if pkg.file is not None:
        return pkg.file
    assert pkg.url is not None
    filename = pkg.url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    from satchel.index.client import _fragment_hashes

    return IndexFile(filename=filename, url=pkg.url.split("#", 1)[0], hashes=_fragment_hashes(pkg.url))


def _tree_for(cache: Cache, client: IndexClient, pkg: ResolvedPackage, *, fresh: bool = False) -> Tree:
    from satchel.install.unpack import unpack_wheel

    file = _file_of(pkg)
    if not file.is_wheel:
        raise SatchelError(f"{file.filename}: building source distributions is not supported yet")
    sha = file.sha256
    if sha and not fresh:
        _allowed(pkg, sha)
        tree = cache.get_tree(buckets.ARCHIVES, f"{pkg.name}/{sha}")
        if tree is not None and tree.manifest.source == file.filename:
            log.debug("%s: unpacked wheel from cache", file.filename)
            return tree
    path = client.download(pkg.name, file)
    from satchel.cache.store import sha256_of

    actual = sha or sha256_of(path)
    _allowed(pkg, actual)
    return cache.build_tree(
        buckets.ARCHIVES,
        f"{pkg.name}/{actual}",
        lambda dest: unpack_wheel(path, dest, expected_name=pkg.name, expected_version=str(pkg.version)),
        source=file.filename,
    )


def _link(
    args: argparse.Namespace,
    cache: Cache,
    client: IndexClient,
    target: Target,
    remove: Sequence[InstalledDist],
    packages: Sequence[ResolvedPackage],
    trees: dict[str, Tree],
    progress: Progress,
) -> None:
    from satchel.install.link import Linker
    from satchel.install.uninstall import uninstall
    from satchel.install.wheel import install_tree

    linker = Linker(args.link_mode or os.environ.get("SATCHEL_LINK_MODE", "hardlink"))
    if cache.read_only and not args.link_mode:
        # Files of a cache we may not write often cannot be hardlinked either (owned by another
        # user: fs.protected_hardlinks; immutable; another mount). The read-only notice already
        # said why the cache is used differently: fall back to copies without a second warning.
        linker.fallback_reason = "the cache is read-only"
    for dist in remove:
        uninstall(dist, target.paths, prefix=target.label if args.target is None else None)
    task = progress.task("Installing", total=len(packages))
    for pkg in packages:
        task.advance()
        direct_url = _direct_url(pkg, trees[pkg.name])
        for attempt in range(2):
            try:
                install_tree(
                    trees[pkg.name],
                    paths=target.paths,
                    interpreter_executable=target.interpreter.executable,
                    linker=linker,
                    requested=pkg.is_direct,
                    direct_url=direct_url,
                    compile_bytecode=args.compile_bytecode,
                    python_version=target.interpreter.version,
                )
                break
            except FileNotFoundError:
                # The cache entry vanished under us (a forced `cache clean`): unpack it again.
                if attempt:
                    raise
                log.warning("cache entry for %s disappeared while installing; unpacking it again", pkg.name)
                trees[pkg.name] = _tree_for(cache, client, pkg, fresh=True)


def _direct_url(pkg: ResolvedPackage, tree: Tree | None = None) -> dict[str, Any] | None:
    """PEP 610 ``direct_url.json`` for a URL or path install, with the archive's sha256: from
    the URL's fragment or index, else from the cache key the unpacked tree is stored under
    (``<name>/<sha256>``, see ``_tree_for``)."""
    if pkg.url is None:
        return None
    url = pkg.url.split("#", 1)[0]
    info: dict[str, Any] = {}
    sha = _file_of(pkg).sha256
    if not sha and tree is not None:
        key = tree.path.parent.name
        if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
            sha = key
    if sha:
        info = {"hash": f"sha256={sha}", "hashes": {"sha256": sha}}
    return {"url": url, "archive_info": info}
