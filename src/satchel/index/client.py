"""The index client: project pages, metadata and files, all through the cache.

This is the resolver's Finder. Pages are fetched in worker threads (``prefetch``) and kept with
their HTTP freshness; metadata comes from the cache, a PEP 658 file, a ranged read of the wheel or
the downloaded wheel, in that order; files are downloaded once into the content-addressed cache.
Every cache read that fails is a miss (the cache warns and heals); only a failed fetch is an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache import buckets
from satchel.cache.freshness import Freshness
from satchel.cache.store import Cache, CacheWriteFailed, DigestMismatch, safe_key
from satchel.errors import HashMismatchError, IndexError_, OfflineError, SatchelError
from satchel.index.metadata import CoreMetadata
from satchel.index.models import IndexFile
from satchel.index.pool import Scheduler
from satchel.index.records import CachedMetadata, CachedPage, UrlDigest
from satchel.index.writes import RecordWriter
from satchel.standards.digests import DIGEST_LENGTHS, data_digest, is_hex_digest
from satchel.standards.redact import redact

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

log = logging.getLogger("satchel.index")
T = TypeVar("T")


#: The most a learned tail (see ``IndexClient._fetch_metadata_bytes``) may ask for at once.
MAX_LEARNED_TAIL = 512 * 1024


@dataclass
class IndexOptions:
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


class IndexClient:
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
        self._jobs = Scheduler(options.workers, "satchel")
        self._records = RecordWriter(cache)
        self.stats = {"pages_fetched": 0, "pages_cached": 0, "metadata_fetched": 0, "downloads": 0}
        self._tails: dict[str, int] = {}  # project -> tail to fetch first for a wheel's METADATA
        self._shapes: dict[str, tuple[int, int]] = {}  # wheel URL -> (size, members), when seen
        # URL -> ((filename, sha256), path) of what this run downloaded (and hashed)
        self._fetched: dict[str, tuple[tuple[str, str | None], Path]] = {}
        self._over_network: set[str] = set()  # projects with a page fetched from a remote index
        # Download progress, when someone shows it: called with (expected total or None) when a
        # download starts, then (None, bytes) for every chunk; from worker threads.
        self.on_download: Callable[[int | None, int], None] | None = None

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
        self._jobs.forget_queued()
        self._records.write_held()

    def close(self) -> None:
        """End the run's fetching: queued prefetches are dropped, and prefetches under way are
        not waited for (nobody asked for their answer; they finish, or not, in daemon threads
        and their results are dropped); every record write already asked for is waited for."""
        self._jobs.shutdown()
        self._records.close()
        if self._http is not None:
            self._http.close()

    # -- pages ---------------------------------------------------------------------------------

    def prefetch(self, name: str, then: Callable[[], None] | None = None) -> None:
        """Start loading ``name``'s files; ``then`` is called when they are in (in a worker
        thread, or at once if they are already), not if loading fails or the prefetch is
        dropped, nor after :meth:`resolution_done`."""
        self._jobs.then(self._jobs.submit("page", name, lambda: self._load_project(name), urgent=False), then)

    def find_files(self, name: str) -> Sequence[IndexFile]:
        return self._jobs.wait("page", name, lambda: self._load_project(name))

    def fetched_over_network(self, name: str) -> bool:
        """Whether loading ``name``'s files (done) fetched a page from a remote index, rather
        than only from the cache or local indexes."""
        return name in self._over_network

    def _load_project(self, name: str) -> list[IndexFile]:
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
            out = _uploaded_before(name, out, self.options.exclude_newer)
        return out

    def _find_links(self, location: str, name: str) -> list[IndexFile]:
        from satchel.index.findlinks import find_links_files

        if self.options.offline and "://" in location and not location.startswith("file:"):
            return []
        return find_links_files(location, name, self._http_or_none())

    def _http_or_none(self) -> HttpClient | None:
        return None if self.options.offline else self.http

    def _page(self, index_url: str, name: str) -> list[IndexFile]:
        if index_url.startswith("file:"):
            return self._local_page(index_url, name)
        key = f"{name}/{safe_key(index_url)}.rec"
        cached = self.cache.read(CachedPage, key)
        now = time.time()
        if cached is not None:
            fresh = Freshness(cached.fetched_at, cached.expires_at).is_fresh(now)
            if self.options.offline or (fresh and not self.options.refresh(name)):
                log.debug("index page %s from cache (%s)", name, "offline" if not fresh else "fresh")
                self.stats["pages_cached"] += 1
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
        resp = self.http.get(url, headers)
        self.stats["pages_fetched"] += 1
        self._over_network.add(name)
        now = time.time()
        if resp.status == 304 and cached is not None:
            old = Freshness(cached.fetched_at, cached.expires_at, cached.etag, cached.last_modified)
            new = old.refreshed(resp.headers, now, self.options.ttl)
            self._store_page(key, url, new, cached.found, cached.files)
            return cached.files
        freshness = Freshness.from_headers(resp.headers, now, self.options.ttl)
        if resp.status in (404, 410):
            log.debug("%s: no such project on %s", name, index_url)
            self._store_page(key, url, freshness, False, [])
            return []
        files = parse_page(resp.body, resp.content_type, resp.url, name)
        self._store_page(key, url, freshness, True, files)
        return files

    def _local_page(self, index_url: str, name: str) -> list[IndexFile]:
        """A page of a ``file:`` index, read as it is now: caching a local file would only add
        a record write (and a read) per project and index, and serve it stale for --ttl."""
        from satchel.index.simple import parse_page

        url = index_url.rstrip("/") + f"/{name}/"
        resp = self._http_client().get(url)
        self.stats["pages_fetched"] += 1
        if resp.status in (404, 410):
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(index_url)
            if parts.netloc in ("", "localhost") and not Path(unquote(parts.path)).is_dir():
                # Not a project missing from the index: no index there at all.
                raise IndexError_(
                    f"index {index_url} does not exist",
                    hint="check the path of the file:// index URL",
                )
            log.debug("%s: no such project on %s", name, index_url)
            return []
        return parse_page(resp.body, resp.content_type, resp.url, name)

    def _store_page(self, key: str, url: str, f: Freshness, found: bool, files: list[IndexFile]) -> None:
        page = CachedPage(url, f.fetched_at, f.expires_at, f.etag, f.last_modified, found, files)
        self._records.write_later(key, page, hold=True)

    # -- metadata ------------------------------------------------------------------------------

    def _metadata_key(self, name: str, file: IndexFile) -> str:
        sha = file.sha256
        if sha:
            return f"{name}/{_safe_filename(file.filename)}.{sha}.rec"
        return f"{name}/url-{safe_key(file.url, 32)}.rec"

    def prefetch_metadata(
        self, name: str, version: Version, file: IndexFile, then: Callable[[], None] | None = None
    ) -> None:
        """Start loading a wheel's metadata (``then``: as for :meth:`prefetch`)."""
        if file.is_wheel:
            fut = self._jobs.submit("meta", file.url, lambda: self._load_metadata(name, file), urgent=False)
            self._jobs.then(fut, then)

    def get_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        return self._jobs.wait("meta", file.url, lambda: self._load_metadata(name, file))

    def _load_metadata(self, name: str, file: IndexFile) -> CoreMetadata:
        key = self._metadata_key(name, file)
        cached = self.cache.read(CachedMetadata, key)
        if cached is not None and cached.filename == file.filename:
            return _from_record(cached)
        if not file.is_wheel:
            raise SatchelError(
                f"{file.filename}: building source distributions is not supported yet",
                hint="use a version that has a wheel, or --only-binary :all:",
            )
        data = self._fetch_metadata_bytes(name, file)
        try:
            meta = CoreMetadata.from_email(data)
        except ValueError as exc:
            raise SatchelError(f"invalid metadata in {file.filename} ({file.url}): {exc}") from None
        self._records.write_later(key, _to_record(file, meta))
        self.stats["metadata_fetched"] += 1
        return meta

    def metadata_bytes(self, name: str, file: IndexFile) -> bytes:
        """The METADATA file of an index wheel as it is (PEP 658 file, ranged read or the
        downloaded wheel), for reports that show all of it."""
        return self._fetch_metadata_bytes(name, file)

    def _fetch_metadata_bytes(self, name: str, file: IndexFile) -> bytes:
        local = self._cached_file(name, file)
        if local is not None:
            return _wheel_metadata(local, file.filename)
        if self.options.offline:
            raise OfflineError(
                f"metadata of {file.filename} is not in the cache (--offline)",
                hint="run the same install once without --offline to fill the cache",
            )
        if file.metadata_hashes is not None:
            resp = self.http.get(file.metadata_url)
            if resp.status == 200:
                expected = (file.metadata_hashes or {}).get("sha256")
                if expected and data_digest(resp.body) != expected.lower():
                    raise HashMismatchError(
                        f"metadata file {file.metadata_url} has sha256 {data_digest(resp.body)}, "
                        f"the index says {expected}"
                    )
                return resp.body
        if file.url.startswith(("http://", "https://")):
            from satchel.index.http import RangeNotSupported
            from satchel.index.lazy_wheel import TAIL_SIZE, fetch_remote_metadata

            try:
                found = fetch_remote_metadata(
                    self.http, file.url, file.filename, tail=self._tails.get(name, TAIL_SIZE)
                )
            except RangeNotSupported:
                log.debug("%s: no range requests; downloading the whole wheel", file.url)
            else:
                self._shapes[file.url] = (found.size, found.members)
                # Releases of one project are laid out alike: ask for as much of the next one's
                # tail as held this one's METADATA (one request instead of two or three, for
                # each of the hundreds of botocore versions a backtracking resolution reads).
                want = found.span + found.span // 4 + 4096
                if TAIL_SIZE < want <= MAX_LEARNED_TAIL:
                    self._tails[name] = want
                return found.data
        path = self.download(name, file)
        return _wheel_metadata(path, file.filename)

    def file_shape(self, file: IndexFile) -> tuple[int | None, int | None]:
        """(size in bytes, number of members) of ``file`` as far as known without reading it:
        from a ranged METADATA read of it this run, else the size the index gave."""
        shape = self._shapes.get(file.url)
        if shape is not None:
            return shape
        return file.size, None

    def get_direct_metadata(self, name: str, url: str) -> CoreMetadata:
        filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
        if not filename.endswith(".whl"):
            raise SatchelError(
                f"{name} @ {url}: only wheel URLs are supported for direct references so far",
                hint="use a wheel file or URL",
            )
        file = IndexFile(filename=filename, url=url.split("#", 1)[0], hashes=fragment_hashes(url))
        path = self.download(name, file)
        return CoreMetadata.from_email(_wheel_metadata(path, filename))

    def get_installed_metadata(self, name: str) -> CoreMetadata | None:
        return self._installed_metadata(name)

    # -- files ---------------------------------------------------------------------------------

    def _cached_file(self, name: str, file: IndexFile) -> Path | None:
        sha = file.sha256 or self._known_digest(name, file)
        if not sha:
            return None
        return self.cache.get_file(name, sha, file.filename)

    def _known_digest(self, name: str, file: IndexFile) -> str | None:
        rec = self.cache.read(UrlDigest, f"{name}/by-url/{safe_key(file.url, 32)}.rec")
        return rec.sha256 if rec is not None and rec.filename == file.filename else None

    def download(self, name: str, file: IndexFile) -> Path:
        """The file, from the cache or downloaded into it. Its sha256 is always verified."""
        name = str(canonicalize_name(name))
        fetched = self._fetched.get(file.url)
        if fetched is not None and fetched[0] == (file.filename, file.sha256) and fetched[1].is_file():
            return fetched[1]  # downloaded (and hashed) by this run: no need to hash it again
        local = self._cached_file(name, file)
        if local is not None:
            return local
        if self.options.offline:
            raise OfflineError(
                f"{file.filename} is not in the cache (--offline)",
                hint="run the same install once without --offline to fill the cache",
            )
        if self._records.closed:  # a speculative read after close(): the run is over
            raise SatchelError(f"{file.filename}: not downloaded, the index client is closed")
        # One download per file across every process sharing the cache: the others wait, then
        # find it cached. (Local files are hashed while copied into the cache, like downloads.)
        lock_key = f"{name}/{file.sha256 or 'url-' + safe_key(file.url, 32)}"
        with self.cache.entry_lock(buckets.FILES, lock_key):
            local = self._cached_file(name, file)
            if local is not None:
                return local
            for attempt in range(2):
                try:
                    path, digest = self._download_once(name, file)
                    break
                except CacheWriteFailed:
                    if attempt:
                        raise
            if not file.sha256:
                self.cache.write(
                    f"{name}/by-url/{safe_key(file.url, 32)}.rec", UrlDigest(file.url, file.filename, digest)
                )
        self.stats["downloads"] += 1
        self._fetched[file.url] = ((file.filename, file.sha256), path)
        return path

    def _download_once(self, name: str, file: IndexFile) -> tuple[Path, str]:
        expected = file.sha256
        try:
            with self.cache.file_writer(name, file.filename, expected) as writer, self.http.stream(file.url) as resp:
                report = self.on_download
                if report is not None:
                    length = resp.headers.get("content-length", "")
                    report(int(length) if length.isdigit() else file.size, 0)
                for chunk in resp.iter_bytes():
                    writer.write(chunk)
                    if report is not None:
                        report(None, len(chunk))
        except DigestMismatch as exc:
            # Metadata read from this URL by Range requests (which no digest covers) is cached
            # under the digest the index promised: the bytes were not those, so neither is it.
            key = self._metadata_key(name, file)
            self._records.wait_for(key)
            self.cache.remove(buckets.METADATA, key)
            raise HashMismatchError(
                f"hash mismatch for {file.filename} from {_redact(file.url)}: "
                f"expected sha256 {exc.expected}, got {exc.actual}",
                hint="the file changed on the server or was corrupted in transit; nothing was cached",
            ) from None
        assert writer.path is not None and writer.sha256 is not None
        log.debug("downloaded %s (%d bytes)", file.filename, writer.size)
        return writer.path, writer.sha256


