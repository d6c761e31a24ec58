"""Typed requests: what a command was asked to do, built once from the parsed command line.

The CLI's ``argparse.Namespace`` stops here: the commands (and everything below them) take these
frozen records instead. Each field has a default, so adding an option is one field here, one line
in ``from_args``, and the code that uses it.

Kept light to import: the no-op install builds an :class:`InstallRequest` before anything heavy
is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from satchel.errors import SatchelError
from satchel.requirements.options import PROJECT_NAME, name_list_hint, name_list_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable
    from typing import Any

    from satchel.commands.project_sources import DynamicProject
    from satchel.requirements.models import ParsedRequirements


@dataclass(frozen=True)
class IndexChoice:
    """Which indexes and find-links the command line named (-i, --extra-index-url, -f,
    --no-index). Requirement files and pip's configuration add theirs later."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> IndexChoice:
        """The options as given, each URL checked up front (as pip and uv do): a malformed
        one is an error even when nothing needs the index."""
        choice = cls(
            index_url=getattr(args, "index_url", None),
            extra_index_urls=tuple(getattr(args, "extra_index_url", ())),
            find_links=tuple(getattr(args, "find_links", ())),
            no_index=bool(getattr(args, "no_index", False)),
        )
        if choice.index_url is not None:
            check_url("--index-url", choice.index_url)
        for url in choice.extra_index_urls:
            check_url("--extra-index-url", url)
        for location in choice.find_links:
            # A directory or an HTML file, else a URL.
            if "://" in location or location.lower().startswith("file:"):
                check_url("--find-links", location)
        return choice


def check_url(option: str, url: str) -> None:
    """A clear error for an option's value that is not a usable http(s):// or file: URL."""
    from satchel.settings import url_problem

    problem = url_problem(url)
    if problem:
        raise SatchelError(
            f"{option} {url!r} is not a URL: {problem}",
            hint=f"for example {option} https://host/simple"
            if option != "--find-links"
            else "pass a directory, an HTML file, or an http(s):// or file:// URL",
        )


def _empty_requirements() -> ParsedRequirements:
    from satchel.requirements.models import ParsedRequirements

    return ParsedRequirements()


@dataclass(frozen=True)
class InstallRequest:
    """`satchel install`: the requirements (command line, -r, -c, -e; files read once, here)
    and every option that changes what is installed, or where, or how.

    ``upgrade_packages``, ``only_binary`` and ``no_binary`` hold the option values as given
    (names, or ``:all:``/``:none:``); the install canonicalizes and merges them with the
    requirement files' own options.

    ``-r pyproject.toml`` and ``--group [PATH:]NAME`` are read here too: their static
    requirements are in ``requirements``; a project whose dependencies are dynamic is in
    ``dynamic``, for the install to ask its build backend. ``extras``, ``all_extras`` and
    ``groups`` are the options as given.
    """

    requirements: ParsedRequirements = field(default_factory=_empty_requirements)
    extras: tuple[str, ...] = ()  # --extra NAME (of the -r pyproject.toml files)
    all_extras: bool = False
    groups: tuple[str, ...] = ()  # --group [PATH:]NAME, as given
    dynamic: tuple[DynamicProject, ...] = ()  # -r pyproject.toml files only the backend can read
    from_projects: bool = False  # any -r pyproject.toml or --group: no requirements is no error
    # where
    python: str | None = None
    system: bool = False
    break_system_packages: bool = False  # --break-system-packages (PEP 668)
    target: Path | None = None
    # what
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    reinstall: bool = False
    no_deps: bool = False
    pre: bool = False
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    require_hashes: bool = False
    dry_run: bool = False
    # how
    index: IndexChoice = IndexChoice()
    link_mode: str | None = None  # None: the settings' (SATCHEL_LINK_MODE), else hardlink
    compile_bytecode: bool = False
    config_settings: tuple[tuple[str, str], ...] = ()  # --config-settings KEY=VALUE, in order
    build_isolation: bool = True
    # pip's and uv's everyday flags (docs/commands.md)
    prefix: Path | None = None  # --prefix DIR
    user: bool = False  # --user
    root: Path | None = None  # --root DIR
    report: str | None = None  # --report FILE ('-': standard output)
    exclude_newer: str | None = None  # --exclude-newer / --uploaded-prior-to, as given
    prefer_binary: bool = False
    all_releases: tuple[str, ...] = ()  # --all-releases NAMES, as given
    only_final: tuple[str, ...] = ()  # --only-final NAMES, as given
    no_require_hashes: bool = False
    build_constraint: tuple[str, ...] = ()  # -b/--build-constraint FILE
    no_build_isolation_package: tuple[str, ...] = ()
    progress: bool = True  # False: --progress-bar off (pip's)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> InstallRequest:
        """The request the command line makes; reads the requirement files (errors name
        file:line) and checks the option values."""
        from satchel.requirements.parser import parse_command_line

        pyprojects = [f for f in args.requirement if Path(f).name == "pyproject.toml"]
        extras = tuple(getattr(args, "extra", ()))
        all_extras = bool(getattr(args, "all_extras", False))
        groups = tuple(getattr(args, "group", ()))
        parsed = parse_command_line(
            args.requirements,
            editables=args.editable,
            requirement_files=[f for f in args.requirement if f not in pyprojects],
            constraint_files=args.constraint,
            base_dir=Path.cwd(),
        )
        dynamic: tuple[DynamicProject, ...] = ()
        if pyprojects or groups or extras or all_extras:
            from satchel.commands.project_sources import read_project_sources
            from satchel.requirements.models import ParsedRequirements
            from satchel.requirements.parser import merge_requirements

            found = read_project_sources(pyprojects, groups, extras, all_extras)
            parsed = merge_requirements([parsed, ParsedRequirements(requirements=list(found.specs))])
            dynamic = found.dynamic
        return cls(
            requirements=parsed,
            extras=extras,
            all_extras=all_extras,
            groups=groups,
            dynamic=dynamic,
            from_projects=bool(pyprojects or groups),
            python=args.python,
            system=args.system,
            break_system_packages=getattr(args, "break_system_packages", False),
            target=args.target,
            **_upgrades(args, parsed),
            reinstall=args.reinstall,
            no_deps=args.no_deps,
            pre=args.pre,
            only_binary=tuple(format_control("--only-binary", args.only_binary)),
            no_binary=tuple(format_control("--no-binary", args.no_binary)),
            require_hashes=args.require_hashes,
            dry_run=args.dry_run,
            index=IndexChoice.from_args(args),
            link_mode=args.link_mode,
            compile_bytecode=args.compile_bytecode,
            config_settings=tuple(config_pairs(args.config_settings, "--config-settings")),
            build_isolation=not args.no_build_isolation,
            prefix=args.prefix,
            user=args.user,
            root=args.root,
            report=args.report,
            exclude_newer=args.exclude_newer,
            prefer_binary=args.prefer_binary,
            all_releases=tuple(format_control("--all-releases", args.all_releases)),
            only_final=tuple(format_control("--only-final", args.only_final)),
            no_require_hashes=args.no_require_hashes,
            build_constraint=tuple(args.build_constraint),
            no_build_isolation_package=tuple(
                project_names("--no-build-isolation-package", args.no_build_isolation_package)
            ),
            progress=getattr(args, "progress_bar", None) != "off",
        )




