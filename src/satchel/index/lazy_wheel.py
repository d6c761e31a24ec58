"""Read a remote wheel's METADATA with HTTP Range requests instead of downloading the wheel.

The tail of the file (which holds the zip central directory, and usually the ``.dist-info``
members, written last) is fetched first; ``zipfile`` then runs over a sparse file object that
fetches any other byte range it reads on demand. Typically one to three requests in all.

A server that does not answer ranges with 206 makes this raise ``RangeNotSupported``; the caller
then downloads the whole wheel.
"""

from __future__ import annotations

import bisect
import io
import logging
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from satchel.index.http import RangeNotSupported
from satchel.index.metadata import MetadataError, find_wheel_metadata, wheel_metadata_path

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

__all__ = [
    "LazyRemoteFile",
    "RangeNotSupported",
    "RemoteMetadata",
    "fetch_remote_metadata",
    "read_remote_metadata",
]

log = logging.getLogger("satchel.http")

TAIL_SIZE = 64 * 1024
MIN_FETCH = 16 * 1024  # smallest range fetched on demand (local header + small member)


class LazyRemoteFile(io.RawIOBase):
    """A read-only, seekable view of a remote file that fetches byte ranges as they are read."""

    def __init__(self, http: HttpClient, url: str, *, tail: int = TAIL_SIZE) -> None:
        super().__init__()
        self._http = http
        self.url = url
        self.requests = 0
        first = http.get_tail(url, tail)
        self.requests += 1
        self.size = first.total
        self.tail_length = len(first.body)  # what the first request fetched, from the end
        self._pos = 0
        self._starts: list[int] = []  # sorted, non-overlapping segments
        self._data: list[bytes] = []
        self._add(first.start, first.body)

    # -- io.RawIOBase ----------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        stop = self.size if size is None or size < 0 else min(self.size, start + size)
        if stop <= start:
            return b""
        self.ensure(start, stop)
        data = self._slice(start, stop)
        self._pos = stop
        return data

    def read_at(self, start: int, stop: int) -> bytes:
        """Bytes ``[start, stop)`` (clipped to the file), fetching what is missing; the position
        is left alone."""
        stop = min(stop, self.size)
        if stop <= start:
            return b""
        self.ensure(start, stop)
        return self._slice(start, stop)

    # -- sparse storage --------------------------------------------------------------------------

    def ensure(self, start: int, stop: int) -> None:
        """Make bytes [start, stop) available, fetching the missing parts (one request per gap)."""
        stop = min(stop, self.size)
        for gap_start, gap_stop in self._gaps(start, stop):
            if gap_stop - gap_start < MIN_FETCH:
                gap_stop = min(self.size, gap_start + MIN_FETCH)
                # do not refetch bytes we already have after the gap
                nxt = bisect.bisect_right(self._starts, gap_start)
                if nxt < len(self._starts):
                    gap_stop = min(gap_stop, self._starts[nxt])
            resp = self._http.get_range(self.url, gap_start, gap_stop)
            self.requests += 1
            if resp.total != self.size:
                raise RangeNotSupported(f"{self.url} changed size while being read")
            self._add(resp.start, resp.body)

    def has(self, start: int, stop: int) -> bool:
        """Whether bytes [start, stop) are all fetched already."""
        return not self._gaps(start, min(stop, self.size))

    def _gaps(self, start: int, stop: int) -> list[tuple[int, int]]:
        gaps = []
        pos = start
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while pos < stop and i < len(self._starts):
            seg_start = self._starts[i]
            seg_stop = seg_start + len(self._data[i])
            if seg_stop <= pos:
                i += 1
                continue
            if seg_start > pos:
                gaps.append((pos, min(seg_start, stop)))
            pos = max(pos, seg_stop)
            i += 1
        if pos < stop:
            gaps.append((pos, stop))
        return gaps

    def _add(self, start: int, data: bytes) -> None:
        if not data:
            return
        stop = start + len(data)
        # merge with every segment that overlaps or touches [start, stop)
        i = bisect.bisect_left(self._starts, start)
        if i > 0 and self._starts[i - 1] + len(self._data[i - 1]) >= start:
            i -= 1
        j = i
        merged_start, merged = start, data
        while j < len(self._starts) and self._starts[j] <= stop:
            s, d = self._starts[j], self._data[j]
            lo = min(s, merged_start)
            hi = max(s + len(d), merged_start + len(merged))
            buf = bytearray(hi - lo)
            buf[s - lo : s - lo + len(d)] = d
            buf[merged_start - lo : merged_start - lo + len(merged)] = merged
            merged_start, merged = lo, bytes(buf)
            j += 1
        self._starts[i:j] = [merged_start]
        self._data[i:j] = [merged]

    def _slice(self, start: int, stop: int) -> bytes:
        i = bisect.bisect_right(self._starts, start) - 1
        seg_start = self._starts[i]
        return self._data[i][start - seg_start : stop - seg_start]


