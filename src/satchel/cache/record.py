"""The self-describing record file format.

A record file is a fixed header followed by a JSON payload::

    magic        8 bytes   b"SATCHEL" + header layout version (1)
    record type 24 bytes   ASCII, NUL padded ("index-page", "interpreter", ...)
    format       4 bytes   big-endian u32: the bucket's format version
    length       8 bytes   big-endian u64: payload length
    checksum    32 bytes   sha256 of the payload
    payload     length     UTF-8 JSON object (the record's fields)

Any mismatch (short file, other magic, other type or version, wrong length, checksum, JSON or
shape) raises CorruptEntry with a one-line reason; callers treat that as a cache miss.
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from satchel.cache import schema
from satchel.cache.buckets import Bucket

MAGIC = b"SATCHEL\x01"
_HEADER = struct.Struct(">8s24sIQ32s")
HEADER_SIZE = _HEADER.size
#: Where the payload checksum sits in the header.
CHECKSUM = slice(HEADER_SIZE - 32, HEADER_SIZE)

R = TypeVar("R", bound="Record")


# Small inputs are hashed with the interpreter's built-in sha256 (where it has one) while
# hashlib is not imported yet: importing it loads OpenSSL, about 3 ms of start-up that reading
# one small record (the no-op install reads only the target's interpreter record; it writes one
# replay of 20-40 KB) would pay. The built-in one does ~250 MB/s here, so up to 128 KB it costs
# at most ~0.5 ms. OpenSSL's is several times faster per byte, so larger inputs, and everything
# once hashlib is loaded anyway (the full install imports it), go to hashlib.
_SMALL = 1 << 17
_builtin: Callable[[bytes], Any] | None = None


def sha256(data: bytes) -> bytes:
    """The sha256 digest of ``data`` (``hashlib.sha256(data).digest()``)."""
    global _builtin
    if len(data) <= _SMALL and "hashlib" not in sys.modules:
        if _builtin is None:
            _builtin = _find_builtin_sha256()
        return _builtin(data).digest()
    import hashlib

    return hashlib.sha256(data).digest()


def _find_builtin_sha256() -> Callable[[bytes], Any]:
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256 as fn
        else:
            from _sha256 import sha256 as fn
    except ImportError:  # built without it (only OpenSSL's, say)
        from hashlib import sha256 as fn
    return fn


class CorruptEntry(Exception):
    """A cache entry could not be used; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Record:
    """Base of every dataclass stored as a record. Subclasses declare where they live::

        @dataclass(frozen=True)
        class InterpreterRecord(Record, record_type="interpreter", bucket=buckets.INTERPRETERS):
            ...
    """

    record_type: ClassVar[str]
    bucket: ClassVar[Bucket]
    registry: ClassVar[dict[str, type[Record]]] = {}
    # Where in its bucket this record type is stored: a regex the key (the path under the bucket)
    # must match in full. ``cache verify`` uses it to tell a valid record of the wrong type (one
    # kept elsewhere in the same bucket) from the right one. None: any key in the bucket.
    key_pattern: ClassVar[str | None] = None

    def __init_subclass__(cls, *, record_type: str, bucket: Bucket, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if len(record_type.encode("ascii")) > 24:
            raise ValueError(f"record type name too long: {record_type}")
        cls.record_type = record_type
        cls.bucket = bucket
        Record.registry[record_type] = cls

    def address(self, key: str) -> str | None:
        """The sha256 (hex) of the file whose content alone fixes this record's (core metadata
        keyed by its file's digest), or None for a record that may be replaced by another."""
        return None

    def references(self, key: str) -> list[tuple[Bucket, str]]:
        """Other cache entries (bucket, key) this record, stored under ``key``, points at. A record
        whose reference is gone is dangling: a miss with a warning, and a problem for verify."""
        return []


def dumps(record: Record) -> bytes:
    # (no check for cycles: typed records cannot hold one, and the check took a third of the
    # time of encoding a page of thousands of files)
    payload = json.dumps(
        schema.encode(record), separators=(",", ":"), ensure_ascii=False, check_circular=False
    ).encode()
    rtype = type(record).record_type.encode("ascii")
    header = _HEADER.pack(
        MAGIC, rtype, type(record).bucket.version, len(payload), sha256(payload)
    )
    return header + payload


def loads(data: bytes, cls: type[R]) -> R:
    check(data, cls.record_type, cls.bucket.version)
    return _decode(data[HEADER_SIZE:], cls)


def check(data: bytes, record_type: str, version: int) -> bytes:
    """The payload checksum of ``data`` if it is a whole, sound record of type ``record_type``
    and format ``version``; else :class:`CorruptEntry` saying what is wrong. What :func:`loads`
    checks before it decodes."""
    digest = check_header(data, len(data), record_type, version)
    if sha256(data[HEADER_SIZE:]) != digest:
        raise CorruptEntry("checksum mismatch")
    return digest


def check_header(head: bytes, size: int, record_type: str, version: int) -> bytes:
    """The payload checksum in ``head`` (the start of a record file of ``size`` bytes, at least
    its header) if the header is sound, of type ``record_type`` and format ``version``, and
    its length matches ``size``; else :class:`CorruptEntry`. The payload is not hashed."""
    if size == 0:
        raise CorruptEntry("empty file")
    if size < HEADER_SIZE or len(head) < HEADER_SIZE:
        raise CorruptEntry("truncated header")
    magic, rtype, found_version, length, digest = _HEADER.unpack_from(head)
    if magic != MAGIC:
        raise CorruptEntry("not a satchel record (bad magic)")
    rtype_name = rtype.rstrip(b"\0").decode("ascii", "replace")
    if rtype_name != record_type:
        raise CorruptEntry(f"wrong record type {rtype_name!r}, expected {record_type!r}")
    if found_version != version:
        raise CorruptEntry(f"format version {found_version}, this satchel reads {version}")
    if size - HEADER_SIZE != length:
        raise CorruptEntry(f"payload is {size - HEADER_SIZE} bytes, header says {length} (truncated?)")
    return bytes(digest)


def _decode(payload: bytes, cls: type[R]) -> R:
    try:
        obj = json.loads(payload)
        return schema.decode(cls, obj)
    except (ValueError, schema.SchemaError, TypeError) as exc:
        raise CorruptEntry(f"undecodable payload ({exc})") from None
