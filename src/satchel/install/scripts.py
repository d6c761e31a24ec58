"""Scripts: entry-point launchers and ``#!python`` shebang rewriting.

A shebang names the target interpreter by absolute path. The kernel limits shebang lines (127
bytes on older Linux) and splits them on whitespace, so a long path or one with spaces gets a
two-line ``/bin/sh`` header instead: sh runs the ``exec`` line, Python reads the
same lines as a string literal and ignores them.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from dataclasses import dataclass

from satchel.errors import InstallError

SCRIPT_GROUPS = {"console_scripts": "console", "gui_scripts": "gui"}
MAX_SIMPLE_SHEBANG = 127
_WHITESPACE = re.compile(r"\s")
_PYTHON_SHEBANG = re.compile(rb"^#!python[^\s]*([ \t][^\r\n]*)?(\r\n|\r|\n|$)")
_ENTRY_VALUE = re.compile(
    r"^(?P<module>[^:\[\s]+)\s*(?::\s*(?P<attr>[^\[\s]+))?\s*(?:\[[^\]]*\])?\s*$"
)


@dataclass(frozen=True)
class EntryPoint:
    """A console or gui script declared in entry_points.txt."""

    name: str
    module: str
    attr: str
    group: str  # "console_scripts" or "gui_scripts"


def _dotted(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _script_name_ok(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and not any(c in name for c in "/\\\0")
        and not any(ord(c) < 32 for c in name)
    )


def parse_entry_points(text: str, *, label: str) -> list[EntryPoint]:
    """The console_scripts and gui_scripts of an entry_points.txt. ``label`` names the
    distribution in errors."""
    parser = configparser.ConfigParser(
        delimiters=("=",), interpolation=None, strict=False, allow_no_value=True
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise InstallError(f"{label}: malformed entry_points.txt ({first})")
    out: list[EntryPoint] = []
    for group in SCRIPT_GROUPS:
        if not parser.has_section(group):
            continue
        for name, value in parser.items(group):
            name = name.strip()
            m = _ENTRY_VALUE.match((value or "").strip())
            if not _script_name_ok(name):
                raise InstallError(f"{label}: invalid script name {name!r} in entry_points.txt")
            if m is None or m["attr"] is None or not _dotted(m["module"]) or not _dotted(m["attr"]):
                raise InstallError(
                    f"{label}: invalid entry point {name} = {value!r} (expected module:function)"
                )
            out.append(EntryPoint(name, m["module"], m["attr"], group))
    return out


def shebang(executable: str, args: str = "") -> bytes:
    """The header making a script run with ``executable`` (plus ``args``), newline included."""
    line = f"{executable} {args}" if args else executable
    if not _WHITESPACE.search(executable) and len(os.fsencode(line)) + 3 <= MAX_SIMPLE_SHEBANG:
        return b"#!" + os.fsencode(line) + b"\n"
    command = shlex.quote(executable) + (f" {args}" if args else "")
    # sh: `'''exec'` is the word exec. Python: lines 2-3 are one triple-quoted string.
    return b"#!/bin/sh\n'''exec' " + os.fsencode(command) + b' "$0" "$@"\n' + b"' '''\n"


def rewrite_shebang(content: bytes, executable: str) -> bytes | None:
    """``content`` with a leading ``#!python...`` line pointed at ``executable``, or None when it
    does not start with one (the wheel spec's rule for .data/scripts)."""
    m = _PYTHON_SHEBANG.match(content)
    if m is None:
        return None
    args = (m.group(1) or b"").strip().decode("utf-8", "surrogateescape")
    return shebang(executable, args) + content[m.end() :]


# installer.scripts' template. Importing installer costs ~11 ms (its package imports its whole
# core, email included), a tenth of a warm install, for a format string:
# tests/unit/test_install_scripts.py checks these launchers byte for byte against installer's.
_LAUNCHER = (
    "# -*- coding: utf-8 -*-\n"
    "import re\n"
    "import sys\n"
    "from {module} import {import_name}\n"
    'if __name__ == "__main__":\n'
    '    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n'
    "    sys.exit({func_path}())\n"
)


def launcher(entry: EntryPoint, executable: str) -> bytes:
    """The POSIX launcher script for an entry point: byte for byte what installer's
    ``Script(...).generate(executable, "posix")`` makes (console and gui scripts alike)."""
    exe = executable.encode("utf-8")
    if b" " not in exe and len(exe) + 3 <= MAX_SIMPLE_SHEBANG:
        header = b"#!" + exe
    else:  # installer's /bin/sh trampoline (only a space counts here, unlike in shebang())
        quoted = shlex.quote(executable).encode("utf-8")
        header = b"#!/bin/sh\n'''exec' " + quoted + b' "$0" "$@"\n' + b"' '''"
    code = _LAUNCHER.format(
        module=entry.module, import_name=entry.attr.split(".")[0], func_path=entry.attr
    )
    return header + b"\n" + code.encode("utf-8")
