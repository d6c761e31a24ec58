"""The local test index itself (tests/support/index_server.py), through the real client."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from satchel.errors import IndexError_
from satchel.index.http import HttpClient, RangeNotSupported
from satchel.index.metadata import parse_metadata
from satchel.index.simple import ACCEPT_HEADER, parse_page
from tests.support.fixtures import publish, publish_sdist
from tests.support.index_server import IndexServer, Mode
from tests.support.wheels import WheelSpec, build_wheel


@pytest.fixture
def http() -> HttpClient:
    return HttpClient(timeout=5, backoff=0.01, environ={})


def files_of(http: HttpClient, server: IndexServer, name: str, accept: str = ACCEPT_HEADER) -> list:
    resp = http.get(server.project_url(name), {"Accept": accept})
    assert resp.status == 200
    return parse_page(resp.body, resp.headers.get("content-type", ""), resp.url, name)


@pytest.mark.parametrize("mode", ["html", "json", "accept"])
def test_modes_list_the_same_files(index_server: IndexServer, http: HttpClient, mode: str) -> None:
    index_server.mode = mode  # type: ignore[assignment]
    (whl,) = publish(index_server, WheelSpec("Demo", "1.0", requires_python=">=3.8,<4"))
    sdist = publish_sdist(index_server, "demo", "1.1")
    index_server.yank(whl.name, "oops")
    files = files_of(http, index_server, "demo")
    assert [f.filename for f in files] == [whl.name, sdist.name]
    w, s = files
    assert w.sha256 == hashlib.sha256(whl.read_bytes()).hexdigest()
    assert (w.requires_python, w.yanked, w.metadata_hashes) == (">=3.8,<4", "oops", None)
    assert (s.requires_python, s.yanked) == (None, None)
    assert http.get(w.url).body == whl.read_bytes()


def test_servers_that_ignore_accept(index_server: IndexServer, http: HttpClient) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    index_server.mode = "json"
    resp = http.get(index_server.project_url("demo"), {"Accept": "text/html"})
    assert resp.content_type == "application/vnd.pypi.simple.v1+json"
    assert len(files_of(http, index_server, "demo", accept="text/html")) == 1
    index_server.mode = "html"
    resp = http.get(index_server.project_url("demo"), {"Accept": "application/vnd.pypi.simple.v1+json"})
    assert resp.content_type == "text/html"
    assert len(files_of(http, index_server, "demo", accept="application/vnd.pypi.simple.v1+json")) == 1


def test_accept_mode_negotiates(index_server: IndexServer, http: HttpClient) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    index_server.mode = "accept"
    url = index_server.project_url("demo")
    assert http.get(url, {"Accept": ACCEPT_HEADER}).content_type.endswith("+json")
    assert http.get(url, {"Accept": "text/html"}).content_type == "text/html"
    assert http.get(url, {"Accept": "application/vnd.pypi.simple.v1+html"}).content_type.endswith("+html")
    low_json = "application/vnd.pypi.simple.v1+json;q=0.1, text/html"
    assert http.get(url, {"Accept": low_json}).content_type == "text/html"


def test_root_and_redirects(index_server: IndexServer, http: HttpClient) -> None:
    publish(index_server, WheelSpec("Zope.Thing", "1.0"), WheelSpec("b", "1.0"))
    root = http.get(index_server.index_url)
    assert b'href="b/"' in root.body and b'href="zope-thing/"' in root.body
    index_server.mode = "json"
    doc = json.loads(http.get(index_server.index_url).body)
    assert [p["name"] for p in doc["projects"]] == ["b", "zope-thing"]
    resp = http.get(f"{index_server.url}/simple/Zope_Thing")
    assert resp.url == index_server.project_url("zope-thing")
    assert [r.status for r in index_server.requests[-2:]] == [301, 200]
    assert http.get(index_server.project_url("missing")).status == 404


def test_pep658_metadata_files(index_server: IndexServer, http: HttpClient) -> None:
    index_server.serve_metadata = True
    (whl,) = publish(index_server, WheelSpec("demo", "1.0", requires=["dep"]))
    publish_sdist(index_server, "demo", "1.1")
    modes: tuple[Mode, ...] = ("html", "json")
    for mode in modes:
        index_server.mode = mode
        w, s = files_of(http, index_server, "demo")
        assert s.metadata_hashes is None
        assert w.metadata_hashes is not None
        data = http.get(w.metadata_url).body
        assert hashlib.sha256(data).hexdigest() == w.metadata_hashes["sha256"]
        assert parse_metadata(data, source=w.metadata_url).requires_dist == ("dep",)
    index_server.serve_metadata = False
    assert http.get(index_server.file_url(whl.name) + ".metadata").status == 404


def test_add_file_at_runtime(index_server: IndexServer, http: HttpClient, tmp_path: Path) -> None:
    assert http.get(index_server.project_url("demo")).status == 404
    index_server.add_file(build_wheel(WheelSpec("demo", "1.0"), tmp_path))
    assert len(files_of(http, index_server, "demo")) == 1
    index_server.add_file(build_wheel(WheelSpec("demo", "2.0"), tmp_path))
    assert len(files_of(http, index_server, "demo")) == 2


def test_cache_headers(index_server: IndexServer, http: HttpClient) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    resp = http.get(index_server.project_url("demo"))
    assert "cache-control" not in resp.headers and "etag" not in resp.headers
    index_server.cache_control = "max-age=600"
    index_server.etag = True
    resp = http.get(index_server.project_url("demo"))
    assert resp.headers["cache-control"] == "max-age=600"
    again = http.get(index_server.project_url("demo"), {"If-None-Match": resp.headers["etag"]})
    assert again.status == 304 and again.body == b""


def test_range_edge_cases(index_server: IndexServer, http: HttpClient) -> None:
    (whl,) = publish(index_server, WheelSpec("demo", "1.0"))
    size = whl.stat().st_size
    url = index_server.file_url(whl.name)
    with pytest.raises(IndexError_, match="416"):
        http.get(url, {"Range": f"bytes={size}-"})
    assert index_server.requests[-1].status == 416
    with pytest.raises(RangeNotSupported):
        http.get_range(url, size, size + 10)
    resp = http.get(url, {"Range": "bytes=0-9,20-29"})  # multiple ranges: whole file
    assert resp.status == 200 and len(resp.body) == size


def test_corrupt_and_count(index_server: IndexServer, http: HttpClient) -> None:
    (whl,) = publish(index_server, WheelSpec("demo", "1.0"))
    (f,) = files_of(http, index_server, "demo")
    index_server.corrupt(whl.name)
    with http.stream(f.url) as resp:
        body = b"".join(resp.iter_bytes())
    assert len(body) == whl.stat().st_size
    assert hashlib.sha256(body).hexdigest() != f.sha256
    assert index_server.count("/files/") == 1
    assert index_server.count("/simple/demo/") == 1
    index_server.clear_faults()
    assert http.get(f.url).body == whl.read_bytes()


def test_fail_next_is_consumed(index_server: IndexServer, http: HttpClient) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    index_server.fail_next("/simple/demo/", 404, times=2)
    assert http.get(index_server.project_url("demo")).status == 404
    assert http.get(index_server.project_url("demo")).status == 404
    assert http.get(index_server.project_url("demo")).status == 200


def test_auth_required(index_dir: Path, http: HttpClient) -> None:
    with IndexServer(index_dir, auth=("u", "p")) as server:
        with pytest.raises(IndexError_):
            http.get(server.index_url)
        assert server.requests[-1].status == 401
        assert http.get(server.auth_url("u", "p")).status == 200
