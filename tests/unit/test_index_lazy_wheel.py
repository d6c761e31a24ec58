from __future__ import annotations

import io
import os
import warnings
import zipfile
from pathlib import Path

import pytest

from satchel.index import lazy_wheel
from satchel.index.http import HttpClient, RangeResponse
from satchel.index.lazy_wheel import (
    LazyRemoteFile,
    RangeNotSupported,
    RemoteMetadata,
    fetch_remote_metadata,
    read_remote_metadata,
)
from satchel.index.metadata import MetadataError, find_wheel_metadata, parse_metadata
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


# -- the fast reader: the same answers as zipfile, from far fewer bytes of Python ------------------


class LocalRanges:
    """A stand-in for HttpClient serving one file's bytes from memory, counting requests."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.requests = 0

    def get_tail(self, url: str, n: int) -> RangeResponse:
        self.requests += 1
        start = max(0, len(self.data) - n)
        return RangeResponse(url, start, len(self.data), self.data[start:])

    def get_range(self, url: str, start: int, end: int) -> RangeResponse:
        self.requests += 1
        return RangeResponse(url, start, len(self.data), self.data[start : min(end, len(self.data))])


def remote(data: bytes, filename: str, tail: int = lazy_wheel.TAIL_SIZE) -> RemoteMetadata:
    return fetch_remote_metadata(LocalRanges(data), "https://x/" + filename, filename, tail=tail)  # type: ignore[arg-type]


def zip_bytes(
    members: list[tuple[zipfile.ZipInfo | str, bytes]], *, comment: bytes = b"", zip64: bool = False
) -> bytes:
    """A zip of ``members``; ``zip64``: with ZIP64 end records (as if it had 65,536 members)."""
    buf = io.BytesIO()
    limit = zipfile.ZIP_FILECOUNT_LIMIT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names, on purpose
        try:
            if zip64:
                zipfile.ZIP_FILECOUNT_LIMIT = 1  # type: ignore[misc]
            with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for info, data in members:
                    zf.writestr(info, data)
                zf.comment = comment
        finally:
            zipfile.ZIP_FILECOUNT_LIMIT = limit  # type: ignore[misc]
    return buf.getvalue()


METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: dep>=1\n\nlong text\n"


def stored(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    return info


FAST_CASES = {
    "plain": zip_bytes([("demo/__init__.py", b"x = 1\n"), ("demo-1.0.dist-info/METADATA", METADATA)]),
    "stored": zip_bytes([("demo/__init__.py", b""), (stored("demo-1.0.dist-info/METADATA"), METADATA)]),
    "comment": zip_bytes([("demo-1.0.dist-info/METADATA", METADATA)], comment=b"made by hand" * 100),
    "utf8 names": zip_bytes(
        [("demo/\u00e9t\u00e9.py", b""), ("demo-1.0.dist-info/METADATA", METADATA), ("demo/\u65e5.txt", b"")]
    ),
    "many members": zip_bytes(
        [*((f"demo/m{i:05d}_{'x' * 40}.py", b"") for i in range(3000)), ("demo-1.0.dist-info/METADATA", METADATA)]
    ),
    "metadata first": zip_bytes(
        [("demo-1.0.dist-info/METADATA", METADATA), ("demo/blob.bin", os.urandom(200_000))]
    ),
    "dist-info in a name elsewhere": zip_bytes(
        [("demo/x.dist-info/y", b""), ("demo-1.0.dist-info/METADATA", METADATA), ("demo-1.0.dist-info/WHEEL", b"")]
    ),
    "duplicate METADATA": zip_bytes(
        [("demo-1.0.dist-info/METADATA", b"Name: old\n"), ("demo-1.0.dist-info/METADATA", METADATA)]
    ),
}


@pytest.mark.parametrize("case", list(FAST_CASES))
def test_fast_reader_reads_what_zipfile_reads(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = FAST_CASES[case]
    name = "demo-1.0-py3-none-any.whl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            want = zf.read(find_wheel_metadata(zf, name))
            members = len(zf.infolist())
            header = zf.getinfo(find_wheel_metadata(zf, name)).header_offset
    fell_back = []
    fast = lazy_wheel._fast_metadata

    def spy(remote: LazyRemoteFile, filename: str) -> object:
        found = fast(remote, filename)
        if found is None:
            fell_back.append(filename)
        return found

    monkeypatch.setattr(lazy_wheel, "_fast_metadata", spy)
    got = remote(data, name)
    assert got.data == want
    assert (got.size, got.members, got.span) == (len(data), members, len(data) - header)
    assert fell_back == []


def test_unusual_archives_go_through_zipfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """ZIP64 records, and bytes before the archive, are left to zipfile, with the same result."""
    name = "demo-1.0-py3-none-any.whl"
    zip64 = zip_bytes([("demo/__init__.py", b""), ("demo-1.0.dist-info/METADATA", METADATA)], zip64=True)
    prefixed = b"#!/bin/sh\nexit 0\n" + FAST_CASES["plain"]
    for data in (zip64, prefixed):
        assert lazy_wheel._fast_metadata(LazyRemoteFile(LocalRanges(data), "u"), name) is None  # type: ignore[arg-type]
        assert remote(data, name).data == METADATA


def test_one_request_when_the_tail_holds_everything() -> None:
    data = FAST_CASES["metadata first"]
    name = "demo-1.0-py3-none-any.whl"
    first = remote(data, name, tail=16 * 1024)
    assert first.requests >= 2
    again = remote(data, name, tail=first.span)
    assert again.requests == 1 and again.data == first.data


def test_broken_members_are_metadata_errors() -> None:
    name = "demo-1.0-py3-none-any.whl"
    data = bytearray(FAST_CASES["stored"])
    at = data.find(b"Name: demo")
    data[at + 6] = ord("X")  # the stored bytes no longer match their CRC
    with pytest.raises(MetadataError, match="not a valid wheel"):
        remote(bytes(data), name)
    two = zip_bytes([("demo-1.0.dist-info/METADATA", METADATA), ("other-1.0.dist-info/METADATA", METADATA)])
    with pytest.raises(MetadataError, match=r"several \.dist-info directories"):
        remote(two, name)
    none = zip_bytes([("demo/__init__.py", b"")])
    with pytest.raises(MetadataError, match=r"no \.dist-info directory"):
        remote(none, name)
