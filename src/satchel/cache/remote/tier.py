"""The remote tier behind the local cache (docs/remote-cache.md).

Read path: a local miss asks the remote (tight timeouts); what comes back is verified (sha256 and
size of every blob, the action record's checksum and, with a key, its signature) and stored
through the normal atomic local write, then used. Write path (read-write mode only): a new local
entry is uploaded in the background, blob first and action record last, each written only if
absent (the first writer wins). ``finish`` gives pending uploads a bounded wait, then abandons
them with one line.

Faults never fail a run: an unreachable, refusing, timing-out, failing (5xx) or credential-
rejecting remote is one warning and off for the rest of the run; a wrong blob is a miss with one
warning naming it (replaced in read-write mode once the entry is redone locally); a record whose
blob is gone is a miss.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from satchel.cache import record
from satchel.cache.buckets import Bucket
from satchel.cache.record import CorruptEntry, Record
from satchel.cache.remote import layout
from satchel.cache.remote.backend import Exists, Missing, RemoteDown, Store
from satchel.cache.remote.config import RemoteConfig
from satchel.cache.remote.layout import ActionFile, ActionRecord
from satchel.errors import SatchelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.cache.store import Cache, Tree

log = logging.getLogger("satchel.cache.remote")

R = TypeVar("R", bound=Record)
UPLOAD_THREADS = 2
STREAM_ABOVE = 64 << 20  # blobs larger than this are uploaded from the file, not from memory


def _nothing() -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


class _Miss(Exception):
    """A remote entry cannot be used (missing or bad blob); the caller treats it as a miss."""


class RemoteTier:
    def __init__(self, cache: Cache, config: RemoteConfig) -> None:
        self.cache = cache
        self.config = config
        self.off = False
        self.uploads_off = not config.writes
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._store_lock = threading.Lock()
        self._pending_delete: set[str] = set()
        self._replace_lock = threading.Lock()
        self._warned: set[str] = set()
        self._replace_blobs: set[str] = set()
        self._replace_actions: set[tuple[str, str]] = set()
        self._jobs: queue.Queue[Callable[[], object]] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self._workers: list[threading.Thread] = []
        self.stats = {"hits": 0, "misses": 0, "uploaded": 0, "skipped": 0}

    # -- state and warnings ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.config.target.url

    def store(self) -> Store | None:
        if self.off:
            return None
        if self._store is None:
            # (Its own lock: the first contact may take the connect timeout; nothing else waits.)
            with self._store_lock:
                if self._store is None and not self.off:
                    try:
                        store = Store(self.config)
                    except SatchelError as exc:
                        self.off = True
                        log.warning("%s; going on without the remote cache", exc.message)
                        return None
                    try:
                        store.probe()
                    except RemoteDown as exc:
                        self.down(exc.reason)
                        return None
                    self._store = store
        return self._store

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning(message, *args)

    def down(self, reason: str) -> None:
        """The remote failed as a whole: one warning, off for the rest of the run."""
        self.off = True
        self._warn_once(
            "down", "remote cache %s is unavailable (%s); going on without it for this run",
            self.url, reason,
        )

    def _upload_failed(self, reason: str) -> None:
        self.uploads_off = True
        self._warn_once(
            "uploads", "uploading to the remote cache %s failed (%s); no more uploads this run",
            self.url, reason,
        )

    def _bad(self, what: str, reason: str, *, blob: str | None = None,
             action: tuple[str, str] | None = None) -> None:
        self._warn_once(
            f"bad:{what}", "ignoring remote cache entry %s: %s; doing the work locally", what, reason
        )
        if not self.uploads_off:
            with self._lock:
                if blob is not None:
                    self._replace_blobs.add(blob)
                    self._pending_delete.add(blob)
                if action is not None:
                    self._replace_actions.add(action)
            if blob is not None:
                # The bad object goes; the entry redone locally is uploaded in its place (a
                # rebuild may have other bytes: then the old digest is simply gone).
                self._submit(lambda: self._delete_bad_blob(blob))

    def _delete_bad_blob(self, digest: str) -> None:
        store = self.store()
        with self._replace_lock:
            with self._lock:
                if digest not in self._pending_delete:
                    return  # replaced by an upload meanwhile
                self._pending_delete.discard(digest)
            if store is not None:
                try:
                    store.delete(layout.blob_path(digest))
                except (Missing, RemoteDown):
                    pass

    # -- reading -----------------------------------------------------------------------------------

    def _action(self, kind: str, key: str) -> ActionRecord | None:
        store = self.store()
        if store is None:
            return None
        path = layout.action_path(kind, key)
        try:
            data = store.read(path)
        except Missing:
            self.stats["misses"] += 1
            return None
        except RemoteDown as exc:
            self.down(exc.reason)
            return None
        try:
            rec = layout.loads(data)
        except CorruptEntry as exc:
            self._bad(path, exc.reason, action=(kind, key))
            return None
        if rec.kind != kind or rec.key != key:
            self._bad(path, f"it is the record of {rec.kind}/{rec.key}", action=(kind, key))
            return None
        if self.config.key is not None and not layout.signature_ok(rec, self.config.key):
            self._warn_once(
                "signature",
                "ignoring unsigned or badly signed records in the remote cache %s (first: %s); "
                "SATCHEL_REMOTE_CACHE_KEY is set",
                self.url, path,
            )
            with self._lock:
                self._replace_actions.add((kind, key))
            return None
        return rec

    def _stream_blob(self, digest: str, size: int | None, write: Callable[[bytes], object]) -> None:
        """Stream blob ``digest`` into ``write``, checking size and sha256; _Miss on any fault."""
        store = self.store()
        if store is None:
            raise _Miss()
        path = layout.blob_path(digest)
        h = hashlib.sha256()
        got = 0
        try:
            for chunk in store.stream(path):
                got += len(chunk)
                if size is not None and got > size:
                    self._bad(path, f"it is larger than its {size} bytes", blob=digest)
                    raise _Miss()
                h.update(chunk)
                write(chunk)
        except Missing:
            raise _Miss() from None
        except RemoteDown as exc:
            self.down(exc.reason)
            raise _Miss() from None
        if size is not None and got != size:
            self._bad(path, f"it is {got} bytes, expected {size}", blob=digest)
            raise _Miss()
        actual = h.hexdigest()
        if actual != digest:
            self._bad(path, f"content sha256 is {actual}", blob=digest)
            raise _Miss()

    def fetch_file(self, name: str, sha256: str, filename: str) -> Path | None:
        """A downloaded file by its sha256: into the local cache, or None."""
        from satchel.cache.errors import CacheWriteFailed, DigestMismatch

        if self.store() is None:
            return None
        try:
            with self.cache.file_writer(name, filename, None, upload=False) as writer:
                self._stream_blob(sha256, None, writer.write)
        except _Miss:
            return None
        except (CacheWriteFailed, DigestMismatch):
            return None
        self.stats["hits"] += 1
        log.debug("%s: from the remote cache", filename)
        return writer.path

    def fetch_record(self, cls: type[R], key: str) -> R | None:
        """A record (core metadata by file sha256) from its action record, stored locally."""
        kind = layout.remote_kind(cls.bucket, key)
        if kind is None:
            return None
        action = self._action(kind, key)
        if action is None:
            return None
        path = layout.action_path(kind, key)
        try:
            data = action.entry_bytes()
            rec = record.loads(data, cls)
        except (ValueError, CorruptEntry) as exc:
            reason = exc.reason if isinstance(exc, CorruptEntry) else "undecodable entry"
            self._bad(path, reason, action=(kind, key))
            return None
        self.cache.write(key, rec, upload=False)
        self.stats["hits"] += 1
        return rec

    def fetch_tree(self, bucket: Bucket, key: str) -> Tree | None:
        """A built wheel or prepared metadata by its exact key, stored locally, or None."""
        kind = layout.remote_kind(bucket, key)
        if kind is None:
            return None
        action = self._action(kind, key)
        if action is None or not action.files:
            return None

        def populate(dest: Path) -> dict[str, str]:
            known: dict[str, str] = {}
            for f in action.files:
                target = dest / f.path
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with open(target, "xb") as fh:
                        self._stream_blob(f.sha256, f.size, fh.write)
                except _Miss:
                    with self._lock:
                        if not self.uploads_off:
                            self._replace_actions.add((kind, key))
                    raise
                if f.executable:
                    os.chmod(target, 0o755)
                known[f.path] = f.sha256
            return known

        try:
            tree = self.cache.build_tree(
                bucket, key, populate, source=action.source or f"from {self.url}", upload=False
            )
        except _Miss:
            return None
        self.stats["hits"] += 1
        log.debug("%s: from the remote cache", key)
        return tree

    # -- writing -----------------------------------------------------------------------------------

    def _submit(self, job: Callable[[], object]) -> None:
        if self.uploads_off or self.off:
            return
        with self._lock:
            self._pending += 1
            if len(self._workers) < UPLOAD_THREADS:
                t = threading.Thread(target=self._work, name="satchel-upload", daemon=True)
                self._workers.append(t)
                t.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if not (self.uploads_off or self.off):
                    job()
            except Exception as exc:  # never let an upload take anything down
                log.debug("upload failed: %r", exc)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._idle.notify_all()

    def _put(self, path: str, data: bytes | Path, *, replace: bool) -> bool:
        store = self.store()
        if store is None:
            return False
        try:
            store.write(path, data, if_absent=not replace)
            self.stats["uploaded"] += 1
            return True
        except Exists:
            self.stats["skipped"] += 1
            return True
        except RemoteDown as exc:
            self._upload_failed(exc.reason)
            return False

    def _put_blob(self, digest: str, source: Path) -> bool:
        """Upload a local file as blob ``digest`` (checked first: never upload damaged bytes)."""
        store = self.store()
        if store is None:
            return False
        path = layout.blob_path(digest)
        with self._lock:
            replace = digest in self._replace_blobs
            self._replace_blobs.discard(digest)
        if not replace:
            try:
                store.size(path)
                self.stats["skipped"] += 1
                return True
            except Missing:
                pass
            except RemoteDown as exc:
                self._upload_failed(exc.reason)
                return False
        try:
            with self._replace_lock if replace else _nothing():
                with self._lock:
                    self._pending_delete.discard(digest)
                return self._put_blob_bytes(path, digest, source, replace)
        except OSError:
            return False  # evicted or changed meanwhile: nothing to upload

    def _put_blob_bytes(self, path: str, digest: str, source: Path, replace: bool) -> bool:
        try:
            size = source.stat().st_size
            if size > STREAM_ABOVE:
                from satchel.standards.digests import file_digest

                if file_digest(source)[0] != digest:
                    return False
                data: bytes | Path = source
            else:
                data = source.read_bytes()
                if hashlib.sha256(data).hexdigest() != digest:
                    return False
        except OSError:
            return False  # evicted or changed meanwhile: nothing to upload
        return self._put(path, data, replace=replace)

    def _put_action(self, rec: ActionRecord) -> None:
        with self._lock:
            replace = (rec.kind, rec.key) in self._replace_actions
            self._replace_actions.discard((rec.kind, rec.key))
        signed = layout.sign(rec, self.config.key)
        self._put(layout.action_path(rec.kind, rec.key), layout.dumps(signed), replace=replace)

    def upload_file(self, sha256: str, path: Path) -> None:
        self._submit(lambda: self._put_blob(sha256, path))

    def upload_record(self, bucket: Bucket, key: str, data: bytes) -> None:
        kind = layout.remote_kind(bucket, key)
        if kind is None:
            return
        rec = ActionRecord(kind, key, [], base64.b64encode(data).decode("ascii"))
        self._submit(lambda: self._put_action(rec))

    def upload_tree(self, bucket: Bucket, key: str, tree: Tree) -> None:
        kind = layout.remote_kind(bucket, key)
        if kind is None:
            return
        files = [ActionFile(f.path, f.size, f.sha256, f.executable) for f in tree.manifest.files]
        rec = ActionRecord(kind, key, files, "", tree.manifest.source)

        def job() -> None:
            # Blobs first, the record last: a record never points at a blob not yet there.
            for f in files:
                if not self._put_blob(f.sha256, tree.path / f.path):
                    return
            self._put_action(rec)

        self._submit(job)

    def finish(self, wait: float | None = None) -> None:
        """Give pending uploads up to ``wait`` seconds (the configured wait by default), then
        abandon them with one line."""
        wait = self.config.upload_wait if wait is None else wait
        deadline = time.monotonic() + wait
        with self._lock:
            while self._pending and not (self.uploads_off or self.off):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._idle.wait(remaining)
            left = self._pending
        if left and not (self.uploads_off or self.off):
            log.warning(
                "abandoning %d upload%s to the remote cache after waiting %s s "
                "(--remote-upload-wait)",
                left, "" if left == 1 else "s", f"{wait:g}",
            )

    def drain(self) -> None:
        """Wait for every pending upload (``cache push``)."""
        with self._lock:
            while self._pending and not (self.uploads_off or self.off):
                self._idle.wait(0.5)

