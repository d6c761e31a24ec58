"""Locks: per-entry locks for expensive work, and the cache-wide use lock.

All locks are ``flock`` locks: the kernel drops them when a process dies, so a lock is never stale.
Waits are bounded; after the timeout the work goes on without the lock (correctness never depends
on a lock, only on atomic renames: the worst case is the same work done twice). Where ``flock`` is
not supported (some network filesystems) locking is skipped the same way.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from satchel.cache.atomic import make_dirs

log = logging.getLogger("satchel.cache")

_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


@contextlib.contextmanager
def flock(
    path: Path,
    *,
    shared: bool = False,
    timeout: float = 300.0,
    on_wait: Callable[[], None] | None = None,
    poll: float = 0.05,
) -> Iterator[bool]:
    """Hold a flock on ``path`` (created if needed). Yields True when held, False when the lock
    could not be taken (unsupported, unwritable, or timed out) and the caller runs unlocked."""
    try:
        make_dirs(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        log.debug("lock %s unavailable (%s); going on without it", path, exc)
        yield False
        return
    try:
        held = _acquire(fd, path, shared, timeout, on_wait, poll)
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(
    fd: int,
    path: Path,
    shared: bool,
    timeout: float,
    on_wait: Callable[[], None] | None,
    poll: float,
) -> bool:
    op = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            fcntl.flock(fd, op)
            return True
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                log.debug("flock not supported for %s (%s); going on without it", path, exc)
                return False
            raise
        if not waited:
            waited = True
            if on_wait is not None:
                on_wait()
        if time.monotonic() >= deadline:
            log.warning("timed out after %.0fs waiting for lock %s; going on without it", timeout, path)
            return False
        time.sleep(poll)
        poll = min(poll * 1.5, 0.5)