def _uploaded_before(name: str, files: list[IndexFile], cutoff: datetime) -> list[IndexFile]:
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

    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python < 3.11 reads at most microseconds; some indexes give nanoseconds.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _safe_filename(filename: str) -> str:
    return filename.replace("/", "_")


def _from_record(rec: CachedMetadata) -> CoreMetadata:
    return CoreMetadata(
        name=rec.name,
        version=Version(rec.version),
        requires_dist=tuple(rec.requires_dist),
        requires_python=rec.requires_python,
        provides_extra=tuple(rec.provides_extra),
    )


def _to_record(file: IndexFile, meta: CoreMetadata) -> CachedMetadata:
    return CachedMetadata(
        filename=file.filename,
        sha256=file.sha256,
        name=meta.name,
        version=str(meta.version),
        requires_dist=list(meta.requires_dist),
        requires_python=meta.requires_python,
        provides_extra=list(meta.provides_extra),
    )


def _wheel_metadata(path: Path, filename: str) -> bytes:
    from satchel.index.metadata import read_wheel_metadata_bytes

    return read_wheel_metadata_bytes(path, filename)


def fragment_hashes(url: str) -> dict[str, str]:
    """``#sha256=<hex>`` (and sha384/sha512) of a URL; a malformed digest is a user error (it
    would name no file, and files are cached by their sha256)."""
    _, _, frag = url.partition("#")
    out = {}
    for part in frag.split("&"):
        algo, _, digest = part.partition("=")
        if algo in DIGEST_LENGTHS and digest:
            digest = digest.lower()
            if not is_hex_digest(algo, digest):
                raise SatchelError(
                    f"{_redact(url)}: malformed {algo} digest {digest!r} in the URL",
                    hint=f"#{algo}= must be followed by {DIGEST_LENGTHS[algo]} hexadecimal digits",
                )
            out[algo] = digest
    return out


def _redact(url: str) -> str:
    return redact(url)


__all__ = ["IndexClient", "IndexError_", "IndexOptions"]
