"""`satchel compile`: sources -> resolve (install's resolver, index client and cache) -> a lock
(requirements.txt in pip-compile's form, or a PEP 751 pylock.toml), on stdout or in a file."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache.store import Cache
from satchel.commands.common import cache_in_use, open_cache
from satchel.commands.compile_lock import LockBuilder, package_markers
from satchel.commands.compile_sources import Sources, existing_pins, read_sources
from satchel.commands.install import _build_options, _index_options, _names, _roots, looked_up
from satchel.commands.pipeline import Installer
from satchel.commands.remembering import ResolutionMemory
from satchel.commands.replaying import Replaying
from satchel.commands.request import (
    IndexChoice,
    InstallRequest,
    check_name_lists,
    config_pairs,
    project_names,
)
from satchel.commands.say import say, say_timed
from satchel.errors import InterpreterError, SatchelError
from satchel.index.client import IndexClient, IndexOptions
from satchel.lock.models import PYLOCK_TOML, Lock, LockedPackage, lock_format
from satchel.python.interpreter import Interpreter
from satchel.requirements.models import ParsedRequirements
from satchel.requirements.pyproject import requirements_from_metadata, split_group
from satchel.requirements.urls import path_to_url, redact
from satchel.resolve import ResolveOptions, RootRequirement
from satchel.settings import Settings
from satchel.units import count

log = logging.getLogger("satchel")

#: Options that change nothing in the lock, left out of the header's command line.
_QUIET_FLAGS = {"-v", "--verbose", "-q", "--quiet", "--dry-run", "--no-cache", "--offline", "--refresh"}
_QUIET_VALUED = {"--cache-dir", "--refresh-package", "--timeout"}


def run(args: argparse.Namespace, settings: Settings, replaying: Replaying | None = None) -> int:
    """``replaying``: told everything the lock depends on, and stored when the run ends well
    (:mod:`satchel.commands.replaying`)."""
    started = time.perf_counter()
    _pip_compile_options(args)
    project_names("--no-emit-package", args.no_emit_package)  # (checked before any work)
    check_name_lists(args)
    _check_target(args)
    output = None if args.output_file in (None, "-") else Path(args.output_file)
    fmt = lock_format(args.format, output)
    cwd = Path.cwd()
    if replaying is not None:
        _note_files(replaying, args, output, cwd)
    sources = read_sources(args, cwd)
    if output is not None:
        _refuse_overwriting_a_source(output, sources, cwd)
    if replaying is not None:
        _note_sources(replaying, args, settings, sources)
    cache = open_cache(settings)
    try:
        with cache_in_use(cache):
            if replaying is not None:
                replaying.watch(cache)
            status = _compile(args, settings, cache, sources, output, fmt, started, replaying)
    finally:
        cache.close()
    if replaying is not None:
        replaying.finish(status)
    return status


def _check_target(args: argparse.Namespace) -> None:
    """--python-version and --python-platform, checked when given (an empty value too, as uv
    refuses it) before any work."""
    from satchel.python.target import parse_platform, parse_python_version

    if args.python_version is not None:
        parse_python_version(args.python_version)
    if args.python_platform is not None:
        parse_platform(args.python_platform)


def _refuse_overwriting_a_source(output: Path, sources: Sources, cwd: Path) -> None:
    """The output file must be none of the files the sources were read from (a requirements,
    constraints or pyproject.toml file, included ones too): writing the lock there would lose
    them (pip-compile refuses the same)."""
    target = os.path.realpath(cwd / output)
    read = [name for name, _ in sources.parsed.read]
    read += [os.fspath(cwd / p.path) for p in (*sources.projects, *(d.project for d in sources.dynamic))]
    for name in read:
        if os.path.realpath(cwd / name) == target:
            raise SatchelError(
                f"the output file {output} is also a source ({name}): writing the lock there would lose it",
                hint="name another output file with -o/--output-file",
            )


def _note_files(replaying: Replaying, args: argparse.Namespace, output: Path | None, cwd: Path) -> None:
    """The files named on the command line, before they are read: the sources (or those
    pip-compile's default looks for), the groups' pyproject.toml files, the output file (its
    pins are the preferences), and pip's configuration."""
    if not args.src:
        for name in ("requirements.in", "pyproject.toml"):  # (default_sources looks for them)
            replaying.file(cwd / name)
    for src in args.src:
        replaying.file(cwd / src)
    for value in args.group:
        group_file, _name = split_group(value)
        if group_file is not None:
            replaying.file(cwd / group_file)
    if output is not None:
        replaying.file(output)
    replaying.index_config()


def _note_sources(replaying: Replaying, args: argparse.Namespace, settings: Settings, sources: Sources) -> None:
    """What the sources read: every requirements file with the digest of the bytes read
    (included ones too). Declines what a replay cannot describe."""
    if args.upgrade or args.upgrade_package or settings.refresh or settings.refresh_packages:
        replaying.decline("-U, -P or --refresh asks the index again")
    if args.exclude_newer is not None:
        replaying.decline("--exclude-newer may name a time relative to now")
    if sources.dynamic:
        replaying.decline("a project's metadata comes from its build backend")
    for name, digest in sources.parsed.read:
        replaying.read(name, digest)


def _pip_compile_options(args: argparse.Namespace) -> None:
    """pip-compile's options that change nothing here: a warning each, so a script moved from
    pip-tools keeps working and says what it asks for in vain. ``--resolver legacy`` asks for
    what satchel does not have: an error."""
    if args.resolver == "legacy":
        raise SatchelError(
            "--resolver legacy: satchel has only a backtracking resolver",
            hint="drop the option (--resolver backtracking is what satchel does)",
        )
    no_effect = {
        "--allow-unsafe": (args.allow_unsafe, "pip, setuptools and wheel are pinned like any other package"),
        "--resolver": (args.resolver is not None, "satchel's resolver always backtracks"),
        "--reuse-hashes" if args.reuse_hashes else "--no-reuse-hashes": (
            args.reuse_hashes is not None,
            "hashes always come from the index, never from the output file",
        ),
        "--max-rounds": (args.max_rounds is not None, "the resolver has no round limit"),
    }
    for option, (given, why) in no_effect.items():
        if given:
            log.warning("pip-compile's %s has no effect: %s", option, why)


def _base_interpreter(args: argparse.Namespace, cache: Cache, replaying: Replaying | None = None) -> Interpreter:
    """-p, else the active or nearby virtual environment, else the Python satchel runs on."""
    from satchel.python.cached import get_interpreter
    from satchel.python.discover import find_target

    cwd = Path.cwd()
    if args.python is not None:
        exe = find_target(args.python, system=False, cwd=cwd, cache=cache)
        if replaying is not None:
            replaying.target(args.python, False, exe)
        return get_interpreter(exe, cache)
    try:
        exe = find_target(None, system=False, cwd=cwd, cache=cache)
        if replaying is not None:
            replaying.target(None, False, exe)
    except InterpreterError:
        exe = Path(sys.executable)
        if replaying is not None:
            replaying.running_python()
    return get_interpreter(exe, cache)


def _compile(
    args: argparse.Namespace,
    settings: Settings,
    cache: Cache,
    sources: Sources,
    output: Path | None,
    fmt: str,
    started: float,
    replaying: Replaying | None,
) -> int:
    from satchel.python.target import parse_platform, parse_python_version, target_environment

    parsed = sources.parsed
    request = _install_request(args, parsed)
    index_options = _index_options(request, settings, parsed)
    client = IndexClient(cache, index_options)
    try:
        # A cold compile's first pages load while the interpreter is found and the resolver
        # set up (see prefetch_uncached).
        client.prefetch_uncached(looked_up(request, parsed, {}))
        base = _base_interpreter(args, cache, replaying)
        resolving_for = base
        description = ""
        if args.python_version is not None or args.python_platform is not None:
            target = target_environment(
                base,
                python_version=parse_python_version(args.python_version) if args.python_version is not None else None,
                platform=parse_platform(args.python_platform) if args.python_platform is not None else None,
            )
            resolving_for = target.interpreter(base)
            description = f" for {target.description}"
    except BaseException:
        client.close()
        raise
    memory = ResolutionMemory(cache, client, index_options)
    build = _build_options(request, settings, parsed)
    installer = Installer(cache, client, build)
    # Builds (sdist metadata, dynamic projects) run in the real interpreter; the resolver
    # answers for the target.
    finder = installer.finder(base)
    try:
        specs = list(parsed.requirements)
        roots = _roots(specs, finder)
        labels: dict[str, set[str]] = {}
        root_edges: list[tuple[str, str | None]] = []  # (name, marker) for package_markers
        pylock = fmt == PYLOCK_TOML
        for spec, root in zip(specs, roots, strict=True):
            labels.setdefault(root.name, set()).add(sources.label(spec))
            condition = sources.condition(spec) if pylock else None
            marker = root.requirement.marker
            root_edges.append((root.name, _and_markers(str(marker) if marker else None, condition)))
        for dynamic in sources.dynamic:
            project = dynamic.project
            url = path_to_url(project.directory)
            name = project.name or finder.name_of(url)
            meta = finder.get_direct_metadata(name, url)
            extras = meta.provides_extra if dynamic.all_extras else dynamic.extras
            for spec in requirements_from_metadata(
                meta.requires_dist, extras, resolving_for.markers, source=dynamic.label, project_name=name
            ):
                assert spec.requirement is not None
                root = RootRequirement(spec.requirement, url=spec.url, source=spec.source)
                roots.append(root)
                labels.setdefault(root.name, set()).add(dynamic.label)
                marker = root.requirement.marker
                root_edges.append((root.name, str(marker) if marker else None))
        if not roots:
            raise SatchelError("the sources name no requirements", hint="add requirements to the source files")
        constraint_specs = list(parsed.constraints)
        constraints = _roots(constraint_specs, finder)
        for spec, c in zip(constraint_specs, constraints, strict=True):
            labels.setdefault(c.name, set()).add(sources.label(spec))
        upgrade_names, pinned_upgrades = _upgrade_packages(args.upgrade_package)
        constraints += pinned_upgrades
        preferred: dict[str, Version] = {}
        if output is not None and not args.upgrade:
            preferred = {
                n: v for n, v in existing_pins(output, fmt).items() if n not in upgrade_names
            }
        options = ResolveOptions(
            pre=args.pre or parsed.pre,
            only_binary=_names(args.only_binary, set(parsed.only_binary)),
            no_binary=_names(args.no_binary, set(parsed.no_binary)),
            preferred=preferred,
        )
        resolution = memory.resolve(
            roots, finder=finder, interpreter=resolving_for, constraints=constraints, options=options
        )
        for warning in resolution.warnings:
            log.warning("%s", warning)
        say_timed(f"Resolved {count(len(resolution), 'package')}{description} in ", started)

        builder = LockBuilder(
            installer,
            finder,
            resolving_for.markers,
            index_urls=index_options.index_urls,
            editables=build.editables,
            find_links=index_options.find_links,
            # a requirements.txt without hashes names versions only: no page need be read
            with_files=pylock or bool(args.generate_hashes),
        )
        metadata = {name: builder.metadata(pkg) for name, pkg in resolution.items()}
        markers = package_markers(resolution, root_edges, metadata, resolving_for.markers)
        constrained = {c.name for c in constraints}
        omitted = {str(canonicalize_name(n)) for n in args.no_emit_package}
        packages = []
        for name, pkg in resolution.items():
            if name in omitted:
                continue
            via = set(labels.get(name, ())) if (name in resolution.roots or name in constrained) else set()
            via.update(resolution.dependents(name))
            via.discard(name)
            packages.append(
                builder.package(pkg, via=sorted(via, key=_via_order), marker=markers.get(name), metadata=metadata[name])
            )
        lock = _lock(args, sources, resolving_for, packages, index_options.index_urls, index_options.find_links)
        text = _render(lock, args, fmt, output)
    finally:
        client.close()
        memory.close()
    if replaying is not None:
        _note_resolution(replaying, memory, client, index_options, settings)
    if output is None or args.dry_run:
        sys.stdout.write(text)
        sys.stdout.flush()
        if replaying is not None:
            replaying.print(text)
        if args.dry_run and output is not None:
            say(f"Would write {output} (dry run)")
        return 0
    if replaying is not None:
        replaying.written(output, text.encode("utf-8"))
    _write(output, text)
    say(f"Wrote {count(len(packages), 'pin')} to {output}")
    return 0


def _note_resolution(
    replaying: Replaying,
    memory: ResolutionMemory,
    client: IndexClient,
    index_options: IndexOptions,
    settings: Settings,
) -> None:
    """The resolution depended on its inputs and records alone (else decline), for as long as
    the index pages it and the lock used stay fresh (unless offline)."""
    if not memory.repeatable:
        replaying.decline("the resolution read more than index pages and metadata")
    if index_options.find_links:
        replaying.decline("find-links locations are listed, not cached")
    if not settings.offline:
        replaying.expires(memory.expires_at)
        for freshness in client.page_freshness().values():
            replaying.expires(freshness.expires_at)


def _and_markers(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return f"({a}) and ({b})"


def _via_order(label: str) -> tuple[int, str]:
    return (0 if label.startswith("-") or " (" in label else 1, label)


def _upgrade_packages(values: list[str]) -> tuple[set[str], list[RootRequirement]]:
    """``-P NAME`` frees NAME's pin; ``-P NAME==1.2`` (pip-compile's form) also constrains it."""
    names: set[str] = set()
    constraints: list[RootRequirement] = []
    for value in values:
        try:
            req = Requirement(value)
        except ValueError:
            raise SatchelError(f"-P/--upgrade-package {value!r}: not a package name or requirement") from None
        names.add(str(canonicalize_name(req.name)))
        if req.specifier:
            constraints.append(RootRequirement(req, source="-P/--upgrade-package"))
    return names, constraints


def _lock(
    args: argparse.Namespace,
    sources: Sources,
    interp: Interpreter,
    packages: list[LockedPackage],
    index_urls: list[str],
    find_links: list[str],
) -> Lock:
    requires_python = None
    for project in sources.projects:
        if project.requires_python:
            requires_python = project.requires_python
    groups = sources.groups
    return Lock(
        packages=tuple(sorted(packages, key=lambda p: p.name)),
        command=args.custom_compile_command or command_line(args.argv),
        python=f"{interp.version[0]}.{interp.version[1]}",
        environment=dict(interp.markers),
        index_urls=tuple(redact(u) for u in index_urls),
        find_links=tuple(find_links),
        extras=sources.extras,
        groups=groups,
        default_groups=groups,
        requires_python=requires_python,
    )


def _render(lock: Lock, args: argparse.Namespace, fmt: str, output: Path | None) -> str:
    if fmt == PYLOCK_TOML:
        from satchel.lock import pylock

        out_dir = (output.absolute().parent if output is not None else Path.cwd())
        return pylock.render(lock, output_dir=out_dir, header=not args.no_header)
    from satchel.lock.requirements_txt import TxtOptions, render

    return render(
        lock,
        TxtOptions(
            header=not args.no_header,
            annotate=not args.no_annotate,
            annotation_style=args.annotation_style,
            hashes=args.generate_hashes,
            strip_extras=args.strip_extras,
            emit_index_url=args.emit_index_url,
            emit_find_links=args.emit_find_links and bool(lock.find_links),
        ),
    )


def command_line(argv: list[str]) -> str:
    """The command for the header: as given, minus what does not change the lock (verbosity,
    cache, --dry-run), URLs without credentials."""
    out = ["satchel"]
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        option = arg.split("=", 1)[0]
        if option in _QUIET_FLAGS:
            continue
        if option in _QUIET_VALUED:
            skip = "=" not in arg
            continue
        out.append(redact(arg))
    return " ".join(out)


def _write(output: Path, text: str) -> None:
    """Replace ``output`` atomically (a reader sees the old lock or the new one)."""
    import tempfile

    directory = output.absolute().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    except OSError as exc:
        raise SatchelError(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, output)
    except OSError as exc:
        os.unlink(tmp)
        raise SatchelError(f"cannot write {output}: {exc.strerror or exc}") from None


def _install_request(args: argparse.Namespace, parsed: ParsedRequirements) -> InstallRequest:
    """What install's index and build helpers need to know, from compile's options (-U and -P
    revalidate those index pages, and --exclude-newer is checked and drops newer files, as for
    install)."""
    return InstallRequest(
        requirements=parsed,
        python=args.python,
        upgrade=args.upgrade,
        upgrade_packages=tuple(
            str(canonicalize_name(re.split(r"[=<>!~\[; ]", v, maxsplit=1)[0]))
            for v in args.upgrade_package
        ),
        pre=args.pre,
        index=IndexChoice.from_args(args),
        config_settings=tuple(config_pairs(args.config_settings, "--config-settings")),
        build_isolation=not args.no_build_isolation,
        exclude_newer=args.exclude_newer,
    )
