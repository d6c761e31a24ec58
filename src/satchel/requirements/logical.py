"""A requirements file's bytes as logical lines: decoded (BOM or coding declaration, else
UTF-8), comments removed, backslash continuations joined, ``${VAR}`` expanded. What a line
means is ``files.py``'s and ``line.py``'s business.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping

from satchel.errors import RequirementsFileError

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def decode(data: bytes, display: str) -> str:
    """``data`` as text: by its BOM, else a coding declaration on one of its first two lines
    (PEP 263), else UTF-8; an unknown encoding or bytes it cannot decode are an error naming
    ``display`` and the line."""
    encoding = "utf-8"
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            encoding = name
            break
    else:
        for first_lines in data.split(b"\n", 2)[:2]:
            match = _CODING_RE.match(first_lines)
            if match:
                encoding = match.group(1).decode("ascii")
                break
    try:
        return data.decode(encoding)
    except LookupError:
        raise RequirementsFileError(
            f"{display}:1: unknown encoding '{encoding}' in coding declaration",
            hint="save the file as UTF-8 and remove the coding declaration",
        )
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise RequirementsFileError(
            f"{display}:{lineno}: cannot decode byte 0x{bad} as {encoding}",
            hint="save the file as UTF-8 (or declare its encoding with "
            "'# -*- coding: <name> -*-' on the first line)",
        )


def logical_lines(text: str, env: Mapping[str, str]) -> Iterator[tuple[int, str, str]]:
    """(first physical line number, text as written, text with ${VAR} expanded) of each
    non-blank logical line: comments removed, backslash continuations joined."""
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    pending: list[str] = []
    start = 0
    for index, line in enumerate(physical, start=1):
        stripped = _COMMENT_RE.sub("", line).rstrip()
        if not pending:
            start = index
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        logical = "".join(pending).strip()
        pending = []
        if logical:
            yield start, logical, _expand_env(logical, env)
    if pending:  # the file ended inside a continuation
        logical = "".join(pending).strip()
        if logical:
            yield start, logical, _expand_env(logical, env)


def _expand_env(text: str, env: Mapping[str, str]) -> str:
    """``${VAR}`` replaced by its value in ``env``, when set (pip's rule: only upper-case
    letters, digits and underscores)."""
    def replace(match: re.Match[str]) -> str:
        value = env.get(match.group(1))
        return match.group(0) if value is None else value

    return _ENV_VAR_RE.sub(replace, text)
