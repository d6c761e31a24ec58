"""What the index client is asked to do: which indexes, offline or not, how fresh, how many workers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime  # (not imported at run time: ~3 ms, and most runs have none)


@dataclass
class IndexOptions:
    """How the index client fetches: indexes in order, freshness, timeouts, workers and filters."""
    index_urls: list[str]  # in order; the first is --index-url
    find_links: list[str] = field(default_factory=list)
    offline: bool = False
    ttl: float = 600.0
    refresh: Callable[[str], bool] = lambda name: False
    timeout: float = 15.0
    workers: int = 16
    #: --exclude-newer: files uploaded after this (aware) time are ignored, and so are files
    #: whose index gives no upload time (PEP 700 ``upload-time``).
    exclude_newer: datetime | None = None
