"""What is installed in an environment: one listdir per site-packages directory.

Names and versions come from ``<name>-<version>.dist-info`` directory names; METADATA is read
only when a name is not in that form, or when someone asks for it (``requires_dist``,
``display_name``), and then only its header block, with a small parser that reads exactly what
``email.parser`` (policy compat32) reads there, without importing the email package.
``.egg-info`` directories and files (legacy setuptools/pip installs) are listed too, read-only:
satchel never writes or removes them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from satchel.standards.versions import canonical_name as canonicalize_name
from satchel.standards.versions import parse_version

log = logging.getLogger("satchel.install")

# email.feedparser's headerRE: a field name of printable ASCII but ':' and then ':', or a
# continuation line (leading space or tab), or a Unix "From " envelope line.
# (compiled where used, by the slower path that few files take)
_HEADER_LINE = r"From |[\041-\071\073-\176]*:|[\t ]"
_NEWLINE = r"\r\n|\r|\n"
# A header block of only well-formed lines ("Name: value", continuations; no "From " line, no
# empty field name), \n-terminated, and its fields with their continuation lines.
_PLAIN_BLOCK = re.compile(r"(?:(?:[\041-\071\073-\176]+:|[ \t])[^\n]*(?:\n|\Z))*")
_PLAIN_FIELD = re.compile(
    r"^([\041-\071\073-\176]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)", re.MULTILINE
)


class Headers:
    """The header fields of a METADATA/PKG-INFO file, in file order. Field names compare
    case-insensitively; ``get`` is the first value, ``get_all`` every value (None if absent),
    the way ``email.message.Message`` answers them."""

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields = list(fields)
        self._index: dict[str, list[str]] | None = None

    def _values(self, name: str) -> list[str]:
        if self._index is None:
            self._index = {}
            for key, value in self._fields:
                self._index.setdefault(key.lower(), []).append(value)
        return self._index.get(name.lower(), [])

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values(name)
        return values[0] if values else default

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        return list(self._values(name)) or default

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self._values(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._fields)

    def keys(self) -> list[str]:
        return [key for key, _ in self._fields]

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)


def parse_headers(data: bytes) -> Headers:
    """The header block of METADATA/PKG-INFO bytes, as ``email.parser`` with the compat32
    policy reads it: it ends at the first line that is neither a field nor a continuation
    (normally the blank line before the description); a continuation line (leading space or
    tab, even if otherwise blank) is appended to the field before it, line break included;
    values lose the whitespace after the colon and the trailing line break. Text is decoded
    as UTF-8 (undecodable bytes replaced), like ``satchel.index.metadata``."""
    # Only the header block is decoded: it ends at the latest at the first blank line.
    end = data.find(b"\n\n")
    head = data if end < 0 else data[: end + 1]
    if b"\r" not in head:
        text = head.decode("utf-8", "replace")
        if _PLAIN_BLOCK.fullmatch(text):
            # The usual case, in two passes of the regex engine instead of a loop per line.
            return Headers(_PLAIN_FIELD.findall(text))
        lines = text.split("\n")
    else:
        ends = [i for i in (end, data.find(b"\n\r\n"), data.find(b"\r\r")) if i >= 0]
        if ends:
            data = data[: min(ends) + 1]
        lines = re.split(_NEWLINE, data.decode("utf-8", "replace"))
    fields: list[tuple[str, str]] = []
    name = ""
    value: list[str] = []
    header_line = re.compile(_HEADER_LINE)
    for line in lines:
        if not header_line.match(line):
            break
        if line[0] in " \t":
            if name:
                value.append("\n" + line)
            continue
        if name:
            fields.append((name, "".join(value)))
            name = ""
        colon = line.find(":")
        if colon <= 0 or line.startswith("From "):
            continue  # a field without a name, or a Unix envelope line: skipped, like email's
        name = line[:colon]
        value = [line[colon + 1 :].lstrip(" \t")]
    if name:
        fields.append((name, "".join(value)))
    return Headers(fields)


# Where a header block can end (what ``parse_headers`` looks for): the file is read until one of
# these has been read (or to its end), then ``parse_headers`` has all it reads.
_BLOCK_ENDS = (b"\n\n", b"\n\r\n", b"\r\r")


def _read_headers(path: Path) -> Headers:
    """The header block of a METADATA/PKG-INFO file. Raises OSError."""
    # Not the whole file (the description follows the headers), and without a file object.
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 16384)
        while not any(end in data for end in _BLOCK_ENDS):
            more = os.read(fd, 65536)
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    return parse_headers(data)


@dataclass(frozen=True)
class InstalledDist:
    """An installed distribution. ``name`` is canonical ("foo-bar"); ``dist_info`` is its
    ``.dist-info`` directory (or ``.egg-info`` directory or file). Everything beyond name and
    version is read from disk on first use."""

    name: str
    version: str
    dist_info: Path

    @property
    def is_egg_info(self) -> bool:
        return self.dist_info.name.endswith(".egg-info")

    @property
    def site_packages(self) -> Path:
        return self.dist_info.parent

    @property
    def metadata_files(self) -> list[Path]:
        """The files everything known of it beyond name and version is read from (for a replay
        to check by content: :mod:`satchel.cache.replays`; an installer that links files from
        its cache moves their ctime whenever it links them into another environment)."""
        if not self.is_egg_info:
            return [self.dist_info / "METADATA"]
        if self.dist_info.is_dir():
            return [self.dist_info / "PKG-INFO", self.dist_info / "requires.txt"]
        return [self.dist_info]

    @property
    def record_path(self) -> Path | None:
        """The RECORD file (None for .egg-info installs, which have none)."""
        return None if self.is_egg_info else self.dist_info / "RECORD"

    def _read_text(self, filename: str) -> str | None:
        if self.is_egg_info and not self.dist_info.is_dir():
            return None
        try:
            return (self.dist_info / filename).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    @cached_property
    def installer(self) -> str | None:
        """The tool that installed it (INSTALLER's first line), if recorded."""
        text = (self._read_text("INSTALLER") or "").strip()
        return text.splitlines()[0].strip() if text else None

    @cached_property
    def requested(self) -> bool:
        """Whether the user asked for it (REQUESTED exists), rather than it being a dependency."""
        return not self.is_egg_info and (self.dist_info / "REQUESTED").exists()

    @cached_property
    def direct_url(self) -> dict[str, Any] | None:
        """The PEP 610 direct_url.json, for distributions installed from a URL or path."""
        text = self._read_text("direct_url.json")
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            log.debug("ignoring malformed %s", self.dist_info / "direct_url.json")
            return None
        return data if isinstance(data, dict) else None

    @cached_property
    def metadata(self) -> Headers:
        """The METADATA (PKG-INFO for egg-info) headers; empty if unreadable."""
        if self.is_egg_info:
            path = self.dist_info / "PKG-INFO" if self.dist_info.is_dir() else self.dist_info
        else:
            path = self.dist_info / "METADATA"
        try:
            return _read_headers(path)
        except OSError:
            return Headers()

    @property
    def display_name(self) -> str:
        """The name as its METADATA spells it ("Foo_Bar"), falling back to the canonical name."""
        return str(self.metadata.get("Name") or self.name)

    @cached_property
    def requires_dist(self) -> list[str]:
        """The Requires-Dist requirement strings (markers included), unparsed."""
        if self.is_egg_info:
            text = self._read_text("requires.txt")
            if text is not None:
                return _egg_requires(text)
        return list(self.metadata.get_all("Requires-Dist") or ())

    @property
    def requires_python(self) -> str | None:
        """The Requires-Python specifier text, unparsed."""
        return self.metadata.get("Requires-Python")

    @property
    def provides_extra(self) -> list[str]:
        """The Provides-Extra values, as written."""
        return list(self.metadata.get_all("Provides-Extra") or ())


def _egg_requires(text: str) -> list[str]:
    """requires.txt ("[extra:marker]" sections) as Requires-Dist strings."""
    out: list[str] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        extra, _, marker = section.partition(":")
        conditions = []
        if marker.strip():
            conditions.append(f"({marker.strip()})" if extra else marker.strip())
        if extra.strip():
            conditions.append(f'extra == "{extra.strip()}"')
        out.append(f"{line} ; {' and '.join(conditions)}" if conditions else line)
    return out


def site_packages_dirs(paths: Mapping[str, str] | Iterable[str | Path]) -> list[Path]:
    """purelib and platlib of a scheme (or the given directories), without duplicates."""
    if isinstance(paths, Mapping):
        candidates: list[str | Path] = [paths["purelib"], paths["platlib"]]
    else:
        candidates = list(paths)
    out: list[Path] = []
    seen: set[str] = set()
    for c in candidates:
        real = os.path.realpath(c)
        if real not in seen:
            seen.add(real)
            out.append(Path(c))
    return out


def _valid_version(text: str) -> bool:
    if parse_version(text) is not None:  # (the usual case, without importing packaging)
        return True
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _from_name(stem: str, *, egg: bool) -> tuple[str, str] | None:
    parts = stem.split("-")
    if egg and len(parts) >= 2 and parts[0]:
        # name-version[-pyX.Y[-platform]]; setuptools wrote "-" in versions as "_".
        version = parts[1].replace("_", "-")
        return (canonicalize_name(parts[0]), version) if _valid_version(version) else None
    if len(parts) == 2 and parts[0] and _valid_version(parts[1]):
        return canonicalize_name(parts[0]), parts[1]
    return None


def _dist_at(path: Path, *, egg: bool) -> InstalledDist | None:
    suffix = ".egg-info" if egg else ".dist-info"
    parsed = _from_name(path.name[: -len(suffix)], egg=egg)
    if parsed is not None:
        return InstalledDist(parsed[0], parsed[1], path)
    probe = InstalledDist("", "", path)
    meta = probe.metadata
    name, version = meta.get("Name"), meta.get("Version")
    if not name or not version:
        log.debug("skipping %s: no name and version in its name or metadata", path)
        return None
    return InstalledDist(canonicalize_name(str(name)), str(version), path)


def list_installed(paths: Mapping[str, str] | Iterable[str | Path]) -> list[InstalledDist]:
    """Every distribution in the scheme's site-packages directories, sorted by name. A name
    found twice (purelib and platlib) is listed twice; purelib's first."""
    found: list[InstalledDist] = []
    directories = site_packages_dirs(paths)
    for directory in directories:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if name.endswith(".dist-info") and entry.is_dir():
                dist = _dist_at(Path(entry.path), egg=False)
            elif name.endswith(".egg-info"):
                dist = _dist_at(Path(entry.path), egg=True)
            else:
                continue
            if dist is not None:
                found.append(dist)
    order = {str(d): i for i, d in enumerate(directories)}
    found.sort(key=lambda d: (d.name, order.get(str(d.site_packages), 0)))
    return found


def find_installed(
    paths: Mapping[str, str] | Iterable[str | Path], name: str
) -> InstalledDist | None:
    """The installed distribution called ``name`` (any spelling), or None."""
    wanted = canonicalize_name(name)
    for dist in list_installed(paths):
        if dist.name == wanted:
            return dist
    return None
