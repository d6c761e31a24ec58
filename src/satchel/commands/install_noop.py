"""`satchel install` when everything asked for is installed already, without the install command.

Called by the CLI before ``satchel.commands.install`` is imported: the index client, the resolver
and the installer cost more to import than this whole check. Keep this module's imports light.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from satchel.commands.replaying import Replaying
    from satchel.commands.request import InstallRequest
    from satchel.python.facts import ProbeFacts
    from satchel.settings import Settings
    from satchel.standards.narrow import NarrowRequirement


def install_if_nothing_to_do(
    request: InstallRequest, settings: Settings, facts: ProbeFacts | None = None
) -> int | None:
    """`satchel install` when everything asked for is installed already: the exit status after
    printing what the full install prints then, or None to run the full install.

    This runs before ``satchel.commands.install`` is even imported (the index client, the
    resolver and the installer cost more to import than the whole check): it reads the
    requirements, finds the target from the interpreter cache, lists what is installed and asks
    ``satchel.install.satisfied`` whether resolving would keep exactly that. It only skips work:
    anything it cannot model (URLs, paths, editables, hashes, -U/-P, --reinstall, --target,
    --config-settings, a pyproject.toml whose dependencies are dynamic), any doubt, and any error, falls through to the full install, which then
    does and says what it always did. SATCHEL_NO_FAST_PATH=1 turns it off. ``facts``: the
    target's, when ``plain_noop`` found them already (the target is looked for once).
    """
    import logging
    import time

    if (
        not settings.fast_path
        or request.upgrade
        or request.upgrade_packages
        or request.reinstall
        or request.require_hashes
        or request.requirements.editables
        or request.target is not None
        or request.config_settings
        or request.prefix is not None
        or request.user
        or request.root is not None
        or request.report  # written by the full install
        or request.only_final  # the installed version may be a pre-release
        or request.dynamic  # -r pyproject.toml with dynamic dependencies: the build backend knows them
        or request.build_constraint  # -b files: read (and checked) by the full install
    ):
        return None
    log = logging.getLogger("satchel")
    started = time.perf_counter()
    if request.exclude_newer is not None:
        from satchel.commands.timeflags import parse_exclude_newer
        from satchel.errors import SatchelError

        try:
            parse_exclude_newer(request.exclude_newer)
        except SatchelError:
            return None  # the full install reports it
    try:
        found = _nothing_to_do(request, settings, facts)
    except Exception as exc:  # the full install meets the same problem and reports it properly
        log.debug("no-op check: %s: %s; resolving", type(exc).__name__, exc)
        return None
    if found is None:
        return None
    return _say_nothing_to_do(*found, started)


def _say_nothing_to_do(
    names: tuple[str, ...], versions: tuple[str, ...], label: str, started: float
) -> int:
    """What the full install prints when it keeps everything."""
    import logging

    from satchel.commands.say import say, say_timed
    from satchel.units import count

    log = logging.getLogger("satchel")
    log.debug("all requirements already satisfied by the installed packages; nothing to resolve")
    say_timed(f"Resolved {count(len(names), 'package')} in ", started)
    for name, version in zip(names, versions, strict=True):
        log.debug("%s==%s is already installed; keeping it", name, version)
    say(f"Nothing to do: {count(len(names), 'package')} already installed in {label}")
    return 0


#: ``satchel install`` options the plain no-op needs at their defaults: with any other value
#: the request checks it, or the no-op check declines (``install_if_nothing_to_do``).
_PLAIN_DEFAULTS: dict[str, object] = {
    "editable": [],
    "extra": [],
    "all_extras": False,
    "group": [],
    "upgrade": False,
    "upgrade_package": [],
    "reinstall": False,
    "require_hashes": False,
    "target": None,
    "prefix": None,
    "user": False,
    "root": None,
    "report": None,
    "exclude_newer": None,
    "only_final": [],
    "all_releases": [],
    "only_binary": [],
    "no_binary": [],
    "config_settings": [],
    "no_build_isolation_package": [],
    "build_constraint": [],
    "index_url": None,
    "extra_index_url": [],
    "find_links": [],
}
_UNSET = object()


def plain_noop(
    args: argparse.Namespace,
    settings: Settings,
    replaying: Replaying | None = None,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[int | None, ProbeFacts | None]:
    """``install_if_nothing_to_do`` for a command line and requirement files in the narrow form
    (``satchel.requirements.plain``), run before ``InstallRequest`` is built and without
    packaging: (the exit status after printing what the full install prints when it keeps
    everything, None), or (None, the target's facts if it found them) when anything is not in
    that form, not certainly satisfied (``satchel.install.satisfied_narrow``) or goes wrong --
    then the request is built and ``install_if_nothing_to_do`` (given those facts, so the
    target is looked for once, and says what it says once) decides, as it always did.
    ``replaying``: told everything the answer depends on (:mod:`satchel.commands.replaying`).
    ``meanwhile``: called while the target is probed, when it has to be (``get_facts``)."""
    import time

    started = time.perf_counter()
    if not settings.fast_path or any(
        getattr(args, key, _UNSET) != value for key, value in _PLAIN_DEFAULTS.items()
    ):
        return None, None
    import os

    from satchel.requirements.plain import read_plain

    if replaying is not None:
        for name in (*args.requirement, *args.constraint):
            replaying.file(os.path.join(os.getcwd(), name))
    try:
        read = read_plain(args.requirements, args.requirement, args.constraint, os.getcwd())
    except Exception:
        return None, None
    if read is None or not read[0]:
        return None, None
    with _HeldLog() as held:
        try:
            facts = _target_facts(
                args.python, args.system, settings, replaying, meanwhile=meanwhile
            )
        except Exception:  # the full check meets it again, and says what it says then
            held.drop()
            return None, None
    if facts is None:
        return None, None
    if facts.externally_managed is not None:  # PEP 668: the full install decides
        return None, facts
    try:
        found = _plainly_nothing_to_do(read[0], read[1], facts, args, settings, replaying)
    except Exception:
        return None, facts
    if found is None:
        return None, facts
    return _say_nothing_to_do(*found, facts.prefix, started), None


def _plainly_nothing_to_do(
    roots: list[NarrowRequirement],
    constraints: list[NarrowRequirement],
    facts: ProbeFacts,
    args: argparse.Namespace,
    settings: Settings,
    replaying: Replaying | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    from satchel.install.installed import list_installed, site_packages_dirs
    from satchel.install.satisfied_narrow import plainly_satisfied

    if replaying is not None:  # (before they are read: see Replaying.finish)
        for directory in site_packages_dirs(facts.paths):
            replaying.stat(directory)
        if not args.no_index:
            replaying.index_config()
    listed = list_installed(facts.paths)
    if replaying is not None:  # (their metadata is read from here on)
        for dist in listed:
            if dist.dist_info.is_dir():
                replaying.stat(dist.dist_info)  # (an entry added, removed or renamed moves it)
            for path in dist.metadata_files:
                replaying.file(path)
    installed = {d.name: d for d in listed}
    kept = plainly_satisfied(
        roots,
        installed,
        facts.markers,
        facts.version_str,
        constraints=constraints,
        no_deps=args.no_deps,
    )
    if kept is not None and not args.no_index:
        _read_index_config(None, settings)  # (raising: the full check reads it again)
    return kept


def _nothing_to_do(
    request: InstallRequest, settings: Settings, facts: ProbeFacts | None
) -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
    """(names, versions, environment) when the install would change nothing, else None."""
    import logging

    from satchel.install.installed import list_installed
    from satchel.install.satisfied import check

    log = logging.getLogger("satchel")
    parsed = request.requirements
    specs = [*parsed.requirements, *parsed.constraints]
    if (
        not parsed.requirements
        or parsed.require_hashes
        or parsed.only_final
        or any(s.editable or s.url or s.hashes or s.requirement is None for s in specs)
    ):
        log.debug("no-op check: URL, editable or hashed requirements; resolving")
        return None
    if facts is None:
        facts = _target_facts(request.python, request.system, settings)
        if facts is None:
            return None
    if facts.externally_managed is not None and not request.break_system_packages:
        log.debug("no-op check: the target is externally managed (PEP 668); the full install decides")
        return None
    installed = {d.name: d for d in list_installed(facts.paths)}
    outcome = check(
        [s.requirement for s in parsed.requirements if s.requirement is not None],
        installed,
        facts.markers,
        facts.version_str,
        constraints=[s.requirement for s in parsed.constraints if s.requirement is not None],
        no_deps=request.no_deps,
    )
    if not outcome:
        log.debug("no-op check: %s; resolving", outcome.reason)
        return None
    if not (request.index.no_index or parsed.no_index):
        _read_index_config(request.index.index_url or parsed.index_url, settings)
    return outcome.names, outcome.versions, facts.prefix


def _target_facts(
    python: str | None,
    system: bool,
    settings: Settings,
    replaying: Replaying | None = None,
    *,
    meanwhile: Callable[[], object] | None = None,
) -> ProbeFacts | None:
    """The target's probe facts (probed and stored on a miss); None when the cache is read-only
    or could not store them. Raises what finding the target raises. ``replaying``: told what
    decided the target, and the records read. ``meanwhile``: called while a probe runs."""
    from pathlib import Path

    from satchel.commands.common import open_cache
    from satchel.python.cached import get_facts
    from satchel.python.discover import find_target

    # The cache is only read here (the target's probe facts), so it is not held in use. What it
    # warns about is held back: dropped when the full install is going to say it again (a
    # read-only cache; a probe it could not store), else said as the full install would.
    with _HeldLog() as held:
        cache = open_cache(settings, remote=False)
        try:
            if cache.read_only:
                held.drop()
                return None
            if replaying is not None:
                replaying.watch(cache)
            exe = find_target(python, system=system, cwd=Path.cwd(), cache=cache)
            if replaying is not None:
                replaying.target(python, system, exe)
            facts = get_facts(exe, cache, meanwhile=meanwhile)
            if cache.degraded:
                held.drop()
                return None
        finally:
            if replaying is not None:
                replaying.unwatch(cache)
            cache.close()
    return facts


def _read_index_config(index_url: str | None, settings: Settings) -> None:
    """The full install reads the index configuration even when it needs no index: its
    warnings and errors must not go missing here. Raises what it raises."""
    from satchel.index.config import load_index_config

    with _HeldLog() as held:
        try:
            load_index_config(index_url=index_url, env_index_url=settings.index_url)
        except Exception:
            held.drop()  # the full install warns and fails the same way
            raise


class _HeldLog:
    """Holds back what satchel logs inside the ``with`` block, and logs it on the way out,
    unless ``drop()`` was called."""

    def __init__(self) -> None:
        import logging

        self.logger = logging.getLogger("satchel")
        self.records: list[logging.LogRecord] = []
        self.keep = True
        records = self.records

        class Hold(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(record)

        self.hold = Hold()

    def drop(self) -> None:
        self.keep = False

    def __enter__(self) -> _HeldLog:
        self.saved = self.logger.handlers[:]
        self.logger.handlers[:] = [self.hold]
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.handlers[:] = self.saved
        if self.keep:
            for record in self.records:
                self.logger.handle(record)
