"""TOML sources read as text: ``pylock.toml`` and ``pyproject.toml``, parsed one way, with one
set of errors. (Writing TOML is :mod:`satchel.lock.toml`'s.)"""

from __future__ import annotations

from typing import Any

from satchel.errors import RequirementsFileError


def parse_toml(data: bytes, display: str) -> dict[str, Any]:
    """The TOML document in ``data``: UTF-8 text, a leading BOM allowed (as in requirements
    files). Text that is not UTF-8, or not valid TOML (arrays or inline tables nested deeper
    than the parser can follow included), is a RequirementsFileError naming ``display``."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - satchel runs on 3.10 with tomli
        import tomli as tomllib
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequirementsFileError(f"{display}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # says the line and column
        raise RequirementsFileError(f"{display}: not valid TOML: {exc}") from None
    except RecursionError:  # the parser recurses once per level of [ or {
        raise RequirementsFileError(
            f"{display}: not valid TOML: arrays or inline tables nested too deeply to read"
        ) from None
