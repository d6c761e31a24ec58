"""Index pages, cached with their HTTP freshness: one project's files from every index and
find-links location, in order, each file once.

A remote index's page is served from the cache while fresh (--ttl, or the index's own
Cache-Control), revalidated with its ETag or Last-Modified when stale, and read from the cache
alone with --offline. A ``file:`` index is read as it is, never cached. --exclude-newer drops
files uploaded after it, and files whose index gives no upload time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from satchel.cache.freshness import Freshness
from satchel.cache.store import Cache
from satchel.errors import IndexError_, OfflineError
from satchel.index.models import IndexFile
from satchel.index.options import IndexOptions
from satchel.index.records import CachedPage, page_key
from satchel.index.writes import RecordWriter

if TYPE_CHECKING:
    from datetime import datetime

    from satchel.index.http import HttpClient

log = logging.getLogger("satchel.index")


class PageLoader:
    """Loads projects' files for the index client (which runs :meth:`load` in its workers)."""

    def __init__(
        self,
        cache: Cache,
        options: IndexOptions,
        records: RecordWriter,
        stats: dict[str, int],
        *,
        http: Callable[[], HttpClient],
        any_http: Callable[[], HttpClient],
    ) -> None:
        """``http``: the HTTP client, an error with --offline; ``any_http``: the HTTP client
        even offline (for ``file:`` URLs, which need no network)."""
        self.cache = cache
        self.options = options
        self._records = records
        self._stats = stats
        self._http = http
        self._any_http = any_http
        self.over_network: set[str] = set()  # projects with a page fetched from a remote index
        # project -> (latest fetched_at, earliest expires_at) of the remote pages used for it
        self._freshness: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def freshness(self) -> dict[str, Freshness]:
        """For each project whose cached or fetched remote pages were used this run: when the
        newest was fetched and when the first of them stops being fresh."""
        with self._lock:
            return {name: Freshness(f, e) for name, (f, e) in self._freshness.items()}

    def _used(self, name: str, fetched_at: float, expires_at: float) -> None:
        with self._lock:
            old = self._freshness.get(name)
            if old is not None:
                fetched_at, expires_at = max(old[0], fetched_at), min(old[1], expires_at)
            self._freshness[name] = (fetched_at, expires_at)

    def load(self, name: str) -> list[IndexFile]:
        """``name``'s files from every find-links location, then every index, in that order;
        each filename once (the first found wins)."""
        seen: set[str] = set()
        out: list[IndexFile] = []
        sources: list[list[IndexFile]] = []
        for link in self.options.find_links:
            sources.append(self._find_links(link, name))
        for index_url in self.options.index_urls:
            sources.append(self._page(index_url, name))
        for files in sources:
            for f in files:
                if f.filename not in seen:
                    seen.add(f.filename)
                    out.append(f)
        if self.options.exclude_newer is not None:
            out = uploaded_before(name, out, self.options.exclude_newer)
        return out

    def _find_links(self, location: str, name: str) -> list[IndexFile]:
        from satchel.index.findlinks import find_links_files

        if self.options.offline and "://" in location and not location.startswith("file:"):
            return []
        return find_links_files(location, name, self._http_or_none())

    def _http_or_none(self) -> HttpClient | None:
        return None if self.options.offline else self._http()

    def _page(self, index_url: str, name: str) -> list[IndexFile]:
        if index_url.startswith("file:"):
            return self._local_page(index_url, name)
        key = page_key(name, index_url)
        cached = self.cache.read(CachedPage, key)
        now = time.time()
        if cached is not None:
            fresh = Freshness(cached.fetched_at, cached.expires_at).is_fresh(now)
            if self.options.offline or (fresh and not self.options.refresh(name)):
                log.debug("index page %s from cache (%s)", name, "offline" if not fresh else "fresh")
                self._stats["pages_cached"] += 1
                self._used(name, cached.fetched_at, cached.expires_at)
                return cached.files
        if self.options.offline:
            raise OfflineError(
                f"no cached index page for '{name}' from {index_url} (--offline)",
                hint="run the same install once without --offline to fill the cache",
            )
        from satchel.index.simple import ACCEPT_HEADER, parse_page

        url = index_url.rstrip("/") + f"/{name}/"
        headers = {"Accept": ACCEPT_HEADER}
        if cached is not None:
            headers.update(
                Freshness(cached.fetched_at, cached.expires_at, cached.etag, cached.last_modified).conditional_headers()
            )
        resp = self._http().get(url, headers)
        self._stats["pages_fetched"] += 1
        self.over_network.add(name)
        now = time.time()
        if resp.status == 304 and cached is not None:
            old = Freshness(cached.fetched_at, cached.expires_at, cached.etag, cached.last_modified)
            new = old.refreshed(resp.headers, now, self.options.ttl)
            self._store_page(name, key, url, new, cached.found, cached.files)
            return cached.files
        freshness = Freshness.from_headers(resp.headers, now, self.options.ttl)
        if resp.status in (404, 410):
            log.debug("%s: no such project on %s", name, index_url)
            self._store_page(name, key, url, freshness, False, [])
            return []
        files = parse_page(resp.body, resp.content_type, resp.url, name)
        self._store_page(name, key, url, freshness, True, files)
        return files

    def _local_page(self, index_url: str, name: str) -> list[IndexFile]:
        """A page of a ``file:`` index, read as it is now: caching a local file would only add
        a record write (and a read) per project and index, and serve it stale for --ttl."""
        from satchel.index.simple import parse_page

        url = index_url.rstrip("/") + f"/{name}/"
        resp = self._any_http().get(url)
        self._stats["pages_fetched"] += 1
        if resp.status in (404, 410):
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(index_url)
            # (os.path.isdir: a path too long to exist is no directory, not an OSError)
            if parts.netloc in ("", "localhost") and not os.path.isdir(unquote(parts.path)):
                # Not a project missing from the index: no index there at all.
                raise IndexError_(
                    f"index {index_url} does not exist",
                    hint="check the path of the file:// index URL",
                )
            log.debug("%s: no such project on %s", name, index_url)
            return []
        return parse_page(resp.body, resp.content_type, resp.url, name)

    def _store_page(
        self, name: str, key: str, url: str, f: Freshness, found: bool, files: list[IndexFile]
    ) -> None:
        self._used(name, f.fetched_at, f.expires_at)
        page = CachedPage(url, f.fetched_at, f.expires_at, f.etag, f.last_modified, found, files)
        self._records.write_later(key, page, hold=True)


def uploaded_before(name: str, files: list[IndexFile], cutoff: datetime) -> list[IndexFile]:
    """``files`` uploaded at or before ``cutoff``; files without a (readable) upload time are
    left out too. Each exclusion is logged at -v."""
    kept = []
    for f in files:
        when = parse_upload_time(f.upload_time) if f.upload_time else None
        if when is None:
            log.debug(
                "%s: ignoring %s: the index gives no upload time, and --exclude-newer is set",
                name,
                f.filename,
            )
        elif when > cutoff:
            log.debug(
                "%s: ignoring %s: uploaded %s, after --exclude-newer %s",
                name,
                f.filename,
                when.isoformat(),
                cutoff.isoformat(),
            )
        else:
            kept.append(f)
    return kept


def parse_upload_time(text: str) -> datetime | None:
    """PEP 700's ``upload-time`` (ISO 8601, UTC), None if it cannot be read."""
    import re
    from datetime import datetime, timezone

    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python < 3.11 reads at most microseconds; some indexes give nanoseconds.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
