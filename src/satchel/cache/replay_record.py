"""The replay record (:mod:`satchel.cache.replays`): what the run that stored it printed, its exit
status, and every input it read, each with what it was then."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from satchel.cache import atomic, buckets
from satchel.cache.record import Record
from satchel.cache.replays import Broken

log = logging.getLogger("satchel")


@dataclass(frozen=True)
class ReplayRecord(Record, record_type="replay", bucket=buckets.REPLAYS):
    """``invocation``: the key's whole text (:func:`satchel.cache.replays.invocation`).
    ``inputs``: ``[kind, path, expected]`` each (``absent``, ``content`` or ``stat``).
    ``stdout``: what the run wrote there, after the first ``stdout_after`` lines of ``stderr``
    (its lines, a NUL where the time it took goes). ``exit``: its status. ``expires_at``: when
    it stops holding (None: never by time)."""

    key_pattern = r"[0-9a-f]{32}\.rec"

    invocation: str
    inputs: list[list[Any]]
    stdout: str
    stderr: list[str]
    stdout_after: int
    exit: int
    expires_at: float | None


def heal(broken: Broken) -> None:
    """Report a damaged replay record as the cache reports any broken entry, and remove it (the
    run goes on in full, and may store a sound one)."""
    log.warning("ignoring broken cache entry %s: %s; running the command in full", broken.path, broken.reason)
    with contextlib.suppress(OSError):
        atomic.discard(Path(broken.path))
