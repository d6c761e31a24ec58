"""What is installed in an environment: one listdir per site-packages directory.

Names and versions come from ``<name>-<version>.dist-info`` directory names; METADATA is read
only when a name is not in that form, or when someone asks for it (``requires_dist``,
``display_name``). ``.egg-info`` directories and files (legacy setuptools/pip installs) are listed
too, read-only: satchel never writes or removes them.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

log = logging.getLogger("satchel.install")


def _read_headers(path: Path) -> Message:
    """The header block of a METADATA/PKG-INFO file (the body is not read past the blank line)."""
    lines: list[bytes] = []
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                break
            lines.append(line)
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(b"".join(lines))


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
    def metadata(self) -> Message:
        """The METADATA (PKG-INFO for egg-info) headers; empty if unreadable."""
        if self.is_egg_info:
            path = self.dist_info / "PKG-INFO" if self.dist_info.is_dir() else self.dist_info
        else:
            path = self.dist_info / "METADATA"
        try:
            return _read_headers(path)
        except OSError:
            return Message()

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
        return [str(r) for r in self.metadata.get_all("Requires-Dist") or []]


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
    for directory in site_packages_dirs(paths):
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
    order = {str(d): i for i, d in enumerate(site_packages_dirs(paths))}
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
