"""A journal of the records one piece of work read and wrote, and the check that they are unchanged.

Work whose result is worth remembering (a resolution) depends on the records it read: index pages
and core metadata. While a :class:`Journal` is open on a cache, every record the cache reads or
writes is noted with its type and the payload checksum in its header, the last one noted per entry
winning (a stale page read, then refetched and written, is noted as written).

:func:`unchanged` answers whether every noted record is still stored, whole and sound, with the
same checksum: each is read and its payload hashed, as a read would, but nothing is decoded, which is
most of a read's cost. Any doubt (missing, unreadable, short, damaged, other) is "changed", and
what was remembered is simply not used; an unreadable or damaged record is also reported and
removed, exactly as a read would, so the work that follows fetches it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import buckets, record


@dataclass(frozen=True)
class Noted:
    """One record: its bucket's directory name, its key there, its record type, its payload
    checksum (hex), and the sha256 of the file that alone fixes its content, if one does
    (``Record.address``)."""

    bucket: str
    key: str
    record_type: str
    checksum: str
    address: str | None = None


class Journal:
    """The records noted while it is open (thread-safe: index workers read and write records)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._noted: dict[tuple[str, str], tuple[str, str, str | None]] = {}
        self.open = True

    def note(self, bucket: buckets.Bucket, key: str, data: bytes, rec: record.Record) -> None:
        """Note the record ``rec`` stored under ``key`` as the bytes ``data`` (header first)."""
        if not self.open:
            return
        checksum = data[record.CHECKSUM].hex()
        with self._lock:
            self._noted[(bucket.dirname, key)] = (type(rec).record_type, checksum, rec.address(key))

    def close(self) -> list[Noted]:
        """Stop noting; what was noted, sorted."""
        with self._lock:
            self.open = False
            return [Noted(b, k, t, c, a) for (b, k), (t, c, a) in sorted(self._noted.items())]


def unchanged(
    roots: Sequence[Path], noted: Iterable[Noted], broken: Callable[[Path, str], None]
) -> bool:
    """Whether every noted record is still stored (in the first of ``roots`` that has it),
    whole and sound, with the same type and payload checksum. A record that cannot be read, or
    is not whole and sound, is passed to ``broken`` with the reason, as a read would pass it
    (the caller reports and removes it, so the work that follows fetches it again)."""
    for entry in noted:
        bucket = buckets.by_dirname(entry.bucket)
        if bucket is None:
            return False
        data = None
        for root in roots:
            try:
                data = (root / entry.bucket / entry.key).read_bytes()
                break
            except FileNotFoundError:
                continue
            except OSError as exc:
                broken(root / entry.bucket / entry.key, exc.strerror or str(exc))
                return False
            except ValueError:
                return False
        if data is None:
            return False
        try:
            checksum = record.check(data, entry.record_type, bucket.version)
        except record.CorruptEntry as exc:
            broken(root / entry.bucket / entry.key, exc.reason)
            return False
        if checksum.hex() != entry.checksum:
            return False
    return True
