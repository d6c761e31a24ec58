"""Atomic, durable writes: temp file in the same directory, write, fsync, rename, fsync dir.

Temp names start with TEMP_PREFIX; readers skip them and ``cache prune`` removes old ones.
Nothing under a final name is ever partial.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

# Every command imports this module: ``shutil`` and ``ctypes`` (for ``syncfs``) are imported
# where used, and temporary names come from ``os.urandom`` rather than ``secrets`` -- start-up
# time that a command which writes nothing (a no-op install) does not pay.

TEMP_PREFIX = ".tmp-"

# Tests turn fsync off to prove the suite notices (see docs/cache.md); never off in real runs.
# SATCHEL_UNSAFE_NO_FSYNC=1 (parsed by ``Settings``) turns it off through ``Cache(fsync=False)``.
_FSYNC = True


def disable_fsync() -> None:
    """Make every write of this process not durable (SATCHEL_UNSAFE_NO_FSYNC, tests only)."""
    global _FSYNC
    _FSYNC = False


def _token() -> str:
    """12 random hex digits for a temporary name (what ``secrets.token_hex(6)`` returns)."""
    return os.urandom(6).hex()


def temp_name(final: Path) -> Path:
    return final.parent / f"{TEMP_PREFIX}{_token()}-{final.name}"[:200]


def fsync_fd(fd: int) -> None:
    if _FSYNC:
        os.fsync(fd)


def _load_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


# The libc ``syncfs``, or None where there is none: loaded on first use (loading ctypes and libc
# is start-up time that only writing a tree needs). Read it through ``_get_syncfs()``; as a
# module attribute (``atomic._syncfs``) it is loaded on first access too.
_syncfs: Callable[[int], int] | None


def _get_syncfs() -> Callable[[int], int] | None:
    try:
        return globals()["_syncfs"]
    except KeyError:
        fn = globals()["_syncfs"] = _load_syncfs()
        return fn


def __getattr__(name: str) -> object:
    if name == "_syncfs":
        return _get_syncfs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sync_filesystem(path: Path) -> bool:
    """Make everything written to the filesystem holding ``path`` durable, in one call (Linux
    ``syncfs``): one journal commit for a whole unpacked tree instead of one fsync per file.
    False when not available (the caller then fsyncs file by file)."""
    if not _FSYNC:
        return True
    syncfs = _get_syncfs()
    if syncfs is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return syncfs(fd) == 0
    finally:
        os.close(fd)


def sync_tree(path: Path) -> None:
    """Make everything under the directory ``path`` durable: one ``syncfs`` where the platform has
    it, else an fsync of every file and directory below it (and of ``path``)."""
    if sync_filesystem(path):
        return
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                fsync_fd(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def write_new(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Create ``path`` with ``data``, without an fsync or a rename of its own: only for a file
    inside a temp directory that ``sync_tree`` makes durable as a whole before it gets its final
    name (a half-written one is never under a final name)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    if not _FSYNC:
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """``path.mkdir(parents=True, exist_ok=True)``, surviving another process that removes
    ``path`` at the same moment (``cache clean``/``cache remove``, a healing reader): pathlib's
    mkdir then raises FileExistsError, as the name was taken when it tried and no directory was
    there when it looked again. Tried three times: a file in the way stays an error."""
    for attempt in range(3):
        try:
            path.mkdir(parents=True, exist_ok=True)
            return
        except FileExistsError:
            if attempt == 2:
                raise


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically and durably. Raises OSError on failure."""
    with open_atomic(path, mode=mode) as fh:
        fh.write(data)


@contextlib.contextmanager
def open_atomic(path: Path, *, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it appears at ``path`` whole, else not at all."""
    make_dirs(path.parent)
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            fsync_fd(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def make_temp_dir(parent: Path, name: str) -> Path:
    make_dirs(parent)
    tmp = parent / f"{TEMP_PREFIX}{_token()}-{name}"[:200]
    tmp.mkdir()
    return tmp


def install_dir(tmp: Path, final: Path, *, synced: bool = False) -> bool:
    """Rename a fully written directory into place (``synced``: ``sync_tree(tmp)`` already made
    it durable). Returns False when another process already put an entry there (ours is removed;
    the caller checks theirs)."""
    if not synced:
        fsync_dir(tmp)
    try:
        os.rename(tmp, final)
    except OSError:
        if final.exists():
            remove_tree(tmp)
            return False
        raise
    fsync_dir(final.parent)
    return True


def remove_tree(path: Path) -> None:
    """Remove a file or directory tree, including read-only files; never raises for missing."""
    import shutil

    def onerror(func: object, p: str, exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)

    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    if path.exists():
        shutil.rmtree(path, onerror=onerror)


def discard(path: Path) -> None:
    """Remove an entry so no reader sees it half-deleted: rename it aside first, then delete."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and not path.is_symlink():
        aside = path.parent / f"{TEMP_PREFIX}{_token()}-trash"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return
        remove_tree(aside)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
