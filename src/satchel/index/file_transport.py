"""The ``file:`` transport: ``HttpClient``'s GET, stream and range requests for local files.

A directory answers with its ``index.html``; a missing file is a 404 for ``get`` and an error for
``stream`` and ranges, like a download from a server. A name too long for the file system
(ENAMETOOLONG: a project name of 300 letters) is missing too: no file can have it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from satchel.errors import IndexError_
from satchel.index.responses import RangeNotSupported, RangeResponse, Response, StreamResponse

log = logging.getLogger("satchel.http")


def file_get(url: str) -> Response:
    t0 = time.monotonic()
    path, final = _file_path(url)
    try:
        if path.is_dir():
            if not final.endswith("/"):
                final += "/"
            path = path / "index.html"
        body = path.read_bytes()
        status = 200
    except OSError as e:
        if not _missing(e):
            raise IndexError_(f"cannot read {final}: {e.strerror or e}") from None
        body, status = b"", 404
    headers = {"content-type": _guess_type(path)} if status == 200 else {}
    headers["content-length"] = str(len(body))
    log.debug("GET %s -> %s (%d bytes, %.3fs)", final, status, len(body), time.monotonic() - t0)
    return Response(url=final, status=status, headers=headers, body=body)

@contextlib.contextmanager
def file_stream(url: str) -> Iterator[StreamResponse]:
    t0 = time.monotonic()
    path, final = _file_path(url)
    try:
        fh: BinaryIO = path.open("rb")
    except OSError as e:
        if _missing(e):
            raise IndexError_(f"{final} does not exist") from None
        raise IndexError_(f"cannot read {final}: {e.strerror or e}") from None
    with fh:
        size = os.fstat(fh.fileno()).st_size

        def chunks(n: int) -> Iterator[bytes]:
            while chunk := fh.read(n):
                yield chunk

        headers = {"content-type": _guess_type(path), "content-length": str(size)}
        sr = StreamResponse(final, 200, headers, chunks)
        try:
            yield sr
        finally:
            log.debug(
                "GET %s -> 200 streamed (%d bytes, %.3fs)", final, sr.bytes_read, time.monotonic() - t0
            )

def file_range(url: str, spec: str) -> RangeResponse:
    path, final = _file_path(url)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            first, last = _resolve_range(spec, size)
            if first > last:
                raise RangeNotSupported(f"{final}: range {spec} is not satisfiable")
            fh.seek(first)
            body = fh.read(last - first + 1)
    except OSError as e:
        if _missing(e):
            raise IndexError_(f"{final} does not exist") from None
        raise IndexError_(f"cannot read {final}: {e.strerror or e}") from None
    log.debug("GET %s [%s] -> 206 (%d bytes)", final, spec, len(body))
    return RangeResponse(final, first, size, body, {"content-range": f"bytes {first}-{last}/{size}"})


def _resolve_range(spec: str, size: int) -> tuple[int, int]:
    """Inclusive (first, last) of a single ``bytes=`` range against ``size``; first > last if empty."""
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", spec)
    if not m or (not m.group(1) and not m.group(2)):
        raise ValueError(f"bad range {spec!r}")
    if not m.group(1):
        n = int(m.group(2))
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return first, last


def _missing(e: OSError) -> bool:
    """True if ``e`` says there is no such file: not found, or a name too long to exist."""
    return isinstance(e, FileNotFoundError) or e.errno == errno.ENAMETOOLONG


def _file_path(url: str) -> tuple[Path, str]:
    from satchel.index.fileurl import url2pathname

    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise IndexError_(f"cannot read {url}: file URLs must name a local path")
    path = Path(url2pathname(parts.path))
    return path, urllib.parse.urlunsplit(parts._replace(fragment=""))


def _guess_type(path: Path) -> str:
    if path.suffix in (".html", ".htm"):
        return "text/html"
    if path.suffix == ".json":
        return "application/json"
    return "application/octet-stream"
