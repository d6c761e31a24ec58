"""Downloads into the content-addressed cache: every file once per cache (across processes),
its sha256 always verified, found again by the digest the index gave or, for a URL without one,
by the digest recorded when it was first downloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from satchel.cache import buckets
from satchel.cache.store import Cache, CacheWriteFailed, DigestMismatch, safe_key
from satchel.errors import HashMismatchError, OfflineError, SatchelError
from satchel.index.models import IndexFile
from satchel.index.options import IndexOptions
from satchel.index.records import UrlDigest, metadata_key
from satchel.index.writes import RecordWriter
from satchel.standards.digests import DIGEST_LENGTHS, is_hex_digest
from satchel.standards.redact import redact

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

log = logging.getLogger("satchel.index")


class Downloads:
    """The index client's files (:meth:`download`)."""

    def __init__(
        self,
        cache: Cache,
        options: IndexOptions,
        records: RecordWriter,
        stats: dict[str, int],
        *,
        http: Callable[[], HttpClient],
        any_http: Callable[[], HttpClient] | None = None,
    ) -> None:
        """``http``: the HTTP client (an error with --offline); ``any_http``: the HTTP client
        even offline, for ``file:`` URLs (a local file needs no network: with --offline it is
        still read, and checked against its digest)."""
        self.cache = cache
        self.options = options
        self._records = records
        self._stats = stats
        self._http = http
        self._any_http = any_http or http
        # URL -> ((filename, sha256), path) of what this run downloaded (and hashed)
        self._fetched: dict[str, tuple[tuple[str, str | None], Path]] = {}
        # Download progress, when someone shows it: called with (expected total or None) when a
        # download starts, then (None, bytes) for every chunk; from worker threads.
        self.on_download: Callable[[int | None, int], None] | None = None

    def cached_file(self, name: str, file: IndexFile) -> Path | None:
        sha = file.sha256 or self._known_digest(name, file)
        if not sha:
            return None
        return self.cache.get_file(name, sha, file.filename)

    def _known_digest(self, name: str, file: IndexFile) -> str | None:
        rec = self.cache.read(UrlDigest, f"{name}/by-url/{safe_key(file.url, 32)}.rec")
        return rec.sha256 if rec is not None and rec.filename == file.filename else None

    def discard(self, name: str, file: IndexFile, path: Path, reason: str) -> bool:
        """``path``, which ``download`` returned for ``file``, cannot be read (``reason``): it
        is removed from the cache (one warning) and forgotten by this run, so the next
        ``download`` fetches it again. False when ``path`` is not a cache entry."""
        self._fetched.pop(file.url, None)
        return self.cache.discard_file(path, reason)

    def download(self, name: str, file: IndexFile) -> Path:
        """The file, from the cache or downloaded into it. Its sha256 is always verified."""
        name = str(canonicalize_name(name))
        fetched = self._fetched.get(file.url)
        if fetched is not None and fetched[0] == (file.filename, file.sha256) and fetched[1].is_file():
            return fetched[1]  # downloaded (and hashed) by this run: no need to hash it again
        local = self.cached_file(name, file)
        if local is not None:
            return local
        if self.options.offline and not _is_local(file.url):
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
            local = self.cached_file(name, file)
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
        self._stats["downloads"] += 1
        self._fetched[file.url] = ((file.filename, file.sha256), path)
        return path

    def _download_once(self, name: str, file: IndexFile) -> tuple[Path, str]:
        expected = file.sha256
        try:
            http = self._any_http() if _is_local(file.url) else self._http()
            with self.cache.file_writer(name, file.filename, expected) as writer, http.stream(file.url) as resp:
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
            key = metadata_key(name, file)
            self._records.wait_for(key)
            self.cache.remove(buckets.METADATA, key)
            raise HashMismatchError(
                f"hash mismatch for {file.filename} from {redact(file.url)}: "
                f"expected sha256 {exc.expected}, got {exc.actual}",
                hint="the file changed on the server or was corrupted in transit; nothing was cached",
            ) from None
        assert writer.path is not None and writer.sha256 is not None
        log.debug("downloaded %s (%d bytes)", file.filename, writer.size)
        return writer.path, writer.sha256


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
                    f"{redact(url)}: malformed {algo} digest {digest!r} in the URL",
                    hint=f"#{algo}= must be followed by {DIGEST_LENGTHS[algo]} hexadecimal digits",
                )
            out[algo] = digest
    return out


def _is_local(url: str) -> bool:
    """A ``file:`` URL: read from the disk, never the network."""
    return url[:5].lower() == "file:"
