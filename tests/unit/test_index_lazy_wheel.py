from __future__ import annotations

import os
from pathlib import Path

import pytest

from satchel.index.http import HttpClient
from satchel.index.lazy_wheel import LazyRemoteFile, RangeNotSupported, read_remote_metadata
from satchel.index.metadata import MetadataError, parse_metadata
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def http() -> HttpClient:
    return HttpClient(timeout=5, backoff=0.01, environ={})


BIG = WheelSpec(
    "Big-Pkg",
    "2.0",
    requires=["dep>=1"],
    requires_python=">=3.9",
    files={"big_pkg/__init__.py": "", "big_pkg/blob.bin": os.urandom(5 * 1024 * 1024)},
)


def test_metadata_of_a_5mb_wheel_in_few_requests(index_server: IndexServer) -> None:
    (path,) = publish(index_server, BIG)
    assert path.stat().st_size > 5_000_000
    index_server.reset_log()
    data = read_remote_metadata(http(), index_server.file_url(path.name), path.name)
    meta = parse_metadata(data, source=path.name)
    assert (meta.name, str(meta.version), meta.requires_dist) == ("big-pkg", "2.0", ("dep>=1",))
    # .dist-info is written last, so the 64 KB tail holds it and the central directory
    assert index_server.count("/files/") == 1
    assert all(r.status == 206 for r in index_server.requests)


def test_metadata_far_from_the_end(index_server: IndexServer) -> None:
    """METADATA outside the fetched tail costs one more range request."""
    spec = WheelSpec("demo", "1.0", extra_members={"zz/padding.bin": os.urandom(300_000)})
    (path,) = publish(index_server, spec)
    index_server.reset_log()
    data = read_remote_metadata(http(), index_server.file_url(path.name), path.name)
    assert b"Name: demo" in data
    assert index_server.count("/files/") == 2


def test_large_central_directory(index_server: IndexServer) -> None:
    files: dict[str, bytes | str] = {f"demo/m{i:05d}_{'x' * 40}.py": "" for i in range(3000)}
    (path,) = publish(index_server, WheelSpec("demo", "1.0", files=files))
    index_server.reset_log()
    data = read_remote_metadata(http(), index_server.file_url(path.name), path.name, tail=16 * 1024)
    assert b"Version: 1.0" in data
    assert 2 <= index_server.count("/files/") <= 3


def test_ranges_disabled_signals_fallback(index_server: IndexServer) -> None:
    (path,) = publish(index_server, BIG)
    index_server.ranges = False
    index_server.reset_log()
    with pytest.raises(RangeNotSupported):
        read_remote_metadata(http(), index_server.file_url(path.name), path.name)
    assert index_server.count("/files/") == 1


def test_wrong_dist_info_is_an_error(index_server: IndexServer, tmp_path: Path) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0"))
    renamed = path.with_name("other-1.0-py3-none-any.whl")
    path.rename(renamed)
    with pytest.raises(MetadataError) as exc:
        read_remote_metadata(http(), index_server.file_url(renamed.name), renamed.name)
    assert renamed.name in exc.value.message


def test_not_a_zip(index_server: IndexServer) -> None:
    bad = index_server.directory / "demo-1.0-py3-none-any.whl"
    bad.write_bytes(os.urandom(10_000))
    with pytest.raises(MetadataError) as exc:
        read_remote_metadata(http(), index_server.file_url(bad.name), bad.name)
    assert bad.name in exc.value.message


def test_sparse_file_reads(index_server: IndexServer) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0", files={"demo/x.bin": os.urandom(200_000)}))
    data = path.read_bytes()
    f = LazyRemoteFile(http(), index_server.file_url(path.name), tail=1000)
    assert f.size == len(data) and f.requests == 1
    for start, n in [(0, 10), (5, 100), (len(data) - 1500, 1400), (100_000, 50_000), (3, 200_000)]:
        f.seek(start)
        assert f.read(n) == data[start : start + n]
    f.seek(-10, os.SEEK_END)
    assert f.read() == data[-10:]
    assert f.read(5) == b""
    before = f.requests
    f.seek(0)
    assert f.read(120_000) == data[:120_000]  # all cached by now
    assert f.requests == before
