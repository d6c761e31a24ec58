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
        lock_timeout=settings.lock_timeout,
        fsync=settings.fsync,
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


def auto_prune(settings: Settings) -> None:
    """SATCHEL_CACHE_MAX_SIZE: after a run, at most once a day, prune the cache down to that
    size, least recently used first -- only when no other satchel is using the cache (the
    exclusive lock is taken without waiting), so it never delays nor disturbs an install."""
    if settings.cache_max_size is None or settings.no_cache:
        return
    from satchel.cache import manage
    from satchel.cache.store import default_cache_dir

    root = (settings.cache_dir or default_cache_dir()).absolute()
    if not root.is_dir() or not manage.auto_prune_due(root):
        return
    import fcntl
    import os

    try:
        fd = os.open(root / USE_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # in use (or no flock here): another day
        try:
            result = manage.prune(root, max_size=settings.cache_max_size)
        except OSError as exc:
            log.debug("automatic prune failed: %s", exc)
            return
        manage.mark_auto_pruned(root)
    finally:
        os.close(fd)
    if result.removed:
        from satchel.units import human_size

        log.info(
            "Pruned the cache to SATCHEL_CACHE_MAX_SIZE: %d entries (%s)",
            len(result.removed), human_size(result.freed),
        )


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
