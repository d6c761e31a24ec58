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
import zipfile
from typing import TYPE_CHECKING

from satchel.index.http import RangeNotSupported
from satchel.index.metadata import MetadataError, find_wheel_metadata

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

__all__ = ["RangeNotSupported", "LazyRemoteFile", "read_remote_metadata"]

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


def read_remote_metadata(
    http: HttpClient, url: str, filename: str, *, tail: int = TAIL_SIZE
) -> bytes:
    """The raw ``*.dist-info/METADATA`` of the remote wheel at ``url`` (named ``filename``).

    Raises ``RangeNotSupported`` if the server cannot serve ranges (download the wheel instead),
    ``MetadataError`` if the wheel is malformed, ``IndexError_`` on network errors.
    """
    remote = LazyRemoteFile(http, url, tail=tail)
    try:
        with zipfile.ZipFile(remote) as zf:
            path = find_wheel_metadata(zf, filename)
            info = zf.getinfo(path)
            # One request for the local header + compressed data (+ slack for the extra field).
            header = info.header_offset
            remote.ensure(header, header + 30 + len(info.filename.encode()) + 1024 + info.compress_size)
            data = zf.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise MetadataError(f"{filename}: not a valid wheel ({e})") from None
    log.debug("read METADATA of %s with %d range requests", filename, remote.requests)
    return data
