"""The `satchel` command line: parse arguments, set up output, run one command."""

from __future__ import annotations

import os
import sys

from satchel import __version__

# Nothing else at import time: `satchel --version` needs nothing more (typing, argparse and
# pathlib are imported where used; the argument parsers are in parsers.py, imported when built).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from satchel.cache.replays import Broken
    from satchel.commands.replaying import Replaying
    from satchel.settings import Settings


COMMANDS = {
    "install": "satchel.commands.install",
    "sync": "satchel.commands.sync",
    "uninstall": "satchel.commands.uninstall",
    "list": "satchel.commands.listing",
    "freeze": "satchel.commands.listing",
    "show": "satchel.commands.show",
    "check": "satchel.commands.check",
    "hash": "satchel.commands.hashes",
    "venv": "satchel.commands.venv",
    "cache": "satchel.commands.cache",
    "compile": "satchel.commands.compile",
    "tree": "satchel.commands.tree",
    "index": "satchel.commands.index",
    "download": "satchel.commands.download",
    "wheel": "satchel.commands.download",
}


#: The commands whose runs may be replayed (satchel.commands.replaying says when).
REPLAYABLE = ("install", "compile")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser (:func:`satchel.cli.parsers.build_parser`, imported only when a
    parser is built: ``satchel --version`` needs none)."""
    from satchel.cli.parsers import build_parser

    return build_parser(only)


def run() -> None:
    """The ``satchel`` program (its console script and ``python -m satchel``): :func:`main`,
    then :func:`satchel.cli.leave.leave`, which exits without tearing the interpreter down."""
    from satchel.cli.leave import leave  # (before main(): see leave)

    leave(main(keep_compiled_code=True))


def main(argv: Sequence[str] | None = None, *, keep_compiled_code: bool = False) -> int:
    """Run one command line; its exit status. ``keep_compiled_code`` (the program's, not every
    caller's): what it compiles while it starts (dataclass methods, annotations, regular
    expressions) is read from, and kept in, a table beside satchel's bytecode
    (``satchel.cli.compiled_code``), and the modules of ``satchel.cli.deferred`` are imported
    when first used."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:
        sys.stdout.write(f"satchel {__version__}\n")
        return 0
    if args_list and args_list[0] in REPLAYABLE:
        # The same command line, in the same place and environment, with nothing it read
        # changed since its last run: that run's outcome again (satchel.cache.replays).
        from satchel.cache.replays import replay

        found = replay(args_list, os.environ)
        if isinstance(found, int):
            return found
        broken = found
    else:
        broken = None
    import gc

    collecting = gc.isenabled()
    threshold = gc.get_threshold()
    # Start-up (imports, argument parsing, a no-op install) allocates plenty and frees next to
    # nothing: cyclic garbage collection during it is wasted time (5 ms and more). It is on
    # again before a command does its real work (``_collect_for_work``).
    gc.disable()
    try:
        return _main(args_list, collecting, broken, keep_compiled_code)
    finally:
        # As it was (main() also runs inside other programs: the tests).
        gc.set_threshold(*threshold)
        gc.unfreeze()
        if collecting:
            gc.enable()


#: Young-generation threshold of the cyclic collector for a command's work (Python's default is
#: 700 on 3.11). Resolving and installing allocate millions of objects that live until the end
#: of the run (index pages, candidates, manifests): with the default, the collector walks them
#: over and over (about a sixth of the CPU of a warm install) and finds almost nothing.
GC_THRESHOLD = (20_000, 20, 100)


