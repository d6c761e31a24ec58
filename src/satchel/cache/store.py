"""The cache store: where entries live, how they are read, written, checked and healed.

Contract (docs/cache.md): any failure to read an entry is a miss plus one warning, and the entry is
removed so the next write heals it; every write is atomic and durable; a failed write degrades the
run to a scratch cache with one warning; a read-only cache is read, with new entries going to the
scratch cache.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from satchel.cache import atomic, buckets, record
from satchel.cache.buckets import Bucket
from satchel.cache.errors import CacheWriteFailed, DigestMismatch
from satchel.cache.locks import flock
from satchel.cache.record import CorruptEntry, Record
from satchel.standards.digests import file_digest

# hashlib (OpenSSL), tempfile, shutil and the tree manifests are imported where they are used:
# commands that only read a record or two (a no-op install) never need them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.cache.journal import Check, Journal, Noted
    from satchel.cache.manifest import Listing, Manifest
    from satchel.cache.remote.config import RemoteConfig
    from satchel.cache.remote.tier import RemoteTier

log = logging.getLogger("satchel.cache")

R = TypeVar("R", bound=Record)

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by satchel.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
USE_LOCK = ".lock"
#: Seconds to wait for another process's lock on an entry (``Settings.lock_timeout``,
#: SATCHEL_LOCK_TIMEOUT, sets a cache's own).
ENTRY_LOCK_TIMEOUT = 600.0


def default_cache_dir() -> Path:
    """The user cache directory (SATCHEL_CACHE_DIR is ``Settings.cache_dir``, passed as the
    cache's root)."""
    from satchel.cache.userdir import user_cache_dir

    return Path(user_cache_dir())


def safe_key(text: str, length: int = 16) -> str:
    """A short filesystem-safe digest of arbitrary text (URLs, paths)."""
    return record.sha256(text.encode()).hex()[:length]


@dataclass(frozen=True)
class Tree:
    """An unpacked directory in the cache: ``path`` holds the files listed in ``manifest``."""

    path: Path
    manifest: Manifest


def load_tree(path: Path) -> Tree:
    """The tree of an entry whose ``tree`` directory is ``path`` (what ``Tree.path`` holds),
    with the manifest stored beside it, read again but not checked against the files: for a
    process given the path of a tree another one has checked. Raises ``OSError`` or
    ``CorruptEntry``."""
    from satchel.cache.manifest import Manifest

    return Tree(path, record.loads((path.parent / "manifest").read_bytes(), Manifest))


class Cache:
    """``root`` (default: the user cache directory); ``lock_timeout``: seconds to wait for an
    entry another process is writing; ``fsync=False`` (tests only) makes writes not durable."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        no_cache: bool = False,
        lock_timeout: float = ENTRY_LOCK_TIMEOUT,
        fsync: bool = True,
        remote: RemoteConfig | None = None,
    ) -> None:
        self.lock_timeout = lock_timeout
        if not fsync:
            atomic.disable_fsync()
        self._scratch: Path | None = None
        # The remote tier (docs/remote-cache.md): set up on the first local miss that could use
        # it, so a run that never misses never imports its client library.
        self._remote_config = remote
        self._remote: RemoteTier | None = None
        # Worker threads degrade at the same moment: they must all get the one scratch root (two
        # would split a download between them, and close() would remove only one).
        self._scratch_lock = threading.Lock()
        self._warned: set[str] = set()
        self._journals: list[Journal] = []
        self.read_only = False
        self.degraded = False
        self._unreadable = False  # the root is not a directory (and cannot be made one)
        if no_cache:
            self.root = self._scratch_root()
        else:
            self.root = (root or default_cache_dir()).absolute()
            self._init_root()

    # -- roots -------------------------------------------------------------------------------

    def _init_root(self) -> None:
        try:
            atomic.make_dirs(self.root)
            tag = self.root / "CACHEDIR.TAG"
            if not tag.exists():
                atomic.write_bytes(tag, CACHEDIR_TAG.encode())
            # Probe writability: mkdir on an existing dir does not tell.
            probe = atomic.temp_name(self.root / "probe")
            probe.touch()
            probe.unlink()
        except OSError as exc:
            self.read_only = True
            if not self.root.is_dir():
                # Nothing to read either (under /proc, below a file): a temporary cache only.
                self._unreadable = True
                log.warning(
                    "cache directory %s cannot be created (%s); using a temporary cache",
                    self.root,
                    exc.strerror or exc,
                )
                return
            log.warning(
                "cache at %s is not writable (%s); reading it, new entries go to a temporary cache",
                self.root,
                exc.strerror or exc,
            )

    def _scratch_root(self) -> Path:
        with self._scratch_lock:
            if self._scratch is None:
                import tempfile

                self._scratch = Path(tempfile.mkdtemp(prefix="satchel-cache-"))
            return self._scratch

    @property
    def write_root(self) -> Path:
        if self.read_only or self.degraded:
            return self._scratch_root()
        return self.root

    def read_roots(self) -> list[Path]:
        if self._unreadable:
            return [self._scratch_root()]
        roots = [self.root]
        if self._scratch is not None and self._scratch != self.root:
            roots.insert(0, self._scratch)
        return roots

    def bucket_dir(self, bucket: Bucket, root: Path | None = None) -> Path:
        return (root or self.write_root) / bucket.dirname

    def remote_tier(self) -> RemoteTier | None:
        """The remote tier, or None (none configured, or switched off for this run)."""
        if self._remote_config is None:
            return None
        if self._remote is None:
            with self._scratch_lock:
                if self._remote is None:
                    from satchel.cache.remote.tier import RemoteTier

                    self._remote = RemoteTier(self, self._remote_config)
        return None if self._remote.off else self._remote

    def _uploads(self) -> RemoteTier | None:
        if self._remote_config is None or not self._remote_config.writes:
            return None
        tier = self.remote_tier()
        return tier if tier is not None and not tier.uploads_off else None

    def close(self) -> None:
        """Give pending remote uploads their bounded wait; remove the scratch cache, if any."""
        if self._remote is not None:
            self._remote.finish()
        if self._scratch is not None:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # -- warnings and write failures -----------------------------------------------------------

    def warn_entry(self, path: Path, reason: str) -> None:
        key = str(path)
        if key not in self._warned:
            self._warned.add(key)
            log.warning("ignoring broken cache entry %s: %s; fetching it again", path, reason)

    def _heal(self, path: Path, reason: str) -> None:
        self.warn_entry(path, reason)
        if not self.read_only or not path.is_relative_to(self.root):
            with contextlib.suppress(OSError):
                atomic.discard(path)

    def _heal_error(self, path: Path, exc: OSError) -> None:
        """:meth:`_heal` for a read of ``path`` that failed with ``exc``. Not a directory: what
        is broken is a file where a directory belongs on the way (:meth:`clear_way`), named
        in the one warning, not the entry below it that cannot exist."""
        if isinstance(exc, NotADirectoryError):
            if self.clear_way(path):
                return
            if not self.read_only and path.is_relative_to(self.write_root):
                return  # (another thread, reading or writing, cleared the way first: a miss)
        self._heal(path, exc.strerror or str(exc))

    def _heal_failure(self, path: Path, failure: OSError | CorruptEntry) -> None:
        """:meth:`_heal` for a read of ``path`` that raised ``failure``."""
        if isinstance(failure, OSError):
            self._heal_error(path, failure)
        else:
            self._heal(path, failure.reason)

    def clear_way(self, path: Path) -> bool:
        """Discard, with a warning, what is not a directory where the cache needs one on the
        way to ``path`` below its write root: a file or a link there (damage by hand or by
        another tool) fails every write below it with EEXIST or ENOTDIR. True when something
        was removed (then the write is worth trying again); never outside the cache."""
        root = self.write_root
        if self.read_only or not path.is_relative_to(root):
            return False
        here = root
        for part in path.relative_to(root).parts[:-1]:
            here = here / part
            if (here.exists() or here.is_symlink()) and not here.is_dir():
                self.warn_entry(here, "not a directory")
                try:
                    atomic.discard(here)
                except OSError:
                    return False
                return True
        return False

    def cannot_write(self, what: str, exc: OSError) -> CacheWriteFailed:
        """The error for a write of ``what`` that failed (call after ``write_failed``)."""
        return CacheWriteFailed(
            f"cannot write {what} to {self.write_root}: {exc.strerror or exc}",
            hint=f"free some disk space: neither the cache at {self.root} nor a temporary "
            "cache could be written",
        )

    def write_failed(self, exc: OSError) -> None:
        if not self.degraded:
            self.degraded = True
            log.warning(
                "cannot write to the cache at %s (%s); continuing without caching",
                self.root,
                exc.strerror or exc,
            )

    # -- records -------------------------------------------------------------------------------

    def _entry_paths(self, bucket: Bucket, key: str) -> list[Path]:
        _check_key(key)
        return [root / bucket.dirname / key for root in self.read_roots()]

    def holds(self, bucket: Bucket, key: str) -> bool:
        """Whether a local root has a file under ``key`` in ``bucket`` (not read, so not
        verified): a cheap guess at whether a run will find the entry, never an answer."""
        return any(os.path.exists(path) for path in self._entry_paths(bucket, key))  # (no error)

    def read(self, cls: type[R], key: str) -> R | None:
        """The record stored under ``key`` in ``cls.bucket``, or None (missing or broken)."""
        journals = self._journals
        for path in self._entry_paths(cls.bucket, key):
            st = None
            try:
                if not journals:
                    data = path.read_bytes()
                else:  # the identity of the very file read, for the journal
                    with open(path, "rb") as fh:
                        st = os.fstat(fh.fileno())
                        data = fh.read()
            except FileNotFoundError:
                continue
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    continue  # (a key too long to be a file name: never stored, see write)
                self._heal_error(path, exc)
                continue
            try:
                rec = record.loads(data, cls)
            except CorruptEntry as exc:
                self._heal(path, exc.reason)
                continue
            problem = self._dangling(rec, key)
            if problem is None:
                for journal in journals:
                    journal.note(cls.bucket, key, data, rec, st)
                return rec
            self._heal(path, problem)
        for journal in journals:
            journal.note_missing(cls.bucket, key)
        tier = self.remote_tier()
        return tier.fetch_record(cls, key) if tier is not None else None

    def _dangling(self, rec: Record, key: str) -> str | None:
        """Why ``rec`` (stored under ``key``) points at an entry that is not cached, or None."""
        for bucket, ref in rec.references(key):
            try:
                paths = self._entry_paths(bucket, ref)
            except ValueError:
                return f"bad reference {ref!r}"
            if not any(p.exists() for p in paths):
                return f"dangling reference: {bucket.dirname}/{ref} is no longer cached"
        return None

    def write(self, key: str, rec: Record, *, upload: bool = True) -> None:
        """Store ``rec`` under ``key``. A failure is a warning, never an error."""
        _check_key(key)
        data = record.dumps(rec)
        for attempt in range(2):
            path = self.bucket_dir(type(rec).bucket) / key
            try:
                atomic.write_bytes(path, data)
                self._note_written(path, key, data, rec)
                tier = self._uploads() if upload else None
                if tier is not None:
                    tier.upload_record(type(rec).bucket, key, data)
                return
            except FileNotFoundError as exc:
                # A `cache clean --force` removed the directory under us: once more, then give up.
                if attempt == 0:
                    continue
                failure: OSError = exc
            except OSError as exc:
                if attempt == 0 and _in_the_way(exc) and self.clear_way(path):
                    continue
                if exc.errno == errno.ENAMETOOLONG:
                    # A key too long to be a file name (a project name of hundreds of letters,
                    # which an index only answers "not found" for): this record is not kept,
                    # and the cache stays in use for the rest.
                    log.debug("not caching %s: the name is too long for the file system", key)
                    return
                failure = exc
            self.write_failed(failure)
            with contextlib.suppress(OSError):
                path = self.bucket_dir(type(rec).bucket) / key
                atomic.write_bytes(path, data)
                self._note_written(path, key, data, rec)
            return

    def _note_written(self, path: Path, key: str, data: bytes, rec: Record) -> None:
        if not self._journals:
            return
        # Another process may have replaced the file since: its header then holds another
        # checksum than the one noted, and the journal's check sees the change.
        try:
            st: os.stat_result | None = path.stat()
        except OSError:
            st = None
        for journal in self._journals:
            journal.note(type(rec).bucket, key, data, rec, st)

    def start_journal(self) -> Journal:
        """Note every record read, written, checked unchanged or looked for in vain from now on
        (:mod:`satchel.cache.journal`) until the journal is closed. Journals may overlap (a
        command's, and its resolution's)."""
        from satchel.cache.journal import Journal  # (a no-op install keeps no journal)

        journal = Journal()
        self._journals = [*(j for j in self._journals if j.open), journal]
        return journal

    def unchanged(self, noted: Iterable[Noted]) -> Check:
        """Whether every record of a closed journal is still stored as it was
        (:func:`satchel.cache.journal.unchanged`: headers only where the file is the one noted)."""
        from satchel.cache import journal

        noted = list(noted)
        for entry in noted:
            try:
                _check_key(entry.key)
                _check_segment(entry.bucket)
            except ValueError:
                return journal.Check(False)
        check = journal.unchanged(self.read_roots(), noted, self._heal_failure)
        if check.unchanged:
            for open_journal in self._journals:
                for entry in check.identities or noted:
                    open_journal.note_checked(entry)
        return check

    def remove(self, bucket: Bucket, key: str) -> None:
        for path in self._entry_paths(bucket, key):
            with contextlib.suppress(OSError):
                atomic.discard(path)

    # -- content-addressed files ---------------------------------------------------------------

    def file_key(self, name: str, sha256: str, filename: str) -> str:
        """``<project>/<sha256>/<filename>``: content-addressed, grouped by project name."""
        _check_segment(filename)
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return f"{name}/{sha256}/{filename}"

    def get_file(
        self, name: str, sha256: str, filename: str, *, verify: bool = True, remote: bool = True
    ) -> Path | None:
        """The cached file with this digest and name, or None. With ``verify`` its bytes are
        re-hashed; a mismatch is a broken entry (warned, removed, None). With ``remote`` (and
        ``verify``) a local miss asks the remote tier."""
        sha256 = sha256.lower()
        key = self.file_key(name, sha256, filename)
        for path in self._entry_paths(buckets.FILES, key):
            try:
                if not verify:
                    if path.is_file():
                        return path
                    continue
                actual = sha256_of(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                self._heal_error(path, exc)
                _remove_empty_dir(path.parent)
                continue
            if actual == sha256:
                touch(path.parent)
                return path
            self._heal(path, f"content sha256 is {actual}, expected {sha256}")
            _remove_empty_dir(path.parent)
        tier = self.remote_tier() if verify and remote else None
        return tier.fetch_file(name, sha256, filename) if tier is not None else None

    def discard_file(self, path: Path, reason: str) -> bool:
        """A file ``get_file`` returned turned out unreadable after all (``reason``: an I/O
        error reading it later): warn once and remove it, like any broken entry, so the next
        ``get_file`` misses. False, doing nothing, when ``path`` is not a file entry of this
        cache."""
        for root in self.read_roots():
            files = self.bucket_dir(buckets.FILES, root)
            if path.is_relative_to(files) and len(path.relative_to(files).parts) == 3:
                self._heal(path, reason)
                _remove_empty_dir(path.parent)
                return True
        return False

    @contextlib.contextmanager
    def file_writer(
        self, name: str, filename: str, expected_sha256: str | None, *, upload: bool = True
    ) -> Iterator[FileWriter]:
        """Stream a download into the cache, hashing as it goes. On clean exit the file is checked
        against ``expected_sha256`` (DigestMismatch, nothing kept) and renamed into place;
        ``writer.path`` is then its final path. A failing disk raises CacheWriteFailed after
        switching to the scratch root: the caller retries once."""
        _check_segment(filename)
        _check_segment(name)
        files_dir = self.bucket_dir(buckets.FILES)  # one root for the temp and the final name
        base = files_dir / name
        try:
            try:
                atomic.make_dirs(base)
            except OSError as exc:
                if not (_in_the_way(exc) and self.clear_way(base / filename)):
                    raise
                atomic.make_dirs(base)
            tmp = atomic.temp_name(base / filename)
            fh = open(tmp, "xb")  # noqa: SIM115 - closed below
        except OSError as exc:
            self.write_failed(exc)
            raise self.cannot_write(filename, exc) from exc
        writer = FileWriter(fh, filename)
        final: Path | None = None
        try:
            try:
                yield writer
                fh.flush()
                atomic.fsync_fd(fh.fileno())
            finally:
                fh.close()
            actual = writer.hexdigest()
            if expected_sha256 is not None and actual != expected_sha256.lower():
                raise DigestMismatch(expected_sha256, actual)
            final = files_dir / self.file_key(name, actual, filename)
            os.chmod(tmp, 0o444)
            try:
                _replace_into_new_dir(tmp, final)
            except OSError as exc:
                if not (_in_the_way(exc) and self.clear_way(final)):
                    raise
                _replace_into_new_dir(tmp, final)
            atomic.fsync_dir(final.parent)
            writer.path = final
            writer.sha256 = actual
            tier = self._uploads() if upload else None
            if tier is not None:
                tier.upload_file(actual, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if final is not None:
                _remove_empty_dir(final.parent)
            if isinstance(exc, (ConnectionError, TimeoutError)):
                raise
            if not isinstance(exc, FileNotFoundError):
                # (Not found: a forced clean removed the directory; the caller's retry writes
                # to the same root again rather than giving up on the cache.)
                self.write_failed(exc)
            raise self.cannot_write(filename, exc) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def entry_lock(self, bucket: Bucket, key: str) -> Iterator[bool]:
        """Hold the per-entry lock ``<bucket>/<key>.lock`` while doing work that must not be done
        twice by processes sharing the cache (a download, an unpack). Yields False when running
        unlocked (unsupported, unwritable, timed out); correctness never depends on it."""
        _check_key(key)
        path = self.bucket_dir(bucket) / f"{key}.lock"
        with flock(path, timeout=self.lock_timeout) as held:
            yield held

    # -- unpacked trees ------------------------------------------------------------------------

    def get_tree(self, bucket: Bucket, key: str, *, remote: bool = True) -> Tree | None:
        """An unpacked tree, cheaply checked (every file exists with its size and mtime); on a
        local miss, from the remote tier when one is configured and the entry belongs there
        (unless not ``remote``: a local look only)."""
        tree = self._get_local_tree(bucket, key)
        if tree is None and remote:
            tier = self.remote_tier()
            if tier is not None:
                tree = tier.fetch_tree(bucket, key)
        return tree

    def _get_local_tree(self, bucket: Bucket, key: str) -> Tree | None:
        from satchel.cache.manifest import Manifest, check_tree

        for entry in self._entry_paths(bucket, key):
            # An entry is a directory renamed into place whole, and another process may put one
            # there, or take a broken one away, while this one looks: what is found wrong is only
            # a broken entry if the entry was the same directory before and after the look (else
            # a plain miss). Healing what is merely new would remove another process's fresh
            # entry while it links from it.
            try:
                before = os.lstat(entry)
            except FileNotFoundError:
                continue
            except OSError as exc:
                self._heal_error(entry, exc)
                continue
            problem = None
            try:
                manifest = record.loads((entry / "manifest").read_bytes(), Manifest)
            except FileNotFoundError:
                problem = "manifest missing"
            except OSError as exc:
                problem = exc.strerror or str(exc)
            except CorruptEntry as exc:
                problem = f"manifest: {exc.reason}"
            else:
                problem = check_tree(entry / "tree", manifest)
            if problem is not None:
                if _same_file(entry, before):
                    self._heal(entry, problem)
                continue
            if time.time() - before.st_mtime > TOUCH_EVERY:
                touch(entry)
            return Tree(entry / "tree", manifest)
        return None

    def build_tree(
        self,
        bucket: Bucket,
        key: str,
        populate: Callable[[Path], dict[str, str] | Listing | None],
        *,
        source: str = "",
        upload: bool = True,
    ) -> Tree:
        """Return the tree under ``key``, building it with ``populate(dir)`` if needed.

        ``populate`` writes the files into ``dir`` and may return {relpath: sha256} for files it
        already hashed (the tree is then walked, hashed and made read-only), or a ``Listing`` of
        the whole tree (``cache/manifest.py``: nothing is walked). One process builds; others wait on the entry lock and reuse its result.
        A tree built here is uploaded to the remote tier (read-write mode, ``upload``).
        """
        _check_key(key)
        vanished = cleared = False
        for _attempt in range(3):
            on_scratch = self.degraded  # (another thread may degrade the cache meanwhile)
            entry = self.bucket_dir(bucket) / key
            try:
                lock_path = entry.parent / f"{entry.name}.lock"
                with flock(lock_path, timeout=self.lock_timeout):
                    existing = self._get_local_tree(bucket, key)
                    if existing is not None:
                        return existing
                    tree = self._build_tree(entry, populate, source)
                tier = self._uploads() if upload else None
                if tier is not None:
                    tier.upload_tree(bucket, key, tree)
                return tree
            except OSError as exc:
                if isinstance(exc, FileNotFoundError) and not vanished:
                    vanished = True  # a forced clean removed a directory under us: once more
                    continue
                if not cleared and _in_the_way(exc) and self.clear_way(entry / "manifest"):
                    cleared = True  # a file where a directory belongs, now gone: once more
                    continue
                if _is_not_a_disk_error(exc):
                    raise
                if on_scratch:  # the scratch root failed too
                    raise self.cannot_write(f"the unpacked {source or key}", exc) from exc
                self.write_failed(exc)
        raise AssertionError("unreachable")

    def _build_tree(
        self, entry: Path, populate: Callable[[Path], dict[str, str] | Listing | None], source: str
    ) -> Tree:
        from satchel.cache.manifest import Listing, Manifest, hash_tree, listed_files

        tmp = atomic.make_temp_dir(entry.parent, entry.name)
        try:
            tree = tmp / "tree"
            tree.mkdir()
            populated = populate(tree)
            if isinstance(populated, Listing):
                files = listed_files(populated)
            else:
                files = hash_tree(tree, populated or {}, read_only=True)
            manifest = Manifest(files=files, source=source)
            # The tree, the manifest and the temp directory made durable together: one syncfs
            # (else every file and directory fsynced), then the rename and its directory's fsync.
            atomic.write_new(tmp / "manifest", record.dumps(manifest))
            atomic.sync_tree(tmp)
            if entry.exists():
                atomic.discard(entry)
            if not atomic.install_dir(tmp, entry, synced=True):
                theirs = self._read_tree(entry)
                if theirs is not None:
                    return theirs
                raise OSError(errno.EEXIST, f"could not install {entry}")
        except BaseException:
            atomic.remove_tree(tmp)
            raise
        return Tree(entry / "tree", manifest)

    def _read_tree(self, entry: Path) -> Tree | None:
        from satchel.cache.manifest import Manifest, check_tree

        try:
            manifest = record.loads((entry / "manifest").read_bytes(), Manifest)
        except (OSError, CorruptEntry):
            return None
        if check_tree(entry / "tree", manifest) is not None:
            return None
        return Tree(entry / "tree", manifest)


class FileWriter:
    def __init__(self, fh: IO[bytes], filename: str) -> None:
        import hashlib

        self._fh = fh
        self._hash = hashlib.sha256()
        self.filename = filename
        self.size = 0
        self.path: Path | None = None
        self.sha256: str | None = None

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self._fh.write(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _replace_into_new_dir(tmp: Path, final: Path) -> None:
    """``os.replace(tmp, final)``, creating ``final``'s directory. Another process removing that
    directory between our mkdir and rename (a healing reader, `cache clean --force`) only makes
    us try again; a vanished ``tmp`` (renamed aside with its directory) is an error."""
    for attempt in range(3):
        atomic.make_dirs(final.parent)
        try:
            os.replace(tmp, final)
            return
        except FileNotFoundError:
            if attempt == 2 or not os.path.lexists(tmp):
                raise


def _remove_empty_dir(path: Path) -> None:
    """Remove ``path`` if it is an empty directory (an entry directory whose file is gone), so no
    empty entry is left behind; never raises."""
    with contextlib.suppress(OSError):
        os.rmdir(path)


#: An entry's last use is its directory's mtime, renewed at most this often: a use costs a stat,
#: and a write (utime) at most once a day per entry, never on every read.
TOUCH_EVERY = 86400.0


def _same_file(path: Path, before: os.stat_result) -> bool:
    """Whether ``path`` is still the file or directory ``before`` described."""
    try:
        now = os.lstat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (before.st_dev, before.st_ino)


def touch(path: Path) -> None:
    """Mark an entry as used now (for `cache prune --max-size/--max-age`), when its mark is more
    than a day old; best effort."""
    with contextlib.suppress(OSError):
        if time.time() - os.stat(path).st_mtime > TOUCH_EVERY:
            os.utime(path)


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of the file at ``path`` (:func:`satchel.standards.digests.file_digest`)."""
    return file_digest(path)[0]


def _in_the_way(exc: OSError) -> bool:
    """Whether a failed write says something other than a directory sits on its path."""
    return isinstance(exc, (FileExistsError, NotADirectoryError))


def _is_not_a_disk_error(exc: OSError) -> bool:
    return exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EIO)


def _check_segment(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"unsafe cache key segment: {name!r}")


def _check_key(key: str) -> None:
    for part in key.split("/"):
        _check_segment(part)


def is_temp(name: str) -> bool:
    return name.startswith(atomic.TEMP_PREFIX)


def mode_is_dir(mode: int) -> bool:
    return stat.S_ISDIR(mode)
