"""Requirement files and command-line requirements in a narrow form, read without packaging:
the no-op install's first look, before ``InstallRequest`` is built.

The narrow form is a file of ASCII text, without a BOM or a coding declaration, whose lines are
blank, comments, or requirements in ``satchel.standards.narrow``'s narrow form (a name, extras,
narrow specifiers, a narrow marker) that cannot be anything else: no option lines or options
after a requirement, no continuations, no ``${VAR}``, nothing that could be a URL, a path or an
archive name. ``read_plain`` returns what the full parser (``files.py``, ``line.py``) would read
from such files, in packaging's terms (``tests/unit/test_requirements_plain.py`` compares them),
and None for anything else, which the full parser then reads (and reports on).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from satchel.standards.narrow import NarrowRequirement, narrow_requirement

# Every archive suffix of ``satchel.requirements.urls.ARCHIVE_SUFFIXES`` contains one of these:
# a line containing one could be a local archive's name.
ARCHIVE_HINTS = (".whl", ".tar", ".tgz", ".tbz", ".txz", ".zip")
_OPTION_AFTER = re.compile(r"\s-")
_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def plain_line(text: str, *, constraint: bool = False) -> NarrowRequirement | None:
    """One requirement (a logical line, stripped) in the narrow form, else None."""
    lowered = text.lower()
    if (
        not text
        or text[0] == "-"
        or _OPTION_AFTER.search(text)
        or any(hint in lowered for hint in ARCHIVE_HINTS)
        or (constraint and "[" in text)
    ):
        return None
    return narrow_requirement(text)


def plain_file_lines(data: bytes) -> list[str] | None:
    """The logical lines of a requirements file's bytes (comments removed, stripped, blank ones
    left out), if the file is in the narrow form as far as text goes; else None."""
    if not data.isascii():
        return None  # (BOMs are not ASCII)
    if any(b"coding" in line for line in data.split(b"\n", 2)[:2]):
        return None
    out = []
    for line in data.decode("ascii").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        hash_at = line.find("#")
        if hash_at >= 0:
            # pip's comment: "#" at the start or after whitespace, to the end of the line (a
            # "#" elsewhere is never in the narrow form)
            if hash_at > 0 and line[hash_at - 1] not in _WHITESPACE:
                return None
            line = line[:hash_at]
        line = line.strip()
        if not line:
            continue
        if "\\" in line or "$" in line:
            return None  # continuations, ${VAR}
        out.append(line)
    return out


def read_plain(
    requirements: Iterable[str],
    requirement_files: Iterable[str],
    constraint_files: Iterable[str],
    cwd: str,
) -> tuple[list[NarrowRequirement], list[NarrowRequirement]] | None:
    """(requirements, constraints) from the command line's requirements and ``-r``/``-c``
    files (relative to ``cwd``), each in the narrow form; None if anything is not (or a file
    cannot be read: the full parser reports it)."""
    roots: list[NarrowRequirement] = []
    constraints: list[NarrowRequirement] = []
    for item in requirements:
        req = plain_line(item.strip())
        if req is None:
            return None
        roots.append(req)
    for files, into, constraint in (
        (requirement_files, roots, False),
        (constraint_files, constraints, True),
    ):
        for name in files:
            if ":" in name or os.path.basename(name) == "pyproject.toml" or name.endswith(".toml"):
                return None
            try:
                with open(os.path.join(cwd, name), "rb") as fh:
                    data = fh.read()
            except OSError:
                return None
            lines = plain_file_lines(data)
            if lines is None:
                return None
            for line in lines:
                req = plain_line(line, constraint=constraint)
                if req is None:
                    return None
                into.append(req)
    return roots, constraints
