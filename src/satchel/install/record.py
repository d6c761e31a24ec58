"""RECORD files (PEP 376 / wheel spec): CSV rows of ``path,algorithm=urlsafe-b64-digest,size``.

Digests are urlsafe base64 without ``=`` padding. Paths use ``/`` and are relative to the
directory holding the ``.dist-info`` directory (site-packages once installed, the wheel root inside
a wheel). RECORD itself, and sometimes .pyc files, have neither hash nor size.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from satchel.standards.digests import data_digest, file_digest

# Hash algorithms accepted in a RECORD: sha256 or stronger (the wheel spec forbids md5 and sha1).
ACCEPTED_ALGORITHMS = frozenset(
    {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"}
)


class RecordError(ValueError):
    """A RECORD file is malformed; the message names the line."""


@dataclass(frozen=True)
class RecordEntry:
    """One RECORD row. ``algorithm``/``digest`` are both None when the row has no hash."""

    path: str
    algorithm: str | None = None
    digest: str | None = None  # urlsafe base64, no padding
    size: int | None = None

    @classmethod
    def for_sha256(cls, path: str, sha256_hex: str, size: int) -> RecordEntry:
        return cls(path, "sha256", hex_to_b64(sha256_hex), size)

    @property
    def hash_field(self) -> str:
        if self.algorithm is None or self.digest is None:
            return ""
        return f"{self.algorithm}={self.digest}"

    def matches(self, algorithm: str, digest_b64: str) -> bool:
        return self.algorithm == algorithm and self.digest == digest_b64


def b64_digest(raw: bytes) -> str:
    """urlsafe base64 of a raw digest, without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def hex_to_b64(hexdigest: str) -> str:
    return b64_digest(bytes.fromhex(hexdigest))


def b64_to_hex(digest: str) -> str:
    padded = digest + "=" * (-len(digest) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).hex()


def hash_bytes(data: bytes) -> tuple[str, int]:
    """(sha256 hex, size) of ``data``."""
    return data_digest(data), len(data)


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of the file at ``path``."""
    return file_digest(path)


def parse_record(text: str) -> list[RecordEntry]:
    """Parse RECORD text. Raises RecordError naming the first bad line."""
    entries: list[RecordEntry] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) > 3:
                raise RecordError(f"line {line}: expected 3 fields, got {len(row)}")
            path, hash_field, size_field = (*row, "", "")[:3]
            if not path:
                raise RecordError(f"line {line}: empty path")
            algorithm = digest = None
            if hash_field:
                algorithm, sep, digest = hash_field.partition("=")
                if not sep or not algorithm or not digest:
                    raise RecordError(f"line {line}: malformed hash {hash_field!r} for {path}")
            size = None
            if size_field:
                try:
                    size = int(size_field)
                except ValueError:
                    raise RecordError(f"line {line}: malformed size {size_field!r} for {path}")
                if size < 0:
                    raise RecordError(f"line {line}: negative size for {path}")
            entries.append(RecordEntry(path, algorithm, digest, size))
    except csv.Error as exc:
        raise RecordError(f"line {reader.line_num}: {exc}")
    return entries


def read_record(path: Path) -> list[RecordEntry]:
    """Read and parse a RECORD file (OSError if unreadable, RecordError if malformed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 ({exc.reason})")
    return parse_record(text)


def format_record(entries: Iterable[RecordEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for e in entries:
        writer.writerow((e.path, e.hash_field, "" if e.size is None else str(e.size)))
    return out.getvalue()


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_QUOTED = frozenset(',"\r\n')  # what makes csv quote a field (QUOTE_MINIMAL, these dialects)


def format_sha256_record(rows: Iterable[tuple[str, str, int]], record_path: str) -> str:
    """RECORD text for ``rows`` of (path, sha256 hex, size), then ``record_path`` with no hash:
    what :func:`format_record` makes of the same entries (tests/unit/test_install_record.py
    compares them), with one f-string per row instead of a RecordEntry and a csv row (a
    warm install writes a row per installed file)."""
    b2a, fromhex = binascii.b2a_base64, bytes.fromhex
    lines = []
    for path, sha, size in rows:
        if _QUOTED.isdisjoint(path):
            b64 = b2a(fromhex(sha), newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")
            lines.append(f"{path},sha256={b64},{size}\n")
        else:
            lines.append(format_record([RecordEntry.for_sha256(path, sha, size)]))
    lines.append(format_record([RecordEntry(record_path)]))
    return "".join(lines)
