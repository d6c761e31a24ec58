from __future__ import annotations

from satchel.cache.freshness import Freshness

NOW = 1_700_000_000.0


def test_no_freshness_headers_use_default_ttl() -> None:
    f = Freshness.from_headers({"Content-Type": "text/html"}, NOW, 600)
    assert f.is_fresh(NOW + 599) and not f.is_fresh(NOW + 601)
    assert f.conditional_headers() == {}


def test_max_age_minus_age() -> None:
    f = Freshness.from_headers({"Cache-Control": "max-age=600, public", "Age": "100"}, NOW, 10)
    assert f.is_fresh(NOW + 499) and not f.is_fresh(NOW + 501)


def test_no_cache_is_stale_immediately_but_keeps_validators() -> None:
    f = Freshness.from_headers({"cache-control": "no-cache", "ETag": '"abc"'}, NOW, 600)
    assert not f.is_fresh(NOW)
    assert f.conditional_headers() == {"If-None-Match": '"abc"'}


def test_expires_relative_to_date() -> None:
    headers = {"Date": "Tue, 14 Nov 2023 22:13:20 GMT", "Expires": "Tue, 14 Nov 2023 22:23:20 GMT"}
    f = Freshness.from_headers(headers, NOW, 5)
    assert f.expires_at - NOW == 600


def test_invalid_expires_is_stale() -> None:
    f = Freshness.from_headers({"Expires": "0"}, NOW, 600)
    assert not f.is_fresh(NOW)


def test_refreshed_after_304_keeps_validators() -> None:
    f = Freshness(NOW - 1000, NOW - 400, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    g = f.refreshed({}, NOW, 600)
    assert g.is_fresh(NOW + 10) and g.etag == '"v1"' and g.last_modified == f.last_modified


def test_clock_skew_future_fetch_is_not_trusted() -> None:
    f = Freshness(NOW + 10_000, NOW + 20_000)
    assert not f.is_fresh(NOW)