@dataclass(frozen=True, slots=True)
class RemoteMetadata:
    """What reading a remote wheel's METADATA learned: the bytes, the wheel's size and member
    count (from its end of central directory record; 0 when not known), and ``span``: how many
    bytes from the end of the file held everything read (a tail of that size would have
    needed one request)."""

    data: bytes
    size: int
    members: int
    span: int
    requests: int


def read_remote_metadata(
    http: HttpClient, url: str, filename: str, *, tail: int = TAIL_SIZE
) -> bytes:
    """The raw ``*.dist-info/METADATA`` of the remote wheel at ``url`` (named ``filename``).

    Raises ``RangeNotSupported`` if the server cannot serve ranges (download the wheel instead),
    ``MetadataError`` if the wheel is malformed, ``IndexError_`` on network errors.
    """
    return fetch_remote_metadata(http, url, filename, tail=tail).data


def fetch_remote_metadata(
    http: HttpClient, url: str, filename: str, *, tail: int = TAIL_SIZE
) -> RemoteMetadata:
    """:func:`read_remote_metadata`, and what it learned about the wheel.

    The central directory is scanned for the names under ``*.dist-info/`` only (a wheel like
    botocore's has thousands of members: building a ``ZipInfo`` for each costs milliseconds of
    interpreter time per version read); anything unusual (ZIP64, a comment that does not fit,
    an unknown compression method) goes through :mod:`zipfile` instead, over the same bytes.
    """
    remote = LazyRemoteFile(http, url, tail=tail)
    try:
        found = _fast_metadata(remote, filename)
        if found is None:
            with zipfile.ZipFile(remote) as zf:
                path = find_wheel_metadata(zf, filename)
                info = zf.getinfo(path)
                # One request for the local header + compressed data (+ slack for the extra field).
                header = info.header_offset
                remote.ensure(header, header + 30 + len(info.filename.encode()) + 1024 + info.compress_size)
                data = zf.read(info)
                found = data, header, len(zf.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise MetadataError(f"{filename}: not a valid wheel ({e})") from None
    data, header, members = found
    log.debug("read METADATA of %s with %d range requests", filename, remote.requests)
    return RemoteMetadata(data, remote.size, members, remote.size - header, remote.requests)


_EOCD = struct.Struct("<4s4H2LH")  # signature, disk, cd disk, entries here, entries, cd size, cd offset, comment
# signature, (versions), flags, method, (time, date), crc, sizes, name/extra/comment lengths,
# disk, internal attributes, (external attributes), local header offset
_CD_ENTRY = struct.Struct("<4s4x2H4x3L5H4xL")
_CD_STEP = struct.Struct("<4s24x3H")  # signature, name/extra/comment lengths
_DIST_INFO = re.compile(rb"\.dist-info/")
_LOCAL = struct.Struct("<4s2xH18x2H")  # signature, flags, name length, extra length
_ZIP64_LOCATOR = b"PK\x06\x07"


def _fast_metadata(remote: LazyRemoteFile, filename: str) -> tuple[bytes, int, int] | None:
    """(METADATA, its local header offset, member count) read with a minimal zip reader, or
    None when the wheel needs :mod:`zipfile` (which reads exactly the same, only slower).

    Raises ``MetadataError`` for a malformed ``.dist-info`` (the same checks and messages as
    :func:`find_wheel_metadata`) and ``zipfile.BadZipFile`` for a corrupt member.
    """
    size = remote.size
    # The end of central directory record: in the tail already fetched, unless a long archive
    # comment pushes it further back (searched as zipfile does: the last 64 KB + 22 bytes).
    end_len = min(size, max(remote.tail_length, _EOCD.size))
    end = remote.read_at(size - end_len, size)
    at = end.rfind(b"PK\x05\x06")
    if at < 0 and end_len < min(size, _EOCD.size + 0xFFFF):
        end_len = min(size, _EOCD.size + 0xFFFF)
        end = remote.read_at(size - end_len, size)
        at = end.rfind(b"PK\x05\x06")
    if at < 0 or len(end) - at < _EOCD.size:
        return None
    _sig, disk, cd_disk, here, members, cd_size, cd_offset, comment = _EOCD.unpack_from(end, at)
    eocd = size - end_len + at
    if (
        at + _EOCD.size + comment != len(end)
        or disk
        or cd_disk
        or here != members
        or cd_offset + cd_size != eocd  # ZIP64 records, bytes prepended to the archive, garbage
        or (at >= 20 and end[at - 20 : at - 16] == _ZIP64_LOCATOR)
    ):
        return None
    if not remote.has(cd_offset, eocd):
        # One request for the rest of the central directory and, most likely, the .dist-info
        # members just before it (RECORD, compressed, is about a third of the directory).
        remote.ensure(max(0, cd_offset - cd_size // 2 - 32 * 1024), eocd)
    remote.ensure(cd_offset, eocd)
    cd = remote.read_at(cd_offset, eocd)
    # Every member is stepped over, but only the names holding ".dist-info/" (found by one scan
    # of the whole directory) are unpacked and decoded: a Python-level step per member is
    # what costs here.
    marks = [m.start() for m in _DIST_INFO.finditer(cd)]
    marks.append(len(cd) + 1)
    mark_at = 0
    mark = marks[0]
    infos: dict[str, tuple[bytes, int, int, int, int, int, int]] = {}
    pos = 0
    step = _CD_STEP.unpack_from
    limit = len(cd) - _CD_ENTRY.size
    for _ in range(members):
        if pos > limit:
            return None
        sig, nlen, xlen, clen = step(cd, pos)
        if sig != b"PK\x01\x02":
            return None
        name_start = pos + _CD_ENTRY.size
        name_end = name_start + nlen
        if mark < name_end:
            if mark >= name_start:
                _, flags, method, crc, csize, usize, _, _, _, _, _, offset = _CD_ENTRY.unpack_from(cd, pos)
                raw = cd[name_start:name_end].split(b"\x00", 1)[0]  # as zipfile reads names
                try:
                    name = raw.decode("utf-8" if flags & 0x800 else "cp437")
                except UnicodeDecodeError:
                    return None
                if name.split("/", 1)[0].endswith(".dist-info") and "/" in name:
                    infos[name] = (raw, flags, method, crc, csize, usize, offset)
            while marks[mark_at] < name_end:
                mark_at += 1
            mark = marks[mark_at]
        pos = name_end + xlen + clen
    if pos != len(cd):
        return None
    path = wheel_metadata_path(infos, filename)
    raw, flags, method, crc, csize, usize, offset = infos[path]
    if flags & 0x1 or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or offset >= cd_offset:
        return None  # encrypted (zipfile explains), bzip2/lzma, or nonsense
    remote.ensure(offset, min(cd_offset, offset + _LOCAL.size + len(raw) + 1024 + csize))
    local = remote.read_at(offset, min(cd_offset, offset + _LOCAL.size))
    if len(local) < _LOCAL.size:
        raise zipfile.BadZipFile("Truncated file header")
    sig, _lflags, lnlen, lxlen = _LOCAL.unpack_from(local)
    if sig != b"PK\x03\x04":
        raise zipfile.BadZipFile("Bad magic number for file header")
    start = offset + _LOCAL.size + lnlen + lxlen
    if remote.read_at(offset + _LOCAL.size, offset + _LOCAL.size + lnlen).split(b"\x00", 1)[0] != raw:
        raise zipfile.BadZipFile(f"File name in directory {path!r} and header differ.")
    if start + csize > cd_offset:
        raise zipfile.BadZipFile(f"Truncated data of {path!r}")
    compressed = remote.read_at(start, start + csize)
    if method == zipfile.ZIP_DEFLATED:
        try:
            data = zlib.decompressobj(-15).decompress(compressed, usize + 1)
        except zlib.error as e:
            raise zipfile.BadZipFile(f"{path!r} does not decompress ({e})") from None
    else:
        data = compressed
    if len(data) != usize or zlib.crc32(data) != crc:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {path!r}")
    return data, offset, members
