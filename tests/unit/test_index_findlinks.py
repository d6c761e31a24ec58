from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from satchel.errors import IndexError_, OfflineError
from satchel.index.findlinks import find_links_files
from satchel.index.http import HttpClient
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist, build_wheel


def http() -> HttpClient:
    return HttpClient(timeout=5, backoff=0.01, environ={})


def test_local_directory(tmp_path: Path) -> None:
    d = tmp_path / "wheels"
    w = build_wheel(WheelSpec("Demo", "1.0"), d)
    s = build_sdist("demo", "1.1", d)
    build_wheel(WheelSpec("other", "1.0"), d)
    (d / "demo-notes.txt").write_text("x")
    (d / "demo-2.0.tar.gz").mkdir()  # a directory, not a file
    files = find_links_files(str(d), "DEMO", None)
    assert [f.filename for f in files] == [w.name, s.name]
    for f, p in zip(files, [w, s], strict=True):
        assert f.url == p.resolve().as_uri()
        assert f.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
        assert f.size == p.stat().st_size
    # a file:// URL of the directory works the same
    assert find_links_files(d.as_uri(), "demo", None) == files


def test_missing_directory_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert find_links_files(str(tmp_path / "nope"), "demo", None) == []
    assert "nope" in caplog.text


def test_local_html_file(tmp_path: Path) -> None:
    page = tmp_path / "links.html"
    page.write_text(
        '<a href="dl/demo-1.0.tar.gz#sha256=' + "a" * 64 + '">demo</a>'
        '<a href="dl/other-1.0.tar.gz">other</a>'
    )
    (f,) = find_links_files(str(page), "demo", None)
    assert f.url == (tmp_path / "dl" / "demo-1.0.tar.gz").as_uri()
    assert f.sha256 == "a" * 64


def test_remote_page_lists_many_projects(index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("demo", "1.0"), WheelSpec("demo", "1.1"), WheelSpec("other", "2.0"))
    url = index_server.add_page("/links/", index_server.links_page())
    files = find_links_files(url, "Demo", http())
    assert [f.filename for f in files] == ["demo-1.0-py3-none-any.whl", "demo-1.1-py3-none-any.whl"]
    assert files[0].url == index_server.file_url("demo-1.0-py3-none-any.whl")
    assert files[0].sha256 == index_server.sha256("demo-1.0-py3-none-any.whl")
    assert index_server.requests[-1].headers["accept"] == "text/html"


def test_remote_page_errors(index_server: IndexServer) -> None:
    with pytest.raises(IndexError_) as exc:
        find_links_files(index_server.url + "/nowhere/", "demo", http())
    assert "404" in exc.value.message
    with pytest.raises(OfflineError):
        find_links_files(index_server.url + "/nowhere/", "demo", None)
