"""HTTP freshness for cached index pages (RFC 9111, the parts an index client needs).

``Freshness.from_headers`` reads Cache-Control (max-age, s-maxage, no-cache, no-store,
must-revalidate), Expires, Date and Age, and keeps ETag / Last-Modified for revalidation. When a
server sends no freshness information at all (as the registry proxy here does), a page is fresh
for ``default_ttl`` seconds instead of being refetched on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Freshness:
    """When a cached HTTP answer was fetched, until when it is fresh, and its validators."""
    fetched_at: float
    expires_at: float  # fresh while now < expires_at
    etag: str | None = None
    last_modified: str | None = None

    def is_fresh(self, now: float) -> bool:
        return self.fetched_at <= now + 60 and now < self.expires_at

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], now: float, default_ttl: float) -> Freshness:
        h = {k.lower(): v for k, v in headers.items()}
        etag = h.get("etag")
        last_modified = h.get("last-modified")
        directives = _cache_control(h.get("cache-control", ""))
        lifetime: float | None = None
        if "no-store" in directives or "no-cache" in directives:
            lifetime = 0.0
        elif "s-maxage" in directives or "max-age" in directives:
            lifetime = _seconds(directives.get("max-age") or directives.get("s-maxage"))
        elif "expires" in h:
            expires = _http_date(h["expires"])
            date = _http_date(h.get("date", "")) or now
            lifetime = max(0.0, expires - date) if expires is not None else 0.0
        if lifetime is None:
            lifetime = default_ttl
        age = _seconds(h.get("age")) or 0.0
        return cls(now, now + max(0.0, lifetime - age), etag, last_modified)

    def refreshed(self, headers: Mapping[str, str], now: float, default_ttl: float) -> Freshness:
        """After a 304: new lifetime, validators kept unless the server sent new ones."""
        new = Freshness.from_headers(headers, now, default_ttl)
        return Freshness(
            now, new.expires_at, new.etag or self.etag, new.last_modified or self.last_modified
        )


def _cache_control(value: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in value.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip().strip('"')
        else:
            out[part] = None
    return out


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        return None


def _http_date(value: str) -> float | None:
    if not value:
        return None
    # (imported here: email.utils brings socket, email.charset and more, ~7 ms, and only a
    # response with an Expires or Date header needs it, never a run served from the cache)
    import email.utils

    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp()
