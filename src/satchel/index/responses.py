"""What the HTTP client (``http.py``) and the ``file:`` transport (``file_transport.py``) return."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from satchel.errors import IndexError_

CHUNK = 64 * 1024


class RangeNotSupported(IndexError_):
    """The server did not answer a Range request with 206; download the whole file instead."""


@dataclass(frozen=True, slots=True)
class Response:
    """A fully read response. ``url`` is the final URL (after redirects), without credentials.

    ``headers`` has lower-case keys; repeated headers are joined with ", ".
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type, lower-case, without parameters ("" when absent)."""
        return _media_type(self.headers.get("content-type", ""))

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class RangeResponse:
    """The bytes ``[start, start + len(body))`` of the file at ``url``, whose full size is ``total``."""

    url: str
    start: int
    total: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class StreamResponse:
    """A response whose body is read in chunks; use only inside ``HttpClient.stream``."""

    def __init__(
        self,
        url: str,
        status: int,
        headers: dict[str, str],
        chunks: Callable[[int], Iterator[bytes]],
    ) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.bytes_read = 0
        self._chunks = chunks

    @property
    def content_type(self) -> str:
        return _media_type(self.headers.get("content-type", ""))

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    def iter_bytes(self, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """Yield the body as it arrives (raw bytes, no content decoding).

        A connection that breaks or a body shorter than Content-Length raises ``IndexError_``.
        """
        for chunk in self._chunks(chunk_size):
            if chunk:
                self.bytes_read += len(chunk)
                yield chunk


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()