def _upgrades(args: argparse.Namespace, parsed: ParsedRequirements) -> dict[str, Any]:
    """``upgrade`` and ``upgrade_packages`` from -U, -P and --upgrade-strategy. pip's
    only-if-needed is -P for every named requirement: they move to their newest allowed
    versions, their dependencies only where the new versions need it."""
    named = tuple(project_names("--upgrade-package", args.upgrade_package))
    if args.upgrade and getattr(args, "upgrade_strategy", None) == "only-if-needed":
        roots = tuple(spec.name for spec in parsed.requirements if spec.name is not None)
        return {"upgrade": False, "upgrade_packages": named + roots}
    return {"upgrade": args.upgrade, "upgrade_packages": named}


def project_names(option: str, values: Iterable[str]) -> list[str]:
    """Project names given to ``option``, each checked (PEP 508 names)."""
    out = []
    for value in values:
        if not re.fullmatch(PROJECT_NAME, value, re.IGNORECASE):
            raise SatchelError(
                f"{option} {value!r}: not a project name",
                hint="project names are letters, digits and . _ - (for example my-package)",
            )
        out.append(value)
    return out


def format_control(option: str, values: Iterable[str]) -> list[str]:
    """Values of the options that take comma-separated project names, ``:all:`` or ``:none:``
    (--only-binary, --no-binary, --all-releases, --only-final: :data:`NAME_LIST_OPTIONS`),
    checked. Empty items between commas are skipped (pip ignores them); a value with no item
    at all (``''``, ``',,'``) says nothing, and is an error, as it is for uv."""
    values = list(values)
    for value in values:
        problem = name_list_problem(value)
        if problem is not None:
            raise SatchelError(f"{option} {value!r}: {problem}", hint=name_list_hint(option))
    return values


#: The options :func:`format_control` checks, by their argparse ``dest``.
NAME_LIST_OPTIONS = ("only_binary", "no_binary", "all_releases", "only_final")


def check_name_lists(args: argparse.Namespace) -> None:
    """:func:`format_control` for each of :data:`NAME_LIST_OPTIONS` the command has (commands
    that resolve without an :class:`InstallRequest`: download, wheel, compile), before any work."""
    for dest in NAME_LIST_OPTIONS:
        format_control("--" + dest.replace("_", "-"), getattr(args, dest, ()))


def check_index_options(args: argparse.Namespace) -> IndexChoice:
    """The index options of a command that reads the index only with another option (list and
    tree with --outdated, venv with --seed): the URLs and --exclude-newer are checked whenever
    they are given, used or not (uv checks them the same way)."""
    from satchel.commands.timeflags import exclude_newer_of

    choice = IndexChoice.from_args(args)
    exclude_newer_of(args)
    return choice


def config_pairs(values: Iterable[str], option: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` option values as pairs; a clear error for anything else."""
    out = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise SatchelError(
                f"{option} {value!r}: expected KEY=VALUE", hint=f"for example {option} editable_mode=compat"
            )
        out.append((key, val))
    return out


def name_set(values: Iterable[str], parsed: set[str]) -> frozenset[str]:
    """Canonical project names (or ":all:") from ``--only-binary``-style option values added to
    ``parsed``; ``:none:`` clears what came before."""
    from packaging.utils import canonicalize_name

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
