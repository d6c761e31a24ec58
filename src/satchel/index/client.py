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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache import buckets
from satchel.cache.freshness import Freshness
from satchel.cache.store import Cache, CacheWriteFailed, DigestMismatch, safe_key
from satchel.errors import HashMismatchError, IndexError_, OfflineError, SatchelError
from satchel.index.metadata import CoreMetadata
from satchel.index.models import IndexFile
from satchel.index.records import CachedMetadata, CachedPage, UrlDigest

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

log = logging.getLogger("satchel.index")
T = TypeVar("T")


@dataclass
class IndexOptions:
    index_urls: list[str]  # in order; the first is --index-url
    find_links: list[str] = field(default_factory=list)
    offline: bool = False
    ttl: float = 600.0
    refresh: Callable[[str], bool] = lambda name: False
    timeout: float = 15.0
    workers: int = 16


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
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[tuple[str, str], Future[Any]] = {}
        self._futures_lock = threading.Lock()
        self.stats = {"pages_fetched": 0, "pages_cached": 0, "metadata_fetched": 0, "downloads": 0}
        # Download progress, when someone shows it: called with (expected total or None) when a
        # download starts, then (None, bytes) for every chunk; from worker threads.
        self.on_download: Callable[[int | None, int], None] | None = None

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def http(self) -> HttpClient:
        if self.options.offline:
            raise OfflineError("network access needed but --offline was given")
        with self._http_lock:
            if self._http is None:
                from satchel.index.http import HttpClient

                self._http = HttpClient(timeout=self.options.timeout)
            return self._http

    def _submit(self, kind: str, key: str, fn: Callable[[], T]) -> Future[T]:
        with self._futures_lock:
            fut = self._futures.get((kind, key))
            if fut is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.options.workers, thread_name_prefix="satchel")
                fut = self._pool.submit(fn)
                self._futures[(kind, key)] = fut
            return fut

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._http is not None:
            self._http.close()

    # -- pages ---------------------------------------------------------------------------------

    def prefetch(self, name: str) -> None:
        self._submit("page", name, lambda: self._load_project(name))

    def find_files(self, name: str) -> Sequence[IndexFile]:
        return self._submit("page", name, lambda: self._load_project(name)).result()

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
        return out

    def _find_links(self, location: str, name: str) -> list[IndexFile]:
        from satchel.index.findlinks import find_links_files

        if self.options.offline and "://" in location and not location.startswith("file:"):
            return []
        return find_links_files(location, name, self._http_or_none())

    def _http_or_none(self) -> HttpClient | None:
        return None if self.options.offline else self.http

    def _page(self, index_url: str, name: str) -> list[IndexFile]:
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

    def _store_page(self, key: str, url: str, f: Freshness, found: bool, files: list[IndexFile]) -> None:
        self.cache.write(key, CachedPage(url, f.fetched_at, f.expires_at, f.etag, f.last_modified, found, files))

    # -- metadata ------------------------------------------------------------------------------

    def _metadata_key(self, name: str, file: IndexFile) -> str:
        sha = file.sha256
        if sha:
            return f"{name}/{_safe_filename(file.filename)}.{sha}.rec"
        return f"{name}/url-{safe_key(file.url, 32)}.rec"

    def prefetch_metadata(self, name: str, version: Version, file: IndexFile) -> None:
        if file.is_wheel:
            self._submit("meta", file.url, lambda: self._load_metadata(name, file))

    def get_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        fut = self._submit("meta", file.url, lambda: self._load_metadata(name, file))
        return fut.result()

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
        self.cache.write(key, _to_record(file, meta))
        self.stats["metadata_fetched"] += 1
        return meta

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
                if expected and _sha256(resp.body) != expected.lower():
                    raise HashMismatchError(
                        f"metadata file {file.metadata_url} has sha256 {_sha256(resp.body)}, "
                        f"the index says {expected}"
                    )
                return resp.body
        if file.url.startswith(("http://", "https://")):
            from satchel.index.http import RangeNotSupported
            from satchel.index.lazy_wheel import read_remote_metadata

            try:
                return read_remote_metadata(self.http, file.url, file.filename)
            except RangeNotSupported:
                log.debug("%s: no range requests; downloading the whole wheel", file.url)
        path = self.download(name, file)
        return _wheel_metadata(path, file.filename)

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
        local = self._cached_file(name, file)
        if local is not None:
            return local
        if self.options.offline:
            raise OfflineError(
                f"{file.filename} is not in the cache (--offline)",
                hint="run the same install once without --offline to fill the cache",
            )
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
            self.cache.remove(buckets.METADATA, self._metadata_key(name, file))
            raise HashMismatchError(
                f"hash mismatch for {file.filename} from {_redact(file.url)}: "
                f"expected sha256 {exc.expected}, got {exc.actual}",
                hint="the file changed on the server or was corrupted in transit; nothing was cached",
            ) from None
        assert writer.path is not None and writer.sha256 is not None
        log.debug("downloaded %s (%d bytes)", file.filename, writer.size)
        return writer.path, writer.sha256


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


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def fragment_hashes(url: str) -> dict[str, str]:
    """``#sha256=<hex>`` (and sha384/sha512) of a URL; a malformed digest is a user error (it
    would name no file, and files are cached by their sha256)."""
    _, _, frag = url.partition("#")
    out = {}
    for part in frag.split("&"):
        algo, _, digest = part.partition("=")
        if algo in _DIGEST_LENGTHS and digest:
            digest = digest.lower()
            if len(digest) != _DIGEST_LENGTHS[algo] or not all(c in "0123456789abcdef" for c in digest):
                raise SatchelError(
                    f"{_redact(url)}: malformed {algo} digest {digest!r} in the URL",
                    hint=f"#{algo}= must be followed by {_DIGEST_LENGTHS[algo]} hexadecimal digits",
                )
            out[algo] = digest
    return out


def _redact(url: str) -> str:
    from satchel.index.http import redact_url

    return redact_url(url)


__all__ = ["IndexClient", "IndexError_", "IndexOptions"]
