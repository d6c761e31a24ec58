"""Just enough TOML to write a pylock.toml: tables, arrays of tables, inline tables, arrays,
strings, integers, booleans and offset date-times. (tests/unit/test_lock_toml.py checks what it
writes reads back identically with ``tomllib``.)"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def dumps(document: Mapping[str, Any]) -> str:
    """``document`` as TOML: scalars and arrays of scalars or inline tables first, then each
    key whose value is a list of tables as ``[[key]]`` blocks, and sub-tables as ``[key]``."""
    lines: list[str] = []
    _table(document, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(table: Mapping[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    later: list[tuple[str, Any]] = []
    for key, value in table.items():
        if value is None:
            continue
        if path == () and (_is_table_array(value) or isinstance(value, Mapping)):
            later.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value, multiline=True)}")
    for key, value in later:
        sub = (*path, key)
        if isinstance(value, Mapping):
            lines += ["", f"[{'.'.join(map(_key, sub))}]"]
            _table(value, sub, lines)
        else:
            for item in value:
                lines += ["", f"[[{'.'.join(map(_key, sub))}]]"]
                _table(item, sub, lines)


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any, *, multiline: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("date-times in a lock file must have a time zone")
        text = value.astimezone(datetime.timezone.utc).isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, Mapping):
        items = [f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, Sequence):
        items = [_value(v) for v in value]
        if multiline and len(items) > 1:
            return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
        return "[" + ", ".join(items) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
