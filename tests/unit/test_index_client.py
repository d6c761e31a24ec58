"""The index client's cold-install machinery: learned METADATA tails, local index pages read as
they are, the worker pool that serves waiting requests before prefetches, records written in the
background, and what it learns of a wheel's shape."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from packaging.version import Version

from satchel.cache import buckets
from satchel.cache.store import Cache
from satchel.index.client import IndexClient, IndexOptions
from satchel.index.models import IndexFile
from satchel.index.pool import Pool
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def client(tmp_path: Path, *index_urls: str, offline: bool = False) -> IndexClient:
    return IndexClient(Cache(tmp_path / "cache"), IndexOptions(list(index_urls), offline=offline, timeout=5))


def wheel_file(client: IndexClient, name: str, version: str) -> IndexFile:
    (found,) = [f for f in client.find_files(name) if f.filename.startswith(f"{name}-{version}-")]
    return found


def metadata_reads(server: IndexServer, name: str, version: str) -> int:
    return sum(1 for r in server.requests if f"/{name}-{version}-" in r.path and "range" in {k.lower() for k in r.headers})


# METADATA 300 KB from the end: the default 64 KB tail misses it.
def far(version: str) -> WheelSpec:
    return WheelSpec("demo", version, extra_members={"zz/padding.bin": os.urandom(300_000)})


def test_the_next_version_is_read_with_the_tail_the_last_one_needed(
    index_server: IndexServer, tmp_path: Path
) -> None:
    publish(index_server, far("1.0"), far("2.0"), far("3.0"))
    c = client(tmp_path, index_server.index_url)
    try:
        c.get_metadata("demo", Version("3.0"), wheel_file(c, "demo", "3.0"))
        assert metadata_reads(index_server, "demo", "3.0") == 2  # tail, then METADATA
        for version in ("2.0", "1.0"):
            meta = c.get_metadata("demo", Version(version), wheel_file(c, "demo", version))
            assert str(meta.version) == version
            assert metadata_reads(index_server, "demo", version) == 1
    finally:
        c.close()


def test_what_a_ranged_read_learns_of_the_wheel(index_server: IndexServer, tmp_path: Path) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0", files={f"demo/m{i}.py": "" for i in range(40)}))
    c = client(tmp_path, index_server.index_url)
    try:
        file = wheel_file(c, "demo", "1.0")
        assert c.file_shape(file) == (None, None)  # an HTML page gives no size
        c.get_metadata("demo", Version("1.0"), file)
        size, members = c.file_shape(file)
        assert size == path.stat().st_size
        assert members == 40 + 3  # the modules, METADATA, WHEEL, RECORD
    finally:
        c.close()


def test_local_index_pages_are_read_as_they_are_not_cached(tmp_path: Path) -> None:
    index = tmp_path / "local" / "simple"
    (index / "demo").mkdir(parents=True)
    page = index / "demo" / "index.html"
    page.write_text('<a href="../../demo-1.0-py3-none-any.whl">demo-1.0-py3-none-any.whl</a>')
    url = index.as_uri()
    c = client(tmp_path, url)
    try:
        assert [f.filename for f in c.find_files("demo")] == ["demo-1.0-py3-none-any.whl"]
    finally:
        c.close()
    assert not list((tmp_path / "cache").glob(f"{buckets.INDEX.dirname}/**/*.rec"))
    # A new release shows at once, and --offline reads the local index too.
    page.write_text(page.read_text() + '<a href="../../demo-2.0-py3-none-any.whl">demo-2.0-py3-none-any.whl</a>')
    offline = client(tmp_path, url, offline=True)
    try:
        assert len(offline.find_files("demo")) == 2
        assert offline.find_files("nothing") == []
    finally:
        offline.close()


def test_records_are_written_in_the_background_and_all_by_close(
    index_server: IndexServer, tmp_path: Path
) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    c = client(tmp_path, index_server.index_url)
    file = wheel_file(c, "demo", "1.0")
    c.get_metadata("demo", Version("1.0"), file)
    c.resolution_done()  # page records are held until the resolution is over
    c.close()
    index_server.reset_log()
    again = client(tmp_path, index_server.index_url)
    try:
        meta = again.get_metadata("demo", Version("1.0"), wheel_file(again, "demo", "1.0"))
        assert meta.name == "demo"
        assert index_server.count() == 0  # page and metadata both from the cache
    finally:
        again.close()


def test_page_records_are_written_by_close_without_a_resolution(
    index_server: IndexServer, tmp_path: Path
) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    c = client(tmp_path, index_server.index_url)
    c.find_files("demo")
    c.close()
    index_server.reset_log()
    again = client(tmp_path, index_server.index_url)
    try:
        again.find_files("demo")
        assert index_server.count() == 0
    finally:
        again.close()


def test_only_pages_the_cache_lacks_are_fetched_early(index_server: IndexServer, tmp_path: Path) -> None:
    publish(index_server, WheelSpec("demo", "1.0"), WheelSpec("other", "1.0"))
    first = client(tmp_path, index_server.index_url)
    first.find_files("demo")
    first.close()  # demo's page record is in the cache now
    index_server.reset_log()
    c = client(tmp_path, index_server.index_url)
    try:
        assert c.prefetch_uncached(["demo", "other"]) == ["other"]
        deadline = time.monotonic() + 5
        while not index_server.count("/simple/other/") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert index_server.count("/simple/other/") == 1  # started without anyone asking
        assert index_server.count("/simple/demo/") == 0  # left for the resolver (maybe unneeded)
        assert [f.filename for f in c.find_files("other")] == ["other-1.0-py3-none-any.whl"]
        assert index_server.count("/simple/other/") == 1  # the early fetch is the one used
    finally:
        c.close()
    offline = client(tmp_path, index_server.index_url, offline=True)
    local = client(tmp_path / "local", (index_server.directory).as_uri())
    try:
        assert offline.prefetch_uncached(["other", "missing"]) == []
        assert local.prefetch_uncached(["other"]) == []  # a file: index is never cached
    finally:
        offline.close()
        local.close()


def test_fetching_early_warms_tls_up_only_when_it_fetches(index_server: IndexServer, tmp_path: Path) -> None:
    # The first request's TLS context is built beside the worker that imports urllib3 for it
    # (HttpClient.warm_up): on a cold run only, never when nothing is fetched.
    publish(index_server, WheelSpec("demo", "1.0"), WheelSpec("other", "1.0"))
    first = client(tmp_path, index_server.index_url)
    first.find_files("demo")
    first.close()
    c = client(tmp_path, index_server.index_url)
    try:
        assert c.prefetch_uncached(["demo"]) == []
        assert c._http is None  # nothing to fetch: no HTTP client, no TLS
        assert c.prefetch_uncached(["other"]) == ["other"]
        assert c.http._warming is not None
    finally:
        c.close()


def test_dropped_prefetches_are_fetched_when_asked_for(index_server: IndexServer, tmp_path: Path) -> None:
    publish(index_server, *(WheelSpec(f"p{i}", "1.0") for i in range(6)))
    index_server.stall("/simple/p0/", 0.5)
    c = IndexClient(Cache(tmp_path / "cache"), IndexOptions([index_server.index_url], timeout=5, workers=1))
    try:
        for i in range(6):
            c.prefetch(f"p{i}")  # p0 holds the only worker; the rest wait in the queue
        deadline = time.monotonic() + 5
        while not index_server.count("/simple/p0/") and time.monotonic() < deadline:
            time.sleep(0.01)
        c.resolution_done()
        assert [f.filename for f in c.find_files("p5")] == ["p5-1.0-py3-none-any.whl"]
        assert [f.filename for f in c.find_files("p0")] == ["p0-1.0-py3-none-any.whl"]  # not dropped
        assert index_server.count("/simple/p3/") == 0  # dropped, and nobody asked
    finally:
        c.close()


def test_what_the_resolver_waits_for_runs_in_its_own_thread(index_server: IndexServer, tmp_path: Path) -> None:
    # The only worker is held by a prefetch; a page nobody prefetched, and a prefetch still
    # queued behind it, are both answered at once, in the asking thread, not by the worker.
    publish(index_server, *(WheelSpec(f"p{i}", "1.0") for i in range(3)))
    held = index_server.hold("/simple/p0/")
    # (a ten-minute timeout: the asking thread must not queue for the worker's HTTP connection)
    c = IndexClient(Cache(tmp_path / "cache"), IndexOptions([index_server.index_url], timeout=600, workers=1))
    fetched_by: list[str] = []
    load = c._load_project

    def spy(name: str) -> list[IndexFile]:
        fetched_by.append(threading.current_thread().name)
        return load(name)

    c._load_project = spy  # type: ignore[method-assign]
    try:
        c.prefetch("p0")  # takes the only worker, and is held by the server
        deadline = time.monotonic() + 10
        while not held.arrived and time.monotonic() < deadline:
            time.sleep(0.01)
        assert held.arrived
        c.prefetch("p1")  # queued behind it
        found: list[list[str]] = []

        def ask() -> None:
            found.extend([f.filename for f in c.find_files(n)] for n in ("p2", "p1"))

        asker = threading.Thread(target=ask, name="asker")
        asker.start()
        asker.join(60)  # a hang guard only: it answers at once, or waits for p0 (ten minutes)
        assert found == [["p2-1.0-py3-none-any.whl"], ["p1-1.0-py3-none-any.whl"]]
        assert held.held == 1  # the worker is still waiting for p0
        assert fetched_by[1:] == ["asker", "asker"]
        assert index_server.count("/simple/p1/") == 1
    finally:
        held.release()
        c.close()


# -- the pool ----------------------------------------------------------------------------------------


def test_waiting_requests_go_before_queued_prefetches() -> None:
    pool = Pool(1, "test")
    release = threading.Event()
    order: list[str] = []

    def job(name: str) -> str:
        if name == "blocker":
            release.wait(5)
        order.append(name)
        return name

    try:
        pool.submit(lambda: job("blocker"), urgent=False)
        time.sleep(0.05)  # the worker is busy with it
        prefetches = [pool.submit(lambda n=n: job(n), urgent=False) for n in ("p1", "p2", "p3")]
        promoted = pool.submit(lambda: job("p4"), urgent=False)
        urgent = pool.submit(lambda: job("urgent"), urgent=True)
        pool.promote(promoted)
        release.set()
        assert urgent.result(5) == "urgent"
        for f in prefetches:
            f.result(5)
        assert order == ["blocker", "urgent", "p4", "p1", "p2", "p3"]
    finally:
        pool.shutdown()


def test_dropping_cancels_only_queued_prefetches() -> None:
    pool = Pool(1, "test")
    release = threading.Event()
    try:
        busy = pool.submit(lambda: release.wait(5), urgent=False)
        time.sleep(0.05)
        queued = pool.submit(lambda: 1, urgent=False)
        wanted = pool.submit(lambda: 2, urgent=True)
        pool.drop_queued()
        release.set()
        assert busy.result(5) is True
        assert queued.cancelled()
        assert wanted.result(5) == 2
    finally:
        pool.shutdown()


def test_a_failing_task_fails_its_future_only() -> None:
    pool = Pool(2, "test")
    try:
        bad = pool.submit(lambda: 1 / 0, urgent=True)
        good = pool.submit(lambda: 3, urgent=False)
        with pytest.raises(ZeroDivisionError):
            bad.result(5)
        assert good.result(5) == 3
    finally:
        pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: 4, urgent=True)


def test_a_callback_forgotten_while_its_prefetch_finishes_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``then`` racing ``forget_queued``: the prefetch finishes (its done-callback has started)
    and the resolution ends before the callback is looked up. It is not called, and nothing
    raises in the future's done-callbacks (concurrent.futures would log a traceback, which a
    concurrent install printed once). The race is made certain: the future's ``cancelled()``,
    which the done-callback asks first, waits until ``forget_queued`` is over."""
    from concurrent.futures import Future

    from satchel.index.pool import Scheduler

    entered, proceed = threading.Event(), threading.Event()

    class Paused(Future[int]):
        def cancelled(self) -> bool:
            entered.set()
            proceed.wait(5)
            return super().cancelled()

    scheduler = Scheduler(1)
    fut = Paused()
    called: list[int] = []
    scheduler.then(fut, lambda: called.append(1))
    with caplog.at_level("ERROR", logger="concurrent.futures"):
        worker = threading.Thread(target=fut.set_result, args=(1,))
        worker.start()
        assert entered.wait(5)
        scheduler.forget_queued()
        proceed.set()
        worker.join(5)
    assert called == []
    assert not [r for r in caplog.records if r.name == "concurrent.futures"], caplog.text[:2000]
