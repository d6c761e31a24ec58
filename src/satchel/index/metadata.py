"""Core metadata (METADATA / PKG-INFO / PEP 658 files): the fields an installer needs.

Only the header block is parsed (the long description after the first blank line is skipped).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from satchel.errors import SatchelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import zipfile  # (imported where a wheel is read: a warm install reads none)


class MetadataError(SatchelError):
    """Metadata is missing, unreadable, or disagrees with the file it came from."""


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """The parts of core metadata (METADATA / PKG-INFO / PEP 658 file) an installer uses.

    ``requires_dist`` holds the raw ``Requires-Dist`` strings (PEP 508, markers included) and
    ``provides_extra`` the raw ``Provides-Extra`` values.
    """

    name: str  # canonical (PEP 503)
    version: Version
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()

    @classmethod
    def from_email(cls, data: bytes | str) -> CoreMetadata:
        """Parse METADATA bytes; raises ``ValueError`` when Name or Version is missing/invalid.

        (``parse_metadata`` is the same with a user-facing error naming the source.)
        """
        try:
            return parse_metadata(data, source="metadata")
        except MetadataError as e:
            raise ValueError(e.message.removeprefix("metadata: ")) from None


_HEADER_END = re.compile(r"\r?\n\r?\n")


def parse_metadata(data: bytes | str, *, source: str) -> CoreMetadata:
    """Parse the RFC 822 header block of a METADATA/PKG-INFO file (the body is not read).

    ``source`` names where the bytes came from (file name or URL) for error messages.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    end = _HEADER_END.search(text)
    if end:
        text = text[: end.start()]
    import email.parser
    import email.policy

    msg = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    name = _one(msg.get("Name"))
    raw_version = _one(msg.get("Version"))
    if not name:
        raise MetadataError(f"{source}: metadata has no Name field")
    if not raw_version:
        raise MetadataError(f"{source}: metadata of {name} has no Version field")
    try:
        version = Version(raw_version)
    except InvalidVersion:
        raise MetadataError(f"{source}: metadata of {name} has an invalid Version {raw_version!r}") from None
    return CoreMetadata(
        name=canonicalize_name(name),
        version=version,
        requires_dist=tuple(v for v in (_one(x) for x in msg.get_all("Requires-Dist") or ()) if v),
        requires_python=_one(msg.get("Requires-Python")) or None,
        provides_extra=tuple(
            v for v in (_one(x) for x in msg.get_all("Provides-Extra") or ()) if v
        ),
    )


def _one(value: object) -> str:
    """A header value as one stripped line (folded continuation lines joined)."""
    if value is None:
        return ""
    return " ".join(str(value).split()) if "\n" in str(value) else str(value).strip()


def check_metadata_matches(meta: CoreMetadata, filename: str) -> None:
    """Raise ``MetadataError`` if ``meta`` is not for the wheel or sdist named ``filename``."""
    from satchel.index.simple import split_sdist_filename

    name: str | None
    version: str | None = None
    if filename.endswith(".whl"):
        try:
            parsed = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            raise MetadataError(f"{filename}: not a valid wheel filename") from None
        name, version = parsed[0], str(parsed[1])
    else:
        parsed_sdist = split_sdist_filename(filename)
        name, version = parsed_sdist if parsed_sdist else (None, None)
    if name is not None and meta.name != name:
        raise MetadataError(f"{filename}: metadata is for {meta.name!r}, not {name!r}")
    if version is not None and not _same_version(meta.version, version):
        raise MetadataError(f"{filename}: metadata has version {meta.version}, not {version}")


def _same_version(a: Version, b: str) -> bool:
    try:
        return a == Version(b)
    except InvalidVersion:
        return False


def find_wheel_metadata(zf: zipfile.ZipFile, filename: str) -> str:
    """The path of ``<name>-<version>.dist-info/METADATA`` inside the wheel ``filename``.

    There must be exactly one top-level ``.dist-info`` directory whose name matches the
    wheel's project name.
    """
    return wheel_metadata_path(zf.namelist(), filename)


def wheel_metadata_path(names: Collection[str], filename: str) -> str:
    """:func:`find_wheel_metadata` over member names: ``names`` must hold at least every member
    under a top-level ``*.dist-info`` directory (other names do not change the answer)."""
    try:
        want, _version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise MetadataError(f"{filename}: not a valid wheel filename") from None
    dirs = {n.split("/", 1)[0] for n in names if "/" in n}
    info_dirs = sorted(d for d in dirs if d.endswith(".dist-info"))
    if not info_dirs:
        raise MetadataError(f"{filename}: wheel has no .dist-info directory")
    if len(info_dirs) > 1:
        raise MetadataError(f"{filename}: wheel has several .dist-info directories: {', '.join(info_dirs)}")
    info = info_dirs[0]
    info_name = info[: -len(".dist-info")].rpartition("-")[0] or info[: -len(".dist-info")]
    if canonicalize_name(info_name) != want:
        raise MetadataError(f"{filename}: .dist-info directory {info!r} is not for {want!r}")
    path = f"{info}/METADATA"
    if path not in names:
        raise MetadataError(f"{filename}: wheel has no {path}")
    return path


def read_wheel_metadata_bytes(wheel: str | Path | IO[bytes], filename: str) -> bytes:
    """The raw METADATA of a wheel (a path or a seekable binary file object)."""
    import zipfile

    try:
        with zipfile.ZipFile(wheel) as zf:
            path = find_wheel_metadata(zf, filename)
            return zf.read(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise MetadataError(f"{filename}: not a valid wheel ({e})") from None


def read_wheel_metadata(wheel: str | Path | IO[bytes], filename: str) -> CoreMetadata:
    """Parse a wheel's METADATA, checking it belongs to the project and version in ``filename``."""
    meta = parse_metadata(read_wheel_metadata_bytes(wheel, filename), source=filename)
    check_metadata_matches(meta, filename)
    return meta
