"""Small helpers for telling URLs from paths in requirement lines, and naming archives."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from satchel.standards.redact import redact

__all__ = ["redact"]  # (re-exported for the requirements parser and the build layer)

# A scheme followed by "://" (or the special "file:" form), e.g. https://, git+ssh://, file:.
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:", re.ASCII)
_VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")

ARCHIVE_SUFFIXES = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tar",
    ".zip",
)
PROJECT_MARKERS = ("pyproject.toml", "setup.py")

# "<name>-<version>" for archive names parse_sdist_filename does not handle (.tar.bz2 etc.).
_NAME_VERSION = r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*(?:-[A-Za-z_][A-Za-z0-9._]*)*)-\d"


def is_url(text: str) -> bool:
    """True when ``text`` starts with a URL scheme (``https://``, ``git+ssh://``, ``file:``)."""
    return _URL_RE.match(text) is not None


def is_vcs_url(url: str) -> bool:
    return url.lower().startswith(_VCS_SCHEMES)


def is_file_url(url: str) -> bool:
    return url.lower().startswith("file:")


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def looks_like_path(text: str) -> bool:
    """True for ``./pkg``, ``../x.whl``, ``/abs``, ``sub/dir``, ``C:\\x``: text that names a file."""
    return text.startswith(".") or "/" in text or "\\" in text or os.sep in text


def path_to_url(path: Path) -> str:
    """An absolute, percent-encoded ``file://`` URL for ``path`` (made absolute, ``..`` folded)."""
    return Path(os.path.abspath(path)).as_uri()


def url_to_path(url: str) -> Path | None:
    """The local path of a ``file://`` URL, or None for other schemes."""
    if not is_file_url(url):
        return None
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parts.path))


def url_filename(url: str) -> str:
    """The last path segment of ``url``, unquoted, without query or fragment."""
    path = urlsplit(url).path
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def url_fragment(url: str) -> dict[str, str]:
    """``#egg=x&subdirectory=y`` as a dict (last value wins)."""
    fragment = urlsplit(url).fragment
    result: dict[str, str] = {}
    for item in fragment.split("&"):
        key, sep, value = item.partition("=")
        if sep:
            result[key] = value
    return result


def infer_name_from_filename(filename: str) -> str | None:
    """The canonical project name of a wheel or sdist file name, or None when not inferable."""
    lower = filename.lower()
    try:
        if lower.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if lower.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    for suffix in ARCHIVE_SUFFIXES:
        if lower.endswith(suffix):
            match = re.match(_NAME_VERSION, filename[: -len(suffix)])
            if match:
                return canonicalize_name(match.group("name"))
            return None
    return None


