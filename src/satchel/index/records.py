"""What the index layer stores in the cache. Changing any of these needs a bucket version bump
(tests/unit/test_cache_schema.py enforces it)."""

from __future__ import annotations

from dataclasses import dataclass

from satchel.cache import buckets
from satchel.cache.record import Record
from satchel.cache.store import safe_key
from satchel.index.models import IndexFile


@dataclass(frozen=True)
class CachedPage(Record, record_type="index-page", bucket=buckets.INDEX):
    """A parsed project page with the HTTP freshness it was fetched with. ``found`` is False for a
    404 (no such project on that index), cached like any page."""

    url: str
    fetched_at: float
    expires_at: float
    etag: str | None
    last_modified: str | None
    found: bool
    files: list[IndexFile]


@dataclass(frozen=True)
class CachedMetadata(Record, record_type="core-metadata", bucket=buckets.METADATA):
    """Core metadata of one distribution file, keyed by its filename and sha256."""

    key_pattern = r"[^/]+/[^/]+\.rec"

    filename: str
    sha256: str | None
    name: str
    version: str
    requires_dist: list[str]
    requires_python: str | None
    provides_extra: list[str]

    def address(self, key: str) -> str | None:
        """Keyed by its file's sha256 (not by URL): the same bytes always have this metadata."""
        return self.sha256 if self.sha256 is not None and key.endswith(f".{self.sha256}.rec") else None


@dataclass(frozen=True)
class UrlDigest(Record, record_type="url-digest", bucket=buckets.METADATA):
    """The sha256 a file downloaded from ``url`` turned out to have (for files whose source gave
    no digest: find-links directories, direct URLs)."""

    key_pattern = r"[^/]+/by-url/[^/]+\.rec"

    url: str
    filename: str
    sha256: str

    def references(self, key: str) -> list[tuple[buckets.Bucket, str]]:
        """The downloaded file it names: ``<project>/<sha256>/<filename>`` in files-v1."""
        project = key.split("/", 1)[0]
        return [(buckets.FILES, f"{project}/{self.sha256}/{self.filename}")]


def metadata_key(name: str, file: IndexFile) -> str:
    """The key of ``file``'s :class:`CachedMetadata` (under ``name``, canonical)."""
    sha = file.sha256
    if sha:
        return f"{name}/{_safe_filename(file.filename)}.{sha}.rec"
    return f"{name}/url-{safe_key(file.url, 32)}.rec"


def _safe_filename(filename: str) -> str:
    return filename.replace("/", "_")


def page_key(name: str, index_url: str) -> str:
    """The key of ``name``'s :class:`CachedPage` from the remote index ``index_url``."""
    return f"{name}/{safe_key(index_url)}.rec"
