"""Locks never hang and never make a run fail: unsupported flock, timeouts, and `cache clean`
giving up (with a hint) when installs keep the cache busy."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.cache import locks
from satchel.cache.locks import flock
from satchel.cache.store import USE_LOCK, Cache
from satchel.commands import common
from satchel.errors import SatchelError


@pytest.fixture
def held_elsewhere(tmp_path: Path) -> Iterator[Path]:
    """A lock file held exclusively through another open file description (as another process
    would hold it: flock locks belong to the description, not the process)."""
    path = tmp_path / "x.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        os.close(fd)


@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS])
def test_unsupported_flock_goes_on_unlocked_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """Some network filesystems have no flock: the work goes on without the lock, no waiting."""

    def no_flock(fd: int, op: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(locks.fcntl, "flock", no_flock)
    started = time.monotonic()
    with flock(tmp_path / "entry.lock", timeout=30) as held:
        assert held is False
    assert time.monotonic() - started < 1.0


def test_other_flock_errors_are_not_swallowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int, op: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(locks.fcntl, "flock", broken)
    with pytest.raises(OSError), flock(tmp_path / "entry.lock"):
        pass


def test_a_busy_lock_times_out_and_says_it_waited(held_elsewhere: Path) -> None:
    waits: list[str] = []
    started = time.monotonic()
    with flock(held_elsewhere, timeout=0.3, on_wait=lambda: waits.append("waiting")) as held:
        assert held is False
    assert 0.3 <= time.monotonic() - started < 5
    assert waits == ["waiting"]


def test_an_unwritable_lock_directory_goes_on_unlocked(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with flock(blocker / "sub" / "x.lock") as held:
        assert held is False


def test_clean_gives_up_with_a_hint_when_installs_keep_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    monkeypatch.setattr(common, "CLEAN_WAIT", 0.3)
    fd = os.open(cache.root / USE_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_SH)  # a running install
    try:
        started = time.monotonic()
        with pytest.raises(SatchelError) as info, common.cache_exclusive(cache, force=False):
            raise AssertionError("must not get the cache while an install holds it")
        assert time.monotonic() - started < 5
        assert "in use by another satchel process" in info.value.message
        assert info.value.hint is not None and "--force" in info.value.hint
        with common.cache_exclusive(cache, force=True):
            pass  # --force goes ahead
    finally:
        os.close(fd)
        cache.close()
    with common.cache_exclusive(cache, force=False):
        pass  # free again