def _collect_for_work() -> None:
    """Turn cyclic garbage collection back on for a command's work: what start-up made (modules,
    classes, the parsed arguments) is frozen out of it, and collections come less often."""
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    gc.enable()


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the (sub)command ``args`` were parsed for: ``satchel cache prune``'s for
    ``satchel cache prune --bogus``."""
    import argparse

    current = parser
    while True:
        chosen = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                name = getattr(args, action.dest, None)
                chosen = action.choices.get(name) if name else None
        if chosen is None:
            return current
        current = chosen


def _main(
    args_list: list[str], collecting: bool, broken: Broken | None = None, keep_compiled_code: bool = False
) -> int:
    if keep_compiled_code:
        # (before the parser, satchel.settings and the command import or compile anything)
        from satchel.cli.deferred import DEFERRED, defer

        defer(*DEFERRED)
        from satchel.cli.compiled_code import install

        install()
    parser = build_parser(args_list[0] if args_list and args_list[0] in COMMANDS else None)
    args, extras = parser.parse_known_args(args_list)
    if extras:  # (said by the subcommand's parser: its hint names its own --help)
        _innermost(parser, args).error(f"unrecognized arguments: {' '.join(extras)}")
    if not args.command:
        parser.print_help()
        return 2
    if args.command == "cache" and not args.cache_command:
        parser.parse_args(["cache", "--help"])
    if args.command == "index" and not args.index_command:
        parser.parse_args(["index", "--help"])
    from satchel.cli.output import print_error, setup_logging
    from satchel.errors import SatchelError
    from satchel.settings import Settings, remote_config

    setup_logging(args.verbose, args.quiet)
    if broken is not None:
        from satchel.cache.replay_record import heal

        heal(broken)
    args.argv = args_list
    import importlib

    try:
        settings = Settings.from_environ(
            cache_dir=args.cache_dir,
            no_cache=args.no_cache,
            offline=getattr(args, "offline", False),
            refresh=getattr(args, "refresh", False),
            refresh_packages=frozenset(_canonical(n) for n in getattr(args, "refresh_package", [])),
            timeout=getattr(args, "timeout", 15.0),
            verbose=args.verbose,
            quiet=args.quiet,
            force=getattr(args, "force", False),
            remote=remote_config(
                getattr(args, "remote_cache", None),
                getattr(args, "remote_cache_mode", None),
                getattr(args, "remote_upload_wait", None),
            ),
        )
        if args.command == "install" and any(_may_be_pylock(f) for f in args.requirement or ()):
            # (satchel.commands.sync is not imported for the usual requirements files: the
            # no-op install does without it)
            from satchel.commands.sync import is_pylock_name, run_install

            if any(is_pylock_name(f) for f in args.requirement):
                return run_install(args, settings)
        if args.command in REPLAYABLE:
            return _replayable(args, settings, args_list, collecting)
        module = importlib.import_module(COMMANDS[args.command])
        if collecting:
            _collect_for_work()
        return int(module.run(args, settings))
    except SatchelError as exc:
        print_error(exc.message, exc.hint)
        return 1
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`satchel list | head`): stop quietly, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _may_be_pylock(path: str) -> bool:
    """True for every name ``satchel.commands.sync.is_pylock_name`` accepts (and a few more)."""
    return path.endswith(".toml") and "pylock" in path


def _replayable(
    args: argparse.Namespace, settings: Settings, args_list: list[str], collecting: bool
) -> int:
    """`satchel install` and `satchel compile`, making a replay of the run where they can."""
    from satchel.commands.replaying import Replaying, replayable

    replaying = Replaying(args_list, settings) if replayable(args.command, settings) else None
    try:
        if args.command == "install":
            return _install(args, settings, collecting, replaying)
        from satchel.commands import compile

        if collecting:
            _collect_for_work()
        return compile.run(args, settings, replaying)
    finally:
        if replaying is not None:
            replaying.abandon()


def _install(
    args: argparse.Namespace, settings: Settings, collecting: bool, replaying: Replaying | None
) -> int:
    """`satchel install`: the request is built once, then the no-op check, then (only when
    something is to be done) the full install is imported and run. Only the first no-op check
    (without packaging) makes replays."""
    from satchel.commands.install_noop import install_if_nothing_to_do, plain_noop

    # (without packaging, when it can tell; loading the full install while a probe runs)
    done, facts = plain_noop(args, settings, replaying, meanwhile=_load_full_install)
    if done is not None:
        if replaying is not None:
            replaying.finish(done)
        return done
    # Most likely something is to be installed: the link worker starts now, to be ready when
    # linking starts (satchel.install.link_worker).
    worker = None
    if not args.dry_run and settings.link_worker:
        from satchel.install.link_worker import LinkWorker

        worker = LinkWorker.start()
    try:
        from satchel.commands.request import InstallRequest

        request = InstallRequest.from_args(args)
        done = install_if_nothing_to_do(request, settings, facts)
        if done is not None:
            return done
        from satchel.commands import install

        if collecting:
            _collect_for_work()
        return install.run(request, settings, link_worker=worker)
    finally:
        if worker is not None:
            worker.close()


def _load_full_install() -> None:
    """Import what the full install runs on (the requirement parser, the index client, the
    resolver, the installer): the no-op check calls it while it probes a target satchel has no
    record of. Such a target is most likely about to be installed into, and the probe, a
    subprocess, leaves this process idle, with the other core busy, for about as long as these
    imports take (~40 ms here). A no-op found after all has paid for the imports only, and
    the replay of such a run is never stored (its interpreter record was written moments ago)."""
    import satchel.commands.install
    import satchel.commands.request  # noqa: F401


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    from satchel.commands.request import project_names

    project_names("--refresh-package", [name])
    return str(canonicalize_name(name))
