"""What several commands share: opening the cache, holding it in use, finding the target."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from satchel.cache.locks import flock
from satchel.cache.store import USE_LOCK, Cache
from satchel.errors import SatchelError
from satchel.settings import Settings

log = logging.getLogger("satchel")

CLEAN_WAIT = 60.0


def open_cache(settings: Settings, *, remote: bool = True) -> Cache:
    """The cache of this run; with its remote tier unless ``remote`` is False, --offline or
    --no-cache was given."""
    use_remote = remote and not settings.offline and not settings.no_cache
    return Cache(
        settings.cache_dir,
        no_cache=settings.no_cache,
        remote=settings.remote if use_remote else None,
    )


@contextlib.contextmanager
def cache_in_use(cache: Cache) -> Iterator[None]:
    """Held (shared) for the whole of an install, so `cache clean/prune/purge` never deletes
    what a running install is using."""
    if cache.read_only:
        yield
        return
    with flock(cache.root / USE_LOCK, shared=True, timeout=CLEAN_WAIT * 2):
        yield


@contextlib.contextmanager
def cache_exclusive(cache: Cache, force: bool) -> Iterator[None]:
    """Held (exclusive) while removing entries. Waits a bounded time for running installs, then
    fails with a hint; ``--force`` goes ahead (removals rename entries aside first, so a running
    install sees an entry whole or not at all)."""
    if force:
        yield
        return
    lock = cache.root / USE_LOCK

    def waiting() -> None:
        log.info("waiting for other satchel processes using the cache at %s ...", cache.root)

    with flock(lock, shared=False, timeout=CLEAN_WAIT, on_wait=waiting) as held:
        if not held and lock.exists() and _locked_by_others(lock):
            raise SatchelError(
                f"the cache at {cache.root} is in use by another satchel process",
                hint="wait for it to finish, or pass --force",
            )
        yield


def _locked_by_others(lock: Path) -> bool:
    import fcntl
    import os

    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def import_record_types() -> None:
    """Import every module that defines a cache record, so `cache verify` can decode them all."""
    import importlib
    import pkgutil

    import satchel

    for mod in pkgutil.walk_packages(satchel.__path__, "satchel."):
        if mod.name.startswith(("satchel.cli", "satchel.commands")) or mod.name.endswith("__main__"):
            continue
        with contextlib.suppress(ImportError):
            importlib.import_module(mod.name)
