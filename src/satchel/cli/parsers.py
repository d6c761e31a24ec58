"""The argparse definitions of every command, and the parser class they are built with.

Imported only when a command line is parsed (``satchel --version`` imports nothing but
``satchel.cli.main``), and only the given command's parser is built (:func:`build_parser`).
Nothing here is imported at module level beyond what ``main.py`` has: argparse, pathlib and
typing are imported where used.
"""

from __future__ import annotations

import os
import sys

from satchel import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Any, NoReturn


def _add_common(p: argparse.ArgumentParser) -> None:

    g = p.add_argument_group("output and cache")
    g.add_argument("-v", "--verbose", action="count", default=0, help="log every request, cache hit and decision")
    g.add_argument("-q", "--quiet", action="count", default=0, help="print only warnings and errors (-qq: only errors)")
    g.add_argument("--cache-dir", type=_path, help="cache directory (default: $SATCHEL_CACHE_DIR or the user cache dir)")
    g.add_argument("--no-cache", "--no-cache-dir", action="store_true", help="use a temporary cache for this run (--no-cache-dir: pip's name)")


def _add_remote(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("remote cache")
    g.add_argument("--remote-cache", metavar="URL", help="a shared cache: s3://BUCKET[/PREFIX], webdav+https://HOST/PATH or a read-only https:// mirror ($SATCHEL_REMOTE_CACHE)")
    g.add_argument("--remote-cache-mode", metavar="MODE", help="read (default) or read-write ($SATCHEL_REMOTE_CACHE_MODE)")
    g.add_argument("--remote-upload-wait", metavar="SECONDS", help="how long the end of a run waits for uploads (default 5)")


def _add_env(p: argparse.ArgumentParser) -> None:
    p.add_argument("-p", "--python", type=_nonempty, help="target interpreter: a path, a venv, or a version like 3.12")
    p.add_argument("--system", action="store_true", help="allow the system Python as the target")


def _add_break_system(p: argparse.ArgumentParser) -> None:
    p.add_argument("--break-system-packages", action="store_true", help="change an interpreter whose packages the operating system manages (PEP 668's EXTERNALLY-MANAGED file), like pip's and uv's flag")


def _add_index(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("index")
    g.add_argument("-i", "--index-url", help="base URL of the package index (simple API)")
    g.add_argument("--extra-index-url", action="append", default=[], help="more indexes, searched after --index-url")
    g.add_argument("--no-index", action="store_true", help="ignore indexes; use --find-links only")
    g.add_argument("-f", "--find-links", action="append", default=[], help="a directory or HTML page of distribution files")
    g.add_argument("--timeout", type=_positive_seconds, default=15.0, help="connect/read timeout in seconds (default 15)")
    g.add_argument("--offline", action="store_true", help="use only the cache; never touch the network")
    g.add_argument("--refresh", action="store_true", help="revalidate every cached index page")
    g.add_argument("--refresh-package", action="append", default=[], metavar="NAME", help="revalidate this package's cached pages")
    g.add_argument("--exclude-newer", "--uploaded-prior-to", metavar="DATE|DURATION", help="ignore files uploaded after this time, by the index's upload-time (PEP 700); files without one are ignored too. A date (2024-03-01, local midnight), an RFC 3339 timestamp (2024-03-01T12:00:00Z) or a duration back from now ('7 days', 'P1W'). uv's name; pip's --uploaded-prior-to is an alias")


def _nonempty(text: str) -> str:
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("expected a value, got an empty string")
    return text


def _path(text: str) -> Path:
    """A path option's value: not empty (an empty one would mean the current directory)."""
    from pathlib import Path

    return Path(_nonempty(text))


def _positive_seconds(text: str) -> float:
    """An option's value in seconds: a finite number more than 0."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds more than 0, got {text!r}")
    return value


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        # (no stdout: None has no fileno, an AttributeError, as in shutil)
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse's parser, with a help formatter that asks ``_terminal_columns`` for the width.

    argparse's own formatter imports shutil for it, and makes a formatter for every argument
    added: shutil (with the compression modules it loads) was 2 ms of every start-up.
    Subparsers are made of the same class, so they use the same formatter.
    """
    import argparse

    class HelpFormatter(argparse.HelpFormatter):
        def __init__(
            self,
            prog: str,
            indent_increment: int = 2,
            max_help_position: int = 24,
            width: int | None = None,
            **kwargs: Any,
        ) -> None:
            if width is None:
                width = _terminal_columns() - 2
            super().__init__(prog, indent_increment, max_help_position, width, **kwargs)

    class ArgumentParser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", HelpFormatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:
            # A usage error is one `error:` line like any other (argparse's own reads
            # "satchel install: error: ..."), after the usage; exit status 2 as argparse's.
            self.print_usage(sys.stderr)
            self.exit(2, f"error: {message}\nhint: see `{self.prog} --help`\n")

    return ArgumentParser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, just that command's part of it (what parsing a
    command line that starts with that command needs: argparse builds a parser per command,
    and building all of them is a good part of satchel's start-up)."""
    from pathlib import Path

    parser = _parser_class()(prog="satchel", description="A Python package installer.")
    parser.add_argument("--version", action="version", version=f"satchel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def wanted(command: str) -> bool:
        return only is None or only == command

    if wanted("install"):
        _add_install(sub)
    if wanted("sync"):
        _add_sync(sub)
    if wanted("uninstall"):
        p = sub.add_parser("uninstall", help="uninstall packages")
        p.add_argument("names", nargs="*", metavar="NAME", help="packages to uninstall")
        p.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE", help="uninstall the packages this requirements file names (repeatable)")
        p.add_argument("-y", "--yes", action="store_true", help="accepted for pip compatibility (never asks)")
        _add_break_system(p)
        _add_env(p)
        _add_common(p)

    if wanted("list"):
        p = sub.add_parser("list", help="list installed packages")
        p.add_argument("--format", choices=["columns", "freeze", "json"], default="columns", help="output format (default columns)")
        p.add_argument("-o", "--outdated", action="store_true", help="only packages with a newer version on the index, with that version and its file type (pip's JSON fields latest_version, latest_filetype)")
        p.add_argument("-u", "--uptodate", action="store_true", help="only packages at the newest version on the index")
        p.add_argument("--pre", action="store_true", help="with --outdated/--uptodate, count pre-releases as newer versions")
        editables = p.add_mutually_exclusive_group()
        editables.add_argument("-e", "--editable", action="store_true", help="only editable installs")
        editables.add_argument("--exclude-editable", action="store_true", help="leave editable installs out")
        p.add_argument("--exclude", action="append", default=[], metavar="NAME", help="leave this package out (repeatable)")
        p.add_argument("--not-required", action="store_true", help="only packages no installed package requires (pip's option)")
        _add_env(p)
        _add_index(p)
        _add_common(p)

    if wanted("freeze"):
        p = sub.add_parser("freeze", help="installed packages in requirements format")
        p.add_argument("--exclude-editable", action="store_true", help="leave editable installs out")
        p.add_argument("--exclude", action="append", default=[], metavar="NAME", help="leave this package out (repeatable)")
        p.add_argument("--all", action="store_true", help="accepted for pip's scripts: satchel's freeze never leaves pip, setuptools or wheel out")
        _add_env(p)
        _add_common(p)

    if wanted("show"):
        p = sub.add_parser("show", help="show details of installed packages")
        p.add_argument("names", nargs="+", metavar="NAME", help="installed packages to show")
        p.add_argument("-f", "--files", action="store_true", help="list installed files")
        _add_env(p)
        _add_common(p)

    if wanted("tree"):
        p = sub.add_parser(
            "tree",
            help="show the installed dependency tree",
            description="The installed packages' dependency tree, drawn as `uv pip tree` draws it "
            "(requirements applying without extras, children sorted by name).",
        )
        p.add_argument("names", nargs="*", metavar="NAME", help="draw the tree of these packages only (like uv's --package)")
        p.add_argument("--package", action="append", default=[], metavar="NAME", help="draw the tree of this package only (uv's spelling)")
        p.add_argument("--prune", action="append", default=[], metavar="NAME", help="leave this package (and what only it pulls in) out")
        p.add_argument("-d", "--depth", type=int, default=255, metavar="N", help="draw N levels below the roots at most (default 255)")
        p.add_argument("--invert", "--reverse", action="store_true", help="draw dependents below each package: what requires it")
        p.add_argument("--no-dedupe", action="store_true", help="draw a package's dependencies every time (default: once, then 'name vX (*)')")
        p.add_argument("--show-version-specifiers", action="store_true", help="show what each requirement asks for, e.g. [required: >=1]")
        p.add_argument("--outdated", action="store_true", help="show '(latest: vX)' for packages with a newer version on the index")
        p.add_argument("--pre", action="store_true", help="with --outdated, count pre-releases as newer versions")
        _add_env(p)
        _add_index(p)
        _add_common(p)

    if wanted("index"):
        p = sub.add_parser("index", help="inspect a package index")
        isub = p.add_subparsers(dest="index_command", metavar="SUBCOMMAND")
        ip = isub.add_parser(
            "versions",
            help="the versions of a package on the index",
            description="The versions of NAME the index offers for the target interpreter, in pip's "
            "output form (pip index versions): newest first, pre-releases with --pre, and the installed version.",
        )
        ip.add_argument("name", metavar="NAME", help="the project to look up")
        ip.add_argument("--json", action="store_true", help="pip's JSON: name, versions, latest, installed_version")
        ip.add_argument("--pre", action="store_true", help="include pre-release and development versions")
        _add_target_description(ip, index_only=True)
        _add_env(ip)
        _add_index(ip)
        _add_common(ip)

    if wanted("download"):
        _add_download(sub, "download")
    if wanted("wheel"):
        _add_download(sub, "wheel")

    if wanted("check"):
        p = sub.add_parser("check", help="verify installed packages have compatible dependencies")
        _add_env(p)
        _add_common(p)

    if wanted("hash"):
        p = sub.add_parser("hash", help="print the --hash option of files, for requirement files (pip's command)")
        p.add_argument("files", nargs="+", type=_path, metavar="FILE", help="the files to hash")
        p.add_argument("-a", "--algorithm", choices=["sha256", "sha384", "sha512"], default="sha256", help="the hash algorithm (default sha256)")
        _add_common(p)

    if wanted("venv"):
        p = sub.add_parser("venv", help="create a virtual environment (without pip, unless --seed)")
        p.add_argument("path", nargs="?", type=_path, default=Path(".venv"), help="where to create it (default .venv)")
        p.add_argument("-p", "--python", type=_nonempty, help="base interpreter: a path or a version like 3.12")
        p.add_argument("--prompt", help="prompt shown when activated")
        p.add_argument("--clear", action="store_true", help="delete what is in the directory first (a virtual environment's; anything else only with --force too)")
        p.add_argument("--force", action="store_true", help="let --clear empty a directory that is not a virtual environment (never / or your home directory)")
        p.add_argument("--system-site-packages", action="store_true", help="let the environment see the base interpreter's site-packages too (python -m venv's and uv's option)")
        p.add_argument("--seed", action="store_true", help="install pip into it (and setuptools and wheel before Python 3.12), from the index, as uv's --seed")
        _add_index(p)
        _add_common(p)

    if wanted("cache"):
        _add_cache(sub)
    if wanted("compile"):
        _add_compile(sub)
    return parser


def _add_install(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    import argparse

    from satchel.settings import LINK_MODES

    p = sub.add_parser("install", help="install packages", description="Resolve, download and install packages.")
    p.add_argument("requirements", nargs="*", metavar="REQ", help="requirement specifiers (PEP 508), paths or URLs")
    p.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE", help="install from a requirements file; a pyproject.toml gives its [project] dependencies (the project itself is not installed; dynamic ones come from its build backend), a pylock.toml is installed as locked")
    p.add_argument("--extra", action="append", default=[], metavar="NAME", help="with -r pyproject.toml: also install this extra's optional dependencies (uv's option); with -r pylock.toml: this extra's packages")
    p.add_argument("--all-extras", action="store_true", help="with -r pyproject.toml or pylock.toml: every extra (uv's option)")
    p.add_argument("--group", action="append", default=[], metavar="[PATH:]NAME", help="install this PEP 735 dependency group of PATH (default ./pyproject.toml), include-group followed (pip 25.1's and uv's option); with -r pylock.toml: the lock's group NAME")
    p.add_argument("-c", "--constraint", action="append", default=[], metavar="FILE", help="constrain versions with this file")
    p.add_argument("-e", "--editable", action="append", default=[], metavar="PATH", help="install a local project in editable mode")
    p.add_argument("-U", "--upgrade", action="store_true", help="upgrade every package the requirements pull in to its newest allowed version")
    p.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME", help="upgrade this package")
    p.add_argument("--upgrade-strategy", choices=["eager", "only-if-needed"], help="with -U: eager (the default, as uv) upgrades everything the requirements pull in; only-if-needed (pip's default) upgrades the named requirements, and their dependencies only where they must change")
    p.add_argument("--reinstall", "--force-reinstall", "-I", "--ignore-installed", action="store_true", help="resolve as if nothing were installed and reinstall every resolved package (--force-reinstall, -I/--ignore-installed: pip's names)")
    p.add_argument("--no-deps", action="store_true", help="do not install dependencies")
    _add_version_choice(p)
    p.add_argument("--require-hashes", action="store_true", help="require a --hash for every requirement")
    p.add_argument("--no-require-hashes", action="store_true", help="a --hash on some requirements does not turn on hash checking for all of them (pip's option); the hashes given are still checked")
    p.add_argument("--target", type=_path, help="install into this directory instead of an environment")
    p.add_argument("--prefix", type=_path, metavar="DIR", help="install under this prefix (lib/pythonX.Y/site-packages, bin, ... as pip lays it out for the target interpreter); only what is already under DIR counts as installed")
    p.add_argument("--user", action="store_true", help="install into the user site (as pip does; refused inside a virtual environment that cannot see it)")
    p.add_argument("--root", type=_path, metavar="DIR", help="install everything relative to this alternate root directory (pip's --root: packaging into a staging tree)")
    p.add_argument("--dry-run", action="store_true", help="resolve and show what would change; change nothing")
    p.add_argument("--report", metavar="FILE", help="write pip's installation report (JSON, version 1) of what is installed, or would be with --dry-run, to FILE ('-': standard output; satchel's own messages go to standard error)")
    p.add_argument("--link-mode", choices=LINK_MODES, default=None, help="how files get from the cache into the environment (default hardlink)")
    p.add_argument("--compile-bytecode", "--compile", action="store_true", help="compile .pyc files after installing (--compile: pip's name)")
    p.add_argument("--no-compile", dest="compile_bytecode", action="store_false", help=argparse.SUPPRESS)
    _add_build_flags(p)
    _add_env(p)
    _add_break_system(p)
    _add_index(p)
    _add_common(p)
    _add_remote(p)
    _add_pip_script_options(p)


def _add_pip_script_options(p: argparse.ArgumentParser) -> None:
    """pip options that scripts and Dockerfiles pass out of habit, about pip's own behaviour:
    taken, so that `pip install` becomes `satchel install` by the name alone."""
    g = p.add_argument_group("pip's options for pip's own behaviour (accepted; satchel has none of it)")
    g.add_argument("--progress-bar", choices=["on", "off", "raw"], help="off: no progress display (on, raw: as usual)")
    g.add_argument("--disable-pip-version-check", action="store_true", help="satchel never checks for a newer version of itself")
    g.add_argument("--no-input", action="store_true", help="satchel never asks for input")
    g.add_argument("--root-user-action", choices=["warn", "ignore"], help="satchel does not warn about running as root")
    g.add_argument("--no-warn-script-location", action="store_true", help="satchel does not warn about scripts outside PATH")


def _add_version_choice(p: argparse.ArgumentParser) -> None:
    """Which versions and files a resolution may choose (install, download, wheel)."""
    p.add_argument("--pre", action="store_true", help="allow pre-releases")
    p.add_argument("--all-releases", action="append", default=[], metavar="NAMES", help="allow pre-releases of these packages (comma-separated names, :all: or :none:; pip 26's option)")
    p.add_argument("--only-final", action="append", default=[], metavar="NAMES", help="never use pre-releases of these packages, even when a specifier names one (names, :all: or :none:; pip 26's option)")
    p.add_argument("--only-binary", action="append", default=[], metavar="NAMES", help=":all:, :none: or package names")
    p.add_argument("--no-binary", action="append", default=[], metavar="NAMES", help=":all:, :none: or package names")
    p.add_argument("--prefer-binary", action="store_true", help="prefer older versions with wheels over newer ones with only sdists (pip's option; also in requirement files)")


def _add_build_flags(p: argparse.ArgumentParser) -> None:
    """How sdists and local projects are built (install, download, wheel)."""
    p.add_argument("--config-settings", action="append", default=[], metavar="KEY=VALUE", help="passed to PEP 517 build backends")
    p.add_argument("--no-build-isolation", action="store_true", help="build in the target environment")
    p.add_argument("--no-build-isolation-package", action="append", default=[], metavar="NAME", help="build this package in the target environment, the others isolated (uv's option)")
    p.add_argument("-b", "--build-constraint", action="append", default=[], metavar="FILE", help="constrain the versions installed into build environments with this constraints file (uv's -b; pip's --build-constraint)")


def _add_compile(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    import argparse

    p = sub.add_parser(
        "compile",
        help="resolve requirements into a lock (requirements.txt or pylock.toml)",
        description="Resolve requirements.in-style files or pyproject.toml into pinned requirements "
        "(pip-compile's requirements.txt form) or a PEP 751 pylock.toml.",
    )
    p.add_argument("src", nargs="*", metavar="SRC", help="requirements.in-style files or pyproject.toml (default: requirements.in, else pyproject.toml)")
    p.add_argument("-o", "--output-file", metavar="FILE", help="write the lock here (default: standard output); its pins are kept where they still fit")
    p.add_argument("--format", choices=["requirements.txt", "pylock.toml"], help="output format (default: from the output file name, else requirements.txt)")
    p.add_argument("--extra", action="append", default=[], metavar="NAME", help="include this extra of a pyproject.toml source")
    p.add_argument("--all-extras", action="store_true", help="include every extra of the pyproject.toml sources")
    p.add_argument("--group", action="append", default=[], metavar="[PATH:]NAME", help="include this dependency group (PEP 735)")
    p.add_argument("-c", "--constraint", action="append", default=[], metavar="FILE", help="constrain versions with this file")
    p.add_argument("-U", "--upgrade", action="store_true", help="ignore the pins of the output file")
    p.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME", help="free this package's pin (NAME==VERSION: also pin it there)")
    p.add_argument("--generate-hashes", action="store_true", help="add --hash lines for every file of each pinned version")
    p.add_argument("--annotation-style", choices=["split", "line"], default="split", help="how to write the '# via' annotations (default split)")
    p.add_argument("--no-annotate", action="store_true", help="no '# via' annotations (--annotate: the default)")
    p.add_argument("--annotate", dest="no_annotate", action="store_false", help=argparse.SUPPRESS)
    p.add_argument("--no-header", action="store_true", help="no header comment (--header: the default)")
    p.add_argument("--header", dest="no_header", action="store_false", help=argparse.SUPPRESS)
    p.add_argument("--custom-compile-command", metavar="COMMAND", help="the command the header says made the file (pip-compile's and uv's option), e.g. 'make lock'")
    p.add_argument("--strip-extras", action="store_true", help="write pins without [extras] (--no-strip-extras: the default)")
    p.add_argument("--no-strip-extras", dest="strip_extras", action="store_false", help=argparse.SUPPRESS)
    p.add_argument("--emit-index-url", action="store_true", help="write --index-url / --extra-index-url lines (--no-emit-index-url: the default)")
    p.add_argument("--no-emit-index-url", dest="emit_index_url", action="store_false", help=argparse.SUPPRESS)
    p.add_argument("--no-emit-package", "--unsafe-package", action="append", default=[], metavar="NAME", help="leave this package out of the lock; it is still resolved, and so are its dependencies (uv's option; pip-compile's --unsafe-package is taken as it)")
    p.add_argument("--no-emit-find-links", dest="emit_find_links", action="store_false", default=True, help="no --find-links lines (written by default when find-links are in use, as pip-compile does)")
    p.add_argument("--emit-find-links", dest="emit_find_links", action="store_true", help=argparse.SUPPRESS)
    compat = p.add_argument_group("pip-compile options satchel takes so scripts keep working (no effect, with a warning)")
    compat.add_argument("--allow-unsafe", action="store_true", help="pip, setuptools and wheel are pinned like any other package already")
    compat.add_argument("--resolver", choices=["backtracking", "legacy"], help="satchel's resolver backtracks; 'legacy' is an error")
    compat.add_argument("--reuse-hashes", dest="reuse_hashes", action="store_true", default=None, help="hashes always come from the index")
    compat.add_argument("--no-reuse-hashes", dest="reuse_hashes", action="store_false", help=argparse.SUPPRESS)
    compat.add_argument("--max-rounds", type=int, metavar="N", help="the resolver has no round limit")
    p.add_argument("--dry-run", action="store_true", help="print the lock; write nothing")
    p.add_argument("--python-version", metavar="X.Y", help="resolve for this Python version (no interpreter of it needed)")
    p.add_argument("--python-platform", metavar="PLATFORM", help="resolve for this platform: linux, macos, windows, x86_64-manylinux_2_28, aarch64-apple-darwin, x86_64-pc-windows-msvc, ...")
    p.add_argument("--pre", action="store_true", help="allow pre-releases")
    p.add_argument("--only-binary", action="append", default=[], metavar="NAMES", help=":all:, :none: or package names")
    p.add_argument("--no-binary", action="append", default=[], metavar="NAMES", help=":all:, :none: or package names")
    p.add_argument("--config-settings", action="append", default=[], metavar="KEY=VALUE", help="passed to PEP 517 build backends")
    p.add_argument("--no-build-isolation", action="store_true", help="build in the interpreter given by -p")
    p.add_argument("-p", "--python", help="the interpreter to resolve for and build with (default: the active or nearby venv, else the one satchel runs on)")
    _add_index(p)
    _add_common(p)
    _add_remote(p)


def _add_sync(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pathlib import Path

    p = sub.add_parser(
        "sync",
        help="make an environment exactly match a lock",
        description="Install what a lock lists and uninstall everything else, without resolving. "
        "FILE is a compiled requirements.txt (pinned, maybe with --hash) or a PEP 751 pylock.toml. "
        "pip, setuptools, wheel and satchel itself (with its dependencies) are never removed.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="requirements.txt or pylock.toml")
    p.add_argument("--extra", action="append", default=[], metavar="NAME", help="pylock: install this extra's packages")
    p.add_argument("--all-extras", action="store_true", help="pylock: install the packages of every extra")
    p.add_argument("--group", action="append", default=[], metavar="[PATH:]NAME", help="pylock: install this dependency group (instead of the lock's default-groups); PATH: of that lock only")
    p.add_argument("--no-default-groups", action="store_true", help="pylock: leave out the lock's default-groups")
    p.add_argument("--strict", action="store_true", help="a dependency missing from the lock is an error, not a warning")
    p.add_argument("--allow-empty-requirements", action="store_true", help="sync to a lock that selects nothing (removes everything but what sync keeps)")
    p.add_argument("--require-hashes", action="store_true", help="require a --hash on every line of a requirements file")
    p.add_argument("--reinstall", action="store_true", help="reinstall every locked package")
    p.add_argument("--target", type=Path, help="sync this directory instead of an environment")
    p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    p.add_argument("--link-mode", choices=["hardlink", "copy", "symlink", "clone"], default=None, help="how files get from the cache into the environment (default hardlink)")
    p.add_argument("--compile-bytecode", action="store_true", help="compile .pyc files after installing")
    p.add_argument("--config-settings", action="append", default=[], metavar="KEY=VALUE", help="passed to PEP 517 build backends")
    p.add_argument("--no-build-isolation", action="store_true", help="build in the target environment")
    _add_env(p)
    p.add_argument("--python-executable", dest="python", type=_nonempty, help="pip-sync's name for -p")
    _add_break_system(p)
    _add_index(p)
    _add_common(p)
    _add_remote(p)


def _add_download(sub: argparse._SubParsersAction[argparse.ArgumentParser], command: str) -> None:
    from pathlib import Path

    if command == "download":
        p = sub.add_parser(
            "download",
            help="download the resolved distributions into a directory",
            description="Resolve like install, then save the resolved files as they are (wheels and sdists; "
            "local directories and git checkouts are skipped) into DIR, through the cache. pip's command.",
        )
        p.add_argument("-d", "--dest", type=Path, default=Path("."), metavar="DIR", help="where to save the files (default: the current directory)")
    else:
        p = sub.add_parser(
            "wheel",
            help="build wheels for the resolved distributions into a directory",
            description="Resolve like install, then save a wheel of every resolved distribution into DIR: "
            "wheels as the index has them, everything else built (from the cache when built already). pip's command.",
        )
        p.add_argument("-w", "--wheel-dir", type=Path, default=Path("."), metavar="DIR", help="where to save the wheels (default: the current directory)")
        p.add_argument("-e", "--editable", action="append", default=[], metavar="PATH", help="a local project (or VCS URL) to build, as pip's -e: a regular wheel, not an editable one")
    p.add_argument("requirements", nargs="*", metavar="REQ", help="requirement specifiers (PEP 508), paths or URLs")
    p.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE", help="take requirements from this file")
    p.add_argument("-c", "--constraint", action="append", default=[], metavar="FILE", help="constrain versions with this file")
    p.add_argument("--no-deps", action="store_true", help="only the named requirements, not their dependencies")
    _add_version_choice(p)
    _add_build_flags(p)
    _add_target_description(p)
    _add_env(p)
    _add_index(p)
    _add_common(p)
    _add_remote(p)


def _add_target_description(p: argparse.ArgumentParser, *, index_only: bool = False) -> None:
    g = p.add_argument_group("target (pip's download options)")
    needs = "" if index_only else "; needs --only-binary=:all: or --no-deps, as in pip"
    g.add_argument("--platform", action="append", default=[], metavar="TAG", help=f"only wheels for this platform tag (e.g. manylinux2014_x86_64; repeatable){needs}")
    g.add_argument("--python-version", metavar="X.Y", help="the Python version to choose files for (3.12, 312 or 3.12.1); markers are still evaluated for the interpreter found, as pip does")
    g.add_argument("--implementation", metavar="IMPL", help="the Python implementation tag: cp, pp, py, ...")
    g.add_argument("--abi", action="append", default=[], metavar="ABI", help="only wheels for this ABI tag (e.g. cp312, abi3, none; repeatable)")
    if index_only:
        p.set_defaults(only_binary=[], no_binary=[], no_deps=False)


def _add_cache(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cache", help="inspect and manage the cache")
    csub = p.add_subparsers(dest="cache_command", metavar="SUBCOMMAND")
    for name, helptext in [
        ("dir", "print the cache directory"),
        ("info", "size and entries per bucket"),
        ("list", "what is cached (for a package)"),
        ("clean", "remove cached entries (of packages, or all)"),
        ("prune", "remove old formats, litter, and (with options) more"),
        ("purge", "remove everything"),
        ("verify", "re-hash every entry and report corruption"),
        ("push", "upload local entries to the remote cache (--remote-cache)"),
        ("remote", "the remote cache: `remote info`"),
    ]:
        cp = csub.add_parser(name, help=helptext, description=helptext)
        _add_common(cp)
        _add_remote(cp)
        if name == "info":
            cp.add_argument("--json", action="store_true", help="machine-readable output")
        if name in ("list", "clean", "push"):
            cp.add_argument("names", nargs="*", metavar="NAME", help="only these packages (default: all)")
        if name == "remote":
            rsub = cp.add_subparsers(dest="remote_command", metavar="SUBCOMMAND", required=True)
            rp = rsub.add_parser("info", help="reachability, mode, and what the remote holds")
            _add_common(rp)
            _add_remote(rp)
            rp.add_argument("--json", action="store_true", help="machine-readable output")
        if name in ("clean", "prune", "purge"):
            cp.add_argument("--force", action="store_true", help="do not wait for running installs")
        if name == "prune":
            cp.add_argument("--ci", action="store_true", help="keep only what is costly to rebuild (built wheels)")
            cp.add_argument("--max-size", metavar="SIZE", help="evict least recently used entries down to SIZE (e.g. 2G)")
            cp.add_argument("--max-age", metavar="AGE", help="evict entries not used for AGE (e.g. 30d, 12h)")
        if name == "verify":
            cp.add_argument("--repair", action="store_true", help="remove what is broken")
            cp.add_argument("--remote", action="store_true", help="check the remote cache instead: every blob's digest, every record's checksum and signature")
