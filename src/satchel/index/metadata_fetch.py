"""Wheels' core metadata, through the cache: from the cached record, else the wheel if it is in
the cache, a PEP 658 metadata file (its digest checked), a ranged read of the wheel's tail
(lazy_wheel.py; the tail learned per project), or the downloaded wheel, in that order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import Version

from satchel.cache.store import Cache
from satchel.errors import HashMismatchError, OfflineError, SatchelError
from satchel.index.downloads import Downloads
from satchel.index.metadata import CoreMetadata
from satchel.index.models import IndexFile
from satchel.index.options import IndexOptions
from satchel.index.records import CachedMetadata, metadata_key
from satchel.index.writes import RecordWriter
from satchel.standards.digests import data_digest

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

log = logging.getLogger("satchel.index")

#: The most a learned tail (see ``MetadataFetcher.fetch_bytes``) may ask for at once.
MAX_LEARNED_TAIL = 512 * 1024


class MetadataFetcher:
    """Loads wheels' metadata for the index client (which runs :meth:`load` in its workers)."""

    def __init__(
        self,
        cache: Cache,
        options: IndexOptions,
        records: RecordWriter,
        stats: dict[str, int],
        downloads: Downloads,
        *,
        http: Callable[[], HttpClient],
    ) -> None:
        """``http``: the HTTP client (an error with --offline)."""
        self.cache = cache
        self.options = options
        self._records = records
        self._stats = stats
        self._downloads = downloads
        self._http = http
        self._tails: dict[str, int] = {}  # project -> tail to fetch first for a wheel's METADATA
        self._shapes: dict[str, tuple[int, int]] = {}  # wheel URL -> (size, members), when seen

    def load(self, name: str, file: IndexFile) -> CoreMetadata:
        """``file``'s core metadata: its cached record, else fetched (and recorded)."""
        key = metadata_key(name, file)
        cached = self.cache.read(CachedMetadata, key)
        if cached is not None and cached.filename == file.filename:
            return from_record(cached)
        if not file.is_wheel:
            raise SatchelError(
                f"{file.filename}: building source distributions is not supported yet",
                hint="use a version that has a wheel, or --only-binary :all:",
            )
        data = self.fetch_bytes(name, file)
        try:
            meta = CoreMetadata.from_email(data)
        except ValueError as exc:
            raise SatchelError(f"invalid metadata in {file.filename} ({file.url}): {exc}") from None
        self._records.write_later(key, to_record(file, meta))
        self._stats["metadata_fetched"] += 1
        return meta

    def fetch_bytes(self, name: str, file: IndexFile) -> bytes:
        """The METADATA file of an index wheel as it is: from the wheel if it is cached, else
        its PEP 658 file, a ranged read of its tail, or the downloaded wheel, in that order."""
        local = self._downloads.cached_file(name, file)
        if local is not None:
            return wheel_metadata(local, file.filename)
        if self.options.offline:
            raise OfflineError(
                f"metadata of {file.filename} is not in the cache (--offline)",
                hint="run the same install once without --offline to fill the cache",
            )
        if file.metadata_hashes is not None:
            resp = self._http().get(file.metadata_url)
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
                    self._http(), file.url, file.filename, tail=self._tails.get(name, TAIL_SIZE)
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
        path = self._downloads.download(name, file)
        return wheel_metadata(path, file.filename)

    def file_shape(self, file: IndexFile) -> tuple[int | None, int | None]:
        """(size in bytes, number of members) of ``file`` as far as known without reading it:
        from a ranged METADATA read of it this run, else the size the index gave."""
        shape = self._shapes.get(file.url)
        if shape is not None:
            return shape
        return file.size, None


def from_record(rec: CachedMetadata) -> CoreMetadata:
    return CoreMetadata(
        name=rec.name,
        version=Version(rec.version),
        requires_dist=tuple(rec.requires_dist),
        requires_python=rec.requires_python,
        provides_extra=tuple(rec.provides_extra),
    )


def to_record(file: IndexFile, meta: CoreMetadata) -> CachedMetadata:
    return CachedMetadata(
        filename=file.filename,
        sha256=file.sha256,
        name=meta.name,
        version=str(meta.version),
        requires_dist=list(meta.requires_dist),
        requires_python=meta.requires_python,
        provides_extra=list(meta.provides_extra),
    )


def wheel_metadata(path: Path, filename: str) -> bytes:
    from satchel.index.metadata import read_wheel_metadata_bytes

    return read_wheel_metadata_bytes(path, filename)
