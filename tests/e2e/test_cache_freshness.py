"""Freshness (issue 3, contract 6; acceptance: warm installs touch the network only for stale index
pages, and `--offline` installs from a warm cache with no network at all).

Every count is taken at the local index server, so "zero requests" means zero.
"""

from __future__ import annotations

import pytest

from tests.support.cache import (
    ALPHA,
    ALPHA_WHEEL,
    BETA,
    BETA_WHEEL,
    file_requests,
    page_requests,
    snapshot,
)
from tests.support.cli import Satchel, installed_files_match_record
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def warm(satchel: Satchel, server: IndexServer, env: dict[str, str] | None = None) -> None:
    publish(server, ALPHA, BETA)
    satchel.run("install", "-p", satchel.venv("first"), "alpha", env=env)
    server.reset_log()


def test_warm_install_makes_no_requests_while_pages_are_fresh(
    satchel: Satchel, index_server: IndexServer
) -> None:
    # The local index, like the registry proxy here, sends no Cache-Control, Expires or ETag:
    # pages stay fresh for the default TTL (10 minutes).
    warm(satchel, index_server)
    fresh = satchel.venv("fresh")
    result = satchel.run("install", "-p", fresh, "alpha")
    assert index_server.paths() == [], index_server.paths()
    assert result.warnings() == []
    installed_files_match_record(fresh, "alpha")


def test_ttl_zero_refetches_pages_but_never_files(
    satchel: Satchel, index_server: IndexServer
) -> None:
    ttl0 = {"SATCHEL_INDEX_TTL": "0"}
    warm(satchel, index_server, ttl0)
    result = satchel.run("install", "-p", satchel.venv("fresh"), "alpha", env=ttl0)
    assert sorted(page_requests(index_server)) == ["/simple/alpha/", "/simple/beta/"]
    assert file_requests(index_server) == [], "files are immutable: never revalidated"
    assert result.warnings() == []


def test_max_age_zero_with_etag_revalidates_with_304(
    satchel: Satchel, index_server: IndexServer
) -> None:
    index_server.cache_control = "max-age=0"
    index_server.etag = True
    warm(satchel, index_server)
    satchel.run("install", "-p", satchel.venv("fresh"), "alpha")
    pages = [r for r in index_server.requests if r.path.startswith("/simple/")]
    assert sorted(r.path for r in pages) == ["/simple/alpha/", "/simple/beta/"]
    for r in pages:
        assert r.headers.get("if-none-match"), f"{r.path} was not a conditional request"
        assert r.status == 304, (r.path, r.status)
    assert file_requests(index_server) == []
    # A 304 renews the page: the next run within max-age=0 asks again, still conditionally.
    index_server.reset_log()
    satchel.run("install", "-p", satchel.venv("third"), "alpha")
    assert [r.status for r in index_server.requests if r.path.startswith("/simple/")] == [304, 304]


def test_changed_page_behind_etag_is_fetched_again(
    satchel: Satchel, index_server: IndexServer
) -> None:
    index_server.cache_control = "max-age=0"
    index_server.etag = True
    warm(satchel, index_server)
    publish(index_server, WheelSpec("alpha", "2.0", requires=["beta"]))
    result = satchel.run("install", "-p", satchel.venv("fresh"), "alpha")
    assert " + alpha==2.0" in result.stderr, result
    statuses = {r.path: r.status for r in index_server.requests if r.path.startswith("/simple/")}
    assert statuses == {"/simple/alpha/": 200, "/simple/beta/": 304}


def test_refresh_refetches_every_page(satchel: Satchel, index_server: IndexServer) -> None:
    warm(satchel, index_server)
    satchel.run("install", "--refresh", "-p", satchel.venv("fresh"), "alpha")
    assert sorted(page_requests(index_server)) == ["/simple/alpha/", "/simple/beta/"]
    assert file_requests(index_server) == []


def test_refresh_package_refetches_that_page_only(
    satchel: Satchel, index_server: IndexServer
) -> None:
    warm(satchel, index_server)
    publish(index_server, WheelSpec("beta", "2.0"))
    result = satchel.run(
        "install", "--refresh-package", "Beta", "-p", satchel.venv("fresh"), "alpha"
    )
    assert page_requests(index_server) == ["/simple/beta/"]
    assert " + beta==2.0" in result.stderr, result  # the refreshed page's news is used


def test_offline_on_a_warm_cache_makes_no_requests(
    satchel: Satchel, index_server: IndexServer
) -> None:
    warm(satchel, index_server)
    # Stale pages are fine offline: even with TTL 0 nothing is asked.
    fresh = satchel.venv("fresh")
    result = satchel.run(
        "install", "--offline", "-p", fresh, "alpha", env={"SATCHEL_INDEX_TTL": "0"}
    )
    assert index_server.paths() == []
    assert result.warnings() == []
    installed_files_match_record(fresh, "alpha")
    installed_files_match_record(fresh, "beta")


def test_offline_on_a_cold_cache_names_what_is_missing(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    result = satchel.run("install", "--offline", "-p", satchel.venv(), "alpha", check=False)
    assert result.returncode == 1, result
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "alpha" in error[0] and "--offline" in error[0], result
    assert index_server.paths() == []


def test_offline_names_a_missing_file(satchel: Satchel, index_server: IndexServer) -> None:
    warm(satchel, index_server)
    result = satchel.run("cache", "clean", "beta")
    assert result.returncode == 0
    # Pages and metadata of alpha are cached; beta is gone entirely.
    offline = satchel.run("install", "--offline", "-p", satchel.venv("fresh"), "alpha", check=False)
    assert offline.returncode == 1
    assert "beta" in offline.stderr and "--offline" in offline.stderr, offline
    assert index_server.paths() == []
    # Same with only the downloaded file and its unpacked tree gone (page and metadata cached).
    satchel.run("install", "-p", satchel.venv("refill"), "alpha")
    for bucket in ("files-v1", "archives-v1"):
        import shutil

        shutil.rmtree(satchel.cache_dir / bucket / "beta")
    index_server.reset_log()
    offline = satchel.run(
        "install", "--offline", "-p", satchel.venv("fresh2"), "alpha", check=False
    )
    assert offline.returncode == 1
    assert f"{BETA_WHEEL} is not in the cache (--offline)" in offline.stderr, offline
    assert index_server.paths() == []


@pytest.mark.parametrize("warm_first", [True, False], ids=["warm", "cold"])
def test_no_cache_leaves_the_cache_untouched(
    satchel: Satchel, index_server: IndexServer, warm_first: bool
) -> None:
    fresh = satchel.venv("fresh", python=None)
    if warm_first:
        warm(satchel, index_server)
    else:
        publish(index_server, ALPHA, BETA)
        import shutil

        shutil.rmtree(satchel.cache_dir)
    before = snapshot(satchel.cache_dir) if satchel.cache_dir.exists() else None
    result = satchel.run("install", "--no-cache", "-p", fresh, "alpha")
    after = snapshot(satchel.cache_dir) if satchel.cache_dir.exists() else None
    assert before == after
    assert result.warnings() == []
    installed_files_match_record(fresh, "alpha")
    # A temporary cache means everything was fetched, even with a warm cache next to it.
    assert sorted(page_requests(index_server)) == ["/simple/alpha/", "/simple/beta/"]
    assert any(p.endswith(ALPHA_WHEEL) for p in file_requests(index_server))
