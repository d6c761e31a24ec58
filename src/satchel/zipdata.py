"""The content of a zip member, read with ``os.pread`` from one descriptor.

``zipfile.ZipFile.open`` costs several ``lseek`` calls and small reads per member (its shared file
object seeks before every read); a wheel of 5,000 members spends more on that than on writing.
``member_chunks`` reads the local header and, for a small member, its data in one ``pread``, and
gives exactly what reading the member with ``zipfile`` gives: the same checks of the local header
(signature, name, unsupported flags), the output cut at the declared size, the CRC-32 checked at
the end, and one of ``zipfile``'s exceptions (``BadZipFile``, ``EOFError``, ``NotImplementedError``,
``RuntimeError``, ``zlib.error``) where it raises one, including the overlapping-members check of
the zipfile versions that have it (``ZipInfo._end_offset``). Only stored and deflated members are read
here (``supported``); the caller reads the others with ``zipfile``. ``member_bytes`` reads a small
member whole, in one ``pread`` and one ``decompress``. The differential test in
``tests/unit/test_zipdata.py`` compares both with ``zipfile`` over varied and damaged archives.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Iterator

_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_MAGIC = b"PK\003\004"
_NAME_LENGTH = 10  # indexes into the unpacked header, as zipfile's _FH_* constants
_EXTRA_LENGTH = 11
_FLAGS = 3
_UTF8_NAME = 0x800
_ENCRYPTED = 0x1
_COMPRESSED_PATCH = 0x20
_STRONG_ENCRYPTION = 0x40
_SLACK = 256  # bytes read beyond the central directory's idea of the header, for a longer extra


def supported(info: zipfile.ZipInfo) -> bool:
    """Whether ``member_chunks`` reads this member (stored or deflated)."""
    return info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def member_chunks(
    fd: int, info: zipfile.ZipInfo, *, encoding: str = "cp437", chunk: int = 1 << 20
) -> Iterator[bytes]:
    """The content of ``info`` (a stored or deflated member of the zip open on ``fd``), in pieces
    of at most ``chunk`` bytes. ``encoding`` is the ``ZipFile``'s metadata encoding (names
    without the UTF-8 flag)."""
    buf, start = _located(fd, info, encoding, min(info.compress_size, chunk))
    base = info.header_offset
    first = buf[start : start + info.compress_size]
    pieces = _compressed(fd, first, base + start + len(first), info.compress_size - len(first), chunk)
    if info.compress_type == zipfile.ZIP_STORED:
        out = pieces
    else:
        out = _inflate(pieces, chunk)
    return _checked(out, info)


def member_bytes(fd: int, info: zipfile.ZipInfo, *, encoding: str = "cp437") -> bytes:
    """The whole content of ``info`` (stored or deflated), for a member small enough to hold in
    memory: the local header's checks of :func:`member_chunks`, then one ``decompress`` call
    that inflates no further than the declared size, and the CRC-32 -- what zipfile reads, or an
    error of the type it raises (``tests/unit/test_zipdata.py``). One ``pread`` for the header and
    the data, and no generators: a wheel's thousands of small files spent more in those than in
    inflating."""
    size = info.compress_size
    buf, start = _located(fd, info, encoding, size)
    if len(buf) < start + size:  # the file ends early: as the pieces do, with their error
        return b"".join(member_chunks(fd, info, encoding=encoding))
    raw = buf[start : start + size]
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw[: info.file_size]
    else:
        d = zlib.decompressobj(-15)
        # Inflated only as far as the declared size (as the pieces are, which stop there): at
        # least one byte, so that an empty member's stream is read as far as the pieces read it.
        data = d.decompress(raw, max(info.file_size, 1))[: info.file_size]
        if len(data) < info.file_size and not d.eof:
            data += d.flush()
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return data


def _located(fd: int, info: zipfile.ZipInfo, encoding: str, data_guess: int) -> tuple[bytes, int]:
    """Read the member's local header and (at a guess) the first ``data_guess`` bytes of its
    data; check the header as zipfile does. Returns the bytes read and where the data starts
    in them."""
    if not supported(info):
        raise NotImplementedError(f"compression type {info.compress_type}")
    base = info.header_offset
    name_guess = len(info.orig_filename.encode("utf-8", "surrogateescape"))
    buf = os.pread(fd, _HEADER.size + name_guess + len(info.extra) + _SLACK + data_guess, base)
    if len(buf) < _HEADER.size:
        raise zipfile.BadZipFile("Truncated file header")
    header = _HEADER.unpack_from(buf)
    if header[0] != _MAGIC:
        raise zipfile.BadZipFile("Bad magic number for file header")
    start = _HEADER.size + header[_NAME_LENGTH] + header[_EXTRA_LENGTH]
    if len(buf) < start + data_guess:  # a longer name or extra than guessed (or the file ends)
        more = os.pread(fd, start + data_guess - len(buf), base + len(buf))
        buf += more
    fname = buf[_HEADER.size : _HEADER.size + header[_NAME_LENGTH]]
    if info.flag_bits & _COMPRESSED_PATCH:
        raise NotImplementedError("compressed patched data (flag bit 5)")
    if info.flag_bits & _STRONG_ENCRYPTION:
        raise NotImplementedError("strong encryption (flag bit 6)")
    if header[_FLAGS] & _UTF8_NAME:
        fname_str = fname.decode("utf-8")
    else:
        fname_str = fname.decode(encoding)
    if fname_str != info.orig_filename:
        raise zipfile.BadZipFile(
            f"File name in directory {info.orig_filename!r} and header {fname!r} differ."
        )
    end = getattr(info, "_end_offset", None)  # newer zipfiles: where the next member starts
    if end is not None and base + start + info.compress_size > end:
        raise zipfile.BadZipFile(
            f"Overlapped entries: {info.orig_filename!r} (possible zip bomb)"
        )
    if info.flag_bits & _ENCRYPTED:
        raise RuntimeError(f"File {info.filename!r} is encrypted, password required for extraction")
    return buf, start


def _compressed(fd: int, first: bytes, offset: int, left: int, chunk: int) -> Iterator[bytes]:
    """The member's compressed bytes: ``first`` (already read), then ``left`` more from
    ``offset``; EOFError when the file ends first (as zipfile)."""
    if first:
        yield first
    elif left <= 0:
        return
    while left > 0:
        data = os.pread(fd, min(left, chunk), offset)
        if not data:
            raise EOFError
        offset += len(data)
        left -= len(data)
        yield data


def _inflate(pieces: Iterator[bytes], chunk: int) -> Iterator[bytes]:
    d = zlib.decompressobj(-15)
    for piece in pieces:
        data = piece
        while data:
            out = d.decompress(data, chunk)
            data = d.unconsumed_tail
            if out:
                yield out
            if d.eof:
                break
        if d.eof:
            break
    tail = d.flush()
    if tail:
        yield tail


def _checked(pieces: Iterator[bytes], info: zipfile.ZipInfo) -> Iterator[bytes]:
    """``pieces`` cut at the declared size, with the CRC-32 checked at the end (as zipfile)."""
    left = info.file_size
    crc = 0
    try:
        for piece in pieces:
            piece = piece[:left]
            left -= len(piece)
            crc = zlib.crc32(piece, crc)
            if piece:
                yield piece
            if left <= 0:
                break
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
    if crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
