"""The index client's cache records, written in background threads.

Whoever waits for a page or metadata should not also wait for its record to be encoded and
fsynced (tens of milliseconds when a dozen workers sync at once). Page records are held back
until the resolution is over; :meth:`RecordWriter.close` waits for every write asked for, and
drops the ones asked for after it (by speculative fetches that finished late).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from satchel.cache.record import Record
    from satchel.cache.store import Cache

#: Threads writing page and metadata records to the cache. Each write waits for two fsyncs:
#: two writers managed 225 records a second on the busy test machine, eight about 285 (the
#: 3,000 of a boto3 resolution must be written while it runs, not after).
WRITERS = 8


class RecordWriter:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._writes: dict[str, Future[None]] = {}
        self._closed = False  # close() is done waiting for writes: later ones are dropped
        self._held: list[tuple[str, Record]] = []  # page records to write after the resolution

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run: the run is over."""
        return self._closed

    def write_later(self, key: str, rec: Record, *, hold: bool = False) -> None:
        """Store ``rec`` under ``key`` in the background. ``hold``: not even that before the
        resolution is over (:meth:`write_held`): encoding a page of thousands of files takes
        the interpreter lock from the resolution for tens of milliseconds. :meth:`close` waits
        for every write."""
        with self._lock:
            if self._closed:
                # a speculative fetch that finished after close(): nobody waits for it, and the
                # run is over (the cache may no longer be ours to write to)
                return
            if hold:
                self._held.append((key, rec))
                return
            if self._writer is None:
                self._writer = ThreadPoolExecutor(WRITERS, thread_name_prefix="satchel-write")
            self._writes[key] = self._writer.submit(self.cache.write, key, rec)

    def write_held(self) -> None:
        """Start writing the records held back."""
        with self._lock:
            held, self._held = self._held, []
        for key, rec in held:
            self.write_later(key, rec)

    def wait_for(self, key: str) -> None:
        """Wait until a background write of ``key`` (if any) is done."""
        with self._lock:
            pending = self._writes.get(key)
        if pending is not None:
            pending.exception()

    def close(self) -> None:
        """Write what is held, wait for every write asked for; drop those asked for later."""
        self.write_held()
        with self._lock:
            writer, self._closed = self._writer, True
        if writer is not None:
            writer.shutdown(wait=True)
