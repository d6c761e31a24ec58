"""A journal of the records one piece of work read and wrote, and the check that they are unchanged.

Work whose result is worth remembering (a resolution) depends on the records it read: index pages
and core metadata. While a :class:`Journal` is open on a cache, every record the cache reads or
writes is noted with its type, the payload checksum in its header and the identity of the file
it was read from or written to (:func:`identity`), the last one noted per entry winning (a stale
page read, then refetched and written, is noted as written).

:func:`unchanged` answers whether every noted record is still stored with the same checksum.
Records are only ever replaced whole, by rename, and any write to a file moves its ctime: a record
whose file has the noted identity is the file that was read, so its header is enough (its type,
format, length against the file's size, and checksum). A record without a noted identity, or
whose file's identity differs (a copied or restored cache, a file rewritten in place), is read
and its payload hashed, as a read would, but not decoded. Any doubt (missing, unreadable, short,
damaged, other) is "changed", and what was remembered is simply not used; a record found
unreadable or damaged is also reported and removed, exactly as a read would, so the work that
follows fetches it again.

An identity is only noted for a file whose ctime is at least :data:`RACY_NS` old when it is
taken: file times have a coarse clock, and a file written again within the same tick could keep
them (git's "racily clean" entries). A record written moments before is therefore checked in full
until a later check notes its identity (:attr:`Check.identities`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import buckets, record


@dataclass(frozen=True)
class Noted:
    """One record: its bucket's directory name, its key there, its record type, its payload
    checksum (hex), the sha256 of the file that alone fixes its content, if one does
    (``Record.address``), and the identity of the file it was read from or written to, if one
    could be trusted (:func:`identity`)."""

    bucket: str
    key: str
    record_type: str
    checksum: str
    address: str | None = None
    identity: list[int] | None = None


#: How old a file's ctime must be for its identity to be noted (see the module docstring).
RACY_NS = 2_000_000_000


def identity(st: os.stat_result, now_ns: int | None = None) -> list[int] | None:
    """The file's identity (device, inode, size, mtime and ctime in ns), or None when its ctime
    is less than :data:`RACY_NS` before ``now_ns`` (or after it): too recent to trust."""
    now = time.time_ns() if now_ns is None else now_ns
    if now - st.st_ctime_ns < RACY_NS:
        return None
    return _identity(st)


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class Journal:
    """The records noted while it is open (thread-safe: index workers read and write records),
    and the records looked for and not found (:meth:`missing`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._noted: dict[tuple[str, str], Noted] = {}
        self._missing: set[tuple[str, str]] = set()
        self.open = True

    def note(
        self, bucket: buckets.Bucket, key: str, data: bytes, rec: record.Record, st: os.stat_result | None
    ) -> None:
        """Note the record ``rec`` stored under ``key`` as the bytes ``data`` (header first), in
        the file whose status is ``st`` (None: unknown)."""
        if not self.open:
            return
        noted = Noted(
            bucket.dirname,
            key,
            type(rec).record_type,
            data[record.CHECKSUM].hex(),
            rec.address(key),
            identity(st) if st is not None else None,
        )
        with self._lock:
            self._noted[(bucket.dirname, key)] = noted

    def note_checked(self, noted: Noted) -> None:
        """Note a record found unchanged (:func:`unchanged`): as good as read."""
        if not self.open:
            return
        with self._lock:
            self._noted[(noted.bucket, noted.key)] = noted

    def note_missing(self, bucket: buckets.Bucket, key: str) -> None:
        """Note a record looked for and not found in any root."""
        if not self.open:
            return
        with self._lock:
            self._missing.add((bucket.dirname, key))

    def missing(self) -> list[tuple[str, str]]:
        """(bucket directory, key) of each record looked for and not found, sorted: those not
        noted after all (written later)."""
        with self._lock:
            return sorted(k for k in self._missing if k not in self._noted)

    def close(self) -> list[Noted]:
        """Stop noting; what was noted, sorted."""
        with self._lock:
            self.open = False
            return [self._noted[k] for k in sorted(self._noted)]


@dataclass(frozen=True)
class Check:
    """What :func:`unchanged` found. ``identities``: the noted records again, with the identity
    of each file as it is now where that differs from the one noted (None when none did), for
    the caller to store so that the next check reads headers only."""

    unchanged: bool
    identities: list[Noted] | None = None


def unchanged(
    roots: Sequence[Path],
    noted: Iterable[Noted],
    broken: Callable[[Path, OSError | record.CorruptEntry], None],
) -> Check:
    """Whether every noted record is still stored (in the first of ``roots`` that has it),
    whole and sound, with the same type and payload checksum (module docstring). A record that
    cannot be read, or is not whole and sound, is passed to ``broken`` with what failed, as a
    read would pass it (the caller reports and removes it, so the work that follows fetches it
    again)."""
    now = time.time_ns()
    again: list[Noted] = []
    moved = False
    for entry in noted:
        bucket = buckets.by_dirname(entry.bucket)
        if bucket is None:
            return Check(False)
        found = None
        for root in roots:
            path = root / entry.bucket / entry.key
            try:
                found = _checksum(path, entry, bucket.version)
                break
            except FileNotFoundError:
                continue
            except (OSError, record.CorruptEntry) as exc:
                broken(path, exc)
                return Check(False)
            except ValueError:
                return Check(False)
        if found is None:
            return Check(False)
        checksum, st = found
        if checksum.hex() != entry.checksum:
            return Check(False)
        now_identity = identity(st, now)
        if now_identity != entry.identity:
            moved = True
            entry = Noted(entry.bucket, entry.key, entry.record_type, entry.checksum, entry.address, now_identity)
        again.append(entry)
    return Check(True, again if moved else None)


def _checksum(path: Path, entry: Noted, version: int) -> tuple[bytes, os.stat_result]:
    """The payload checksum of the record at ``path`` and its file's status: from the header
    alone when the file has the noted identity, else from the whole record checked as a read
    checks it. Raises OSError, :class:`~satchel.cache.record.CorruptEntry`."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        if entry.identity is not None and _identity(st) == entry.identity:
            head = fh.read(record.HEADER_SIZE)
            return record.check_header(head, st.st_size, entry.record_type, version), st
        return record.check(fh.read(), entry.record_type, version), st
