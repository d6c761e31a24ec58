"""The index client: project pages, metadata and files, all through the cache.

This is the resolver's Finder. Pages are fetched in worker threads (``prefetch``) and kept with
their HTTP freshness; metadata comes from the cache, a PEP 658 file, a ranged read of the wheel or
the downloaded wheel, in that order; files are downloaded once into the content-addressed cache.
Every cache read that fails is a miss (the cache warns and heals); only a failed fetch is an error.

:class:`IndexClient` ties together one module per concern: ``pool.py`` (the worker pool, waiting
requests before prefetches, nothing speculative waited for at close), ``pages.py`` (index pages
and their freshness), ``metadata_fetch.py`` (metadata: PEP 658, Range reads, the wheel),
``downloads.py`` (files into the content-addressed cache) and ``writes.py`` (cache records
written in the background). ``options.py`` holds :class:`IndexOptions`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from satchel.cache.store import Cache
from satchel.errors import IndexError_, OfflineError, SatchelError
from satchel.index.models import IndexFile
from satchel.index.options import IndexOptions
from satchel.index.records import CachedPage, page_key

if TYPE_CHECKING:
    from packaging.version import Version

    from satchel.cache.freshness import Freshness
    from satchel.index.http import HttpClient
    from satchel.index.metadata import CoreMetadata


class _Parts:
    """What fetches for the client, made when it first fetches: a warm install that recalls its
    resolution and finds every wheel unpacked never does, and leaves the modules (the HTML
    parser, the worker pool, the record writers, downloads) unimported."""

    def __init__(self, client: IndexClient) -> None:
        from satchel.index.downloads import Downloads
        from satchel.index.metadata_fetch import MetadataFetcher
        from satchel.index.pages import PageLoader
        from satchel.index.pool import Scheduler
        from satchel.index.writes import RecordWriter

        cache, options, stats = client.cache, client.options, client.stats
        self.jobs = Scheduler(options.workers, "satchel")
        self.records = RecordWriter(cache)
        self.pages = PageLoader(
            cache, options, self.records, stats, http=lambda: client.http, any_http=client._http_client
        )
        self.downloads = Downloads(
            cache, options, self.records, stats, http=lambda: client.http, any_http=client._http_client
        )
        self.downloads.on_download = client._on_download
        self.metadata = MetadataFetcher(
            cache, options, self.records, stats, self.downloads, http=lambda: client.http
        )


class IndexClient:
    """The resolver's :class:`~satchel.resolve.finder.Finder` (and its lookahead) over the
    indexes and find-links locations of ``options``, through ``cache``."""

    def __init__(
        self,
        cache: Cache,
        options: IndexOptions,
        *,
        installed_metadata: Callable[[str], CoreMetadata | None] | None = None,
    ) -> None:
        self.cache = cache
        self.options = options
        self._installed_metadata = installed_metadata or (lambda name: None)
        self._http: HttpClient | None = None
        self._http_lock = threading.Lock()
        self.stats = {"pages_fetched": 0, "pages_cached": 0, "metadata_fetched": 0, "downloads": 0}
        self._on_download: Callable[[int | None, int], None] | None = None
        self._parts: _Parts | None = None
        self._parts_lock = threading.Lock()

    def _made(self) -> _Parts:
        """The fetching parts, made on first use."""
        parts = self._parts
        if parts is None:
            with self._parts_lock:
                if self._parts is None:
                    self._parts = _Parts(self)
                parts = self._parts
        return parts

    @property
    def on_download(self) -> Callable[[int | None, int], None] | None:
        """Download progress, when someone shows it: called with (expected total or None) when
        a download starts, then (None, bytes) for every chunk; from worker threads."""
        return self._on_download

    @on_download.setter
    def on_download(self, report: Callable[[int | None, int], None] | None) -> None:
        with self._parts_lock:
            self._on_download = report
            if self._parts is not None:
                self._parts.downloads.on_download = report

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def http(self) -> HttpClient:
        if self.options.offline:
            raise OfflineError("network access needed but --offline was given")
        return self._http_client()

    def _http_client(self) -> HttpClient:
        """The HTTP client, even offline (for ``file:`` URLs, which need no network)."""
        with self._http_lock:
            if self._http is None:
                from satchel.index.http import HttpClient

                # a connection for every worker and one for the resolver's own thread (which runs
                # what it waits for itself): it never queues for a connection behind prefetches
                self._http = HttpClient(timeout=self.options.timeout, pool_maxsize=self.options.workers + 1)
            return self._http

    def resolution_done(self) -> None:
        """A resolution is over: forget the prefetches nobody asked for yet (they are not
        started; a later request starts afresh), and write the page records held back."""
        if self._parts is not None:
            self._parts.jobs.forget_queued()
            self._parts.records.write_held()

    def close(self) -> None:
        """End the run's fetching: queued prefetches are dropped, and prefetches under way are
        not waited for (nobody asked for their answer; they finish, or not, in daemon threads
        and their results are dropped); every record write already asked for is waited for."""
        with self._parts_lock:
            parts = self._parts
        if parts is not None:
            parts.jobs.shutdown()
            parts.records.close()
        if self._http is not None:
            self._http.close()

    # -- pages ---------------------------------------------------------------------------------

    def prefetch(self, name: str, then: Callable[[], None] | None = None) -> None:
        """Start loading ``name``'s files; ``then`` is called when they are in (in a worker
        thread, or at once if they are already), not if loading fails or the prefetch is
        dropped, nor after :meth:`resolution_done`."""
        jobs = self._made().jobs
        jobs.then(jobs.submit("page", name, lambda: self._load_project(name), urgent=False), then)

    def prefetch_uncached(self, names: Iterable[str]) -> list[str]:
        """Start loading the files of each of ``names`` that the local cache holds no page of
        for some remote index, and say which: a cold run's first requests (and the import of
        the HTTP stack, and the loading of the TLS trust store) then go out while the command
        still sets up, not when the resolver first asks. Nothing with --offline. A name whose
        pages are all cached is left to the resolver, which may need none of them (a
        remembered resolution answers from the cache alone)."""
        if self.options.offline:
            return []
        remote = [url for url in self.options.index_urls if not url.startswith("file:")]
        started: list[str] = []
        for name in names:
            if any(not self.cache.holds(CachedPage.bucket, page_key(name, url)) for url in remote):
                if not started:
                    # (the TLS context, built beside the worker that imports urllib3 meanwhile)
                    self.http.warm_up()
                self.prefetch(name)
                started.append(name)
        return started

    def find_files(self, name: str) -> Sequence[IndexFile]:
        return self._made().jobs.wait("page", name, lambda: self._load_project(name))

    def fetched_over_network(self, name: str) -> bool:
        """Whether loading ``name``'s files (done) fetched a page from a remote index, rather
        than only from the cache or local indexes."""
        return name in self._made().pages.over_network

    def page_freshness(self) -> dict[str, Freshness]:
        """Per project whose remote index pages were used: the newest fetch time and the first
        expiry among them (what a remembered resolution stays fresh by)."""
        return self._made().pages.freshness()

    def _load_project(self, name: str) -> list[IndexFile]:
        return self._made().pages.load(name)

    # -- metadata ------------------------------------------------------------------------------

    def prefetch_metadata(
        self, name: str, version: Version, file: IndexFile, then: Callable[[], None] | None = None
    ) -> None:
        """Start loading a wheel's metadata (``then``: as for :meth:`prefetch`)."""
        if file.is_wheel:
            jobs = self._made().jobs
            jobs.then(jobs.submit("meta", file.url, lambda: self._load_metadata(name, file), urgent=False), then)

    def get_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        return self._made().jobs.wait("meta", file.url, lambda: self._load_metadata(name, file))

    def metadata_bytes(self, name: str, file: IndexFile) -> bytes:
        """The METADATA file of an index wheel as it is (PEP 658 file, ranged read or the
        downloaded wheel), for reports that show all of it."""
        return self._made().metadata.fetch_bytes(name, file)

    def _load_metadata(self, name: str, file: IndexFile) -> CoreMetadata:
        return self._made().metadata.load(name, file)

    def file_shape(self, file: IndexFile) -> tuple[int | None, int | None]:
        """(size in bytes, number of members) of ``file`` as far as known without reading it:
        from a ranged METADATA read of it this run, else the size the index gave."""
        return self._made().metadata.file_shape(file)

    def get_direct_metadata(self, name: str, url: str) -> CoreMetadata:
        filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
        if not filename.endswith(".whl"):
            raise SatchelError(
                f"{name} @ {url}: only wheel URLs are supported for direct references so far",
                hint="use a wheel file or URL",
            )
        from satchel.index.downloads import fragment_hashes
        from satchel.index.metadata import CoreMetadata
        from satchel.index.metadata_fetch import wheel_metadata

        file = IndexFile(filename=filename, url=url.split("#", 1)[0], hashes=fragment_hashes(url))
        path = self.download(name, file)
        return CoreMetadata.from_email(wheel_metadata(path, filename))

    def get_installed_metadata(self, name: str) -> CoreMetadata | None:
        return self._installed_metadata(name)

    # -- files ---------------------------------------------------------------------------------

    def download(self, name: str, file: IndexFile) -> Path:
        """The file, from the cache or downloaded into it. Its sha256 is always verified."""
        return self._made().downloads.download(name, file)

    def discard_download(self, name: str, file: IndexFile, path: Path, reason: str) -> bool:
        """Drop ``path`` (what ``download`` gave for ``file``) from the cache because reading
        it failed (``reason``), so that ``download`` fetches it again; False when it was not a
        cache entry."""
        return self._made().downloads.discard(name, file, path, reason)


__all__ = ["IndexClient", "IndexError_", "IndexOptions"]
