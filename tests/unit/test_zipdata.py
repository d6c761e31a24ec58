"""satchel/zipdata.py against zipfile: the same bytes, or an error of the same type, for every
member of varied archives, whole and damaged -- read in pieces (``member_chunks``) and in one go
(``member_bytes``)."""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from satchel import zipdata

_ERRORS = (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error, ValueError, OSError)


def _content(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    size = rng.choice([0, 1, 7, 100, 4096, 70_000, 300_000])
    if kind == 0:
        return b""
    if kind == 1:
        return bytes(size)  # compresses well
    if kind == 2:
        return rng.randbytes(size)  # does not compress
    if kind == 3:
        return (b"def f():\n    return %d\n" * (size // 20 + 1))[:size]
    return "\N{SNOWMAN} ü é \n".encode() * (size // 10)


def _names(rng: random.Random, n: int) -> list[str]:
    parts = ["pkg", "sub", "a-b", "a", "Ünï", "日本", "x" * 60, "data"]
    names = set()
    while len(names) < n:
        depth = rng.randrange(1, 4)
        names.add("/".join(rng.choice(parts) for _ in range(depth)) + f"/f{len(names)}.py")
    return sorted(names)


def make_zip(rng: random.Random, path: Path, *, prefix: bytes = b"", stream: bool = False) -> None:
    """A zip of varied members: stored and deflated at several levels, empty and large ones,
    UTF-8 and ASCII names, extra fields; ``stream`` writes through an unseekable file (data
    descriptors); ``prefix`` puts bytes before the archive (offsets then need the concat fix)."""
    buf = io.BytesIO()
    buf.write(prefix)
    target: io.RawIOBase | io.BytesIO = buf
    if stream:

        class Unseekable(io.RawIOBase):
            def writable(self) -> bool:
                return True

            def write(self, b: bytes) -> int:  # type: ignore[override]
                return buf.write(b)

        target = Unseekable()
    with zipfile.ZipFile(target, "w") as zf:
        for name in _names(rng, rng.randrange(1, 12)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            info.compress_type = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
            if rng.random() < 0.3:
                info.extra = struct.pack("<HH", 0xCAFE, 4) + b"abcd"
            level = rng.choice([None, 0, 1, 9])
            zf.writestr(info, _content(rng), compresslevel=level)
    path.write_bytes(buf.getvalue())


def _library(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | type[BaseException]:
    try:
        return zf.read(info)
    except _ERRORS as exc:
        return type(exc)


def _ours(zf: zipfile.ZipFile, info: zipfile.ZipInfo, chunk: int) -> bytes | type[BaseException]:
    assert zf.fp is not None
    try:
        return b"".join(zipdata.member_chunks(zf.fp.fileno(), info, chunk=chunk))
    except _ERRORS as exc:
        return type(exc)


def _whole(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | type[BaseException]:
    assert zf.fp is not None
    try:
        return zipdata.member_bytes(zf.fp.fileno(), info)
    except _ERRORS as exc:
        return type(exc)


def _compare(path: Path, rng: random.Random) -> int:
    """Compare every member; returns how many members errored (both sides)."""
    try:
        zf = zipfile.ZipFile(path)
    except _ERRORS:
        return 0  # the central directory itself is unreadable: zipfile is used for it anyway
    errors = 0
    with zf:
        for info in zf.infolist():
            if not zipdata.supported(info):
                continue
            expected = _library(zf, info)
            for chunk in (rng.choice([1, 7, 1000, 65536]), 1 << 20):
                got = _ours(zf, info, chunk)
                assert got == expected, (info.filename, chunk)
            assert _whole(zf, info) == expected, (info.filename, "whole")
            errors += not isinstance(expected, bytes)
    return errors


@pytest.mark.parametrize("seed", range(40))
def test_whole_archives_read_as_zipfile_reads_them(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "a.zip"
    make_zip(rng, path, prefix=b"#!/bin/sh\n" * (seed % 3), stream=seed % 4 == 1)
    assert _compare(path, rng) == 0


@pytest.mark.parametrize("seed", range(60))
def test_damaged_archives_fail_as_zipfile_fails(tmp_path: Path, seed: int) -> None:
    rng = random.Random(1000 + seed)
    path = tmp_path / "a.zip"
    make_zip(rng, path, stream=seed % 5 == 0)
    data = bytearray(path.read_bytes())
    how = seed % 4
    if how == 0:  # flipped bytes anywhere
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif how == 1:  # a damaged local header (signature, name, lengths, flags)
        at = data.find(b"PK\003\004", rng.randrange(len(data) // 2))
        at = at if at >= 0 else 0
        data[at + rng.choice([0, 6, 26, 28, 30, 31])] ^= 0xFF
    elif how == 2:  # member data cut out: the central directory kept, its offsets now wrong
        start = bytes(data).find(b"PK\001\002")
        data = data[: rng.randrange(start)] + data[start:]
    else:  # flipped bytes in member data only
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        info = rng.choice(infos)
        lo = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        hi = lo + info.compress_size
        if hi > lo:
            data[rng.randrange(lo, hi)] ^= 0x55
    path.write_bytes(bytes(data))
    _compare(path, rng)


def test_damage_is_detected(tmp_path: Path) -> None:
    """The damaged-archive test does exercise errors: a flipped data byte is a CRC (or zlib)
    error on both sides, and a wrong local name a BadZipFile."""
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"hello world" * 100)
        zf.writestr("b.txt", b"plain", compress_type=zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    data[30 + 5 + 3] ^= 0x01  # a byte of a.txt's data (stored)
    data[data.find(b"b.txt")] = ord("c")  # b.txt's local header now names c.txt
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        a, b = zf.infolist()
        assert _ours(zf, a, 64) is zipfile.BadZipFile is _library(zf, a)
        assert _ours(zf, b, 64) is zipfile.BadZipFile is _library(zf, b)
        assert _whole(zf, a) is zipfile.BadZipFile
        assert _whole(zf, b) is zipfile.BadZipFile


def test_a_long_local_extra_field_is_skipped(tmp_path: Path) -> None:
    """A local header may carry a longer extra field than the central directory (the first read
    guesses from the latter)."""
    payload = os.urandom(5000)
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("m.bin", payload)
    data = path.read_bytes()
    extra = struct.pack("<HH", 0xBEEF, 2000) + bytes(2000)
    header = bytearray(data[:30])
    struct.pack_into("<H", header, 28, len(extra))
    shifted = bytes(header) + data[30:35] + extra + data[35:]
    # the central directory's offset moves by len(extra)
    with zipfile.ZipFile(path) as zf:
        cd_at = data.find(b"PK\001\002")
    end = bytearray(shifted[cd_at + len(extra) :])
    eocd = end.find(b"PK\005\006")
    struct.pack_into("<L", end, eocd + 16, cd_at + len(extra))
    path.write_bytes(shifted[: cd_at + len(extra)] + bytes(end))
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
        assert zf.read(info) == payload
        assert _ours(zf, info, 1 << 20) == payload
        assert _ours(zf, info, 100) == payload
        assert _whole(zf, info) == payload


def test_bzip2_and_lzma_are_left_to_zipfile() -> None:
    info = zipfile.ZipInfo("x")
    info.compress_type = zipfile.ZIP_BZIP2
    assert not zipdata.supported(info)
    with pytest.raises(NotImplementedError):
        zipdata.member_chunks(0, info)
    with pytest.raises(NotImplementedError):
        zipdata.member_bytes(0, info)


def test_overlapping_members_are_refused_where_zipfile_refuses_them(tmp_path: Path) -> None:
    """Newer zipfile versions note where the next member starts (``_end_offset``) and refuse a
    member whose data runs into it (a "quoted overlap" zip bomb); so does the reader."""
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"a" * 100)
        zf.writestr("b.txt", b"b" * 100)
    with zipfile.ZipFile(path) as zf:
        first, b = zf.infolist()
        assert zf.fp is not None
        a = _Noted(first.filename)  # (ZipInfo has no _end_offset slot before those versions)
        for attr in zipfile.ZipInfo.__slots__:
            if hasattr(first, attr):
                setattr(a, attr, getattr(first, attr))
        a._end_offset = b.header_offset - 1
        with pytest.raises(zipfile.BadZipFile, match="Overlapped"):
            zipdata.member_chunks(zf.fp.fileno(), a)
        with pytest.raises(zipfile.BadZipFile, match="Overlapped"):
            zipdata.member_bytes(zf.fp.fileno(), a)
        a._end_offset = b.header_offset
        assert b"".join(zipdata.member_chunks(zf.fp.fileno(), a)) == b"a" * 100
        assert zipdata.member_bytes(zf.fp.fileno(), a) == b"a" * 100


class _Noted(zipfile.ZipInfo):
    _end_offset: int | None


def _deflated(payload: bytes, *, declared: int | None = None, tail: bytes = b"") -> tuple[bytes, int]:
    """A zip of one deflated member ``m`` (its stream followed by ``tail``, the central directory's
    sizes and CRC patched to say ``declared`` bytes of content), and the member's header offset."""
    stream = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = stream.compress(payload) + stream.flush() + tail
    size = len(payload) if declared is None else declared
    crc = zlib.crc32(payload[:size])
    name = b"m"
    local = struct.pack("<4s5H3L2H", b"PK\003\004", 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0)
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\001\002", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0, 0, 0, 0, 0, 0
    )
    body = local + name + data
    end = struct.pack("<4s4H2LH", b"PK\005\006", 0, 0, 1, 1, len(central) + len(name), len(body), 0)
    return body + central + name + end, 0


@pytest.mark.parametrize(
    ("payload", "declared", "tail"),
    [
        (b"x" * 5000, None, b""),  # whole
        (b"x" * 5000, 100, b""),  # the stream holds more than the directory says: cut there
        (os.urandom(3000), 2000, b""),
        (b"", None, b""),  # an empty member
        (b"abc" * 100, 0, b""),  # said to be empty, but its stream is not
        (b"hello" * 50, None, b"\xff\xff\xff"),  # bytes after the end of the stream
    ],
)
def test_member_bytes_reads_as_zipfile_at_the_edges(
    tmp_path: Path, payload: bytes, declared: int | None, tail: bytes
) -> None:
    """Edges of the one-go read: where the declared size and the stream's own end disagree, it
    gives what zipfile gives (inflating only as far as the declared size)."""
    blob, _ = _deflated(payload, declared=declared, tail=tail)
    path = tmp_path / "a.zip"
    path.write_bytes(blob)
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
        expected = _library(zf, info)
        assert _whole(zf, info) == expected
        assert _ours(zf, info, 1 << 20) == expected


def test_a_corrupt_stream_fails_in_one_go_as_in_pieces(tmp_path: Path) -> None:
    """A deflate stream that is not one fails with zlib's error, as zipfile fails."""
    blob, _ = _deflated(b"a" * 1000)
    data = bytearray(blob)
    data[30 + 1] = 0xFF  # the first byte of the stream: an invalid block type
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        (info,) = zf.infolist()
        assert _library(zf, info) is zlib.error
        assert _whole(zf, info) is zlib.error
