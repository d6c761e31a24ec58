"""Digests: of files and data, their hex form checked, and ``--hash`` matching.

One implementation for every layer that hashes a distribution or checks one against a digest:
the cache (content-addressed files), the index client (downloads, PEP 658 metadata files,
find-links directories, URL fragments), the installer (RECORD of installed files) and the
resolver (``--hash``). Digests are lowercase hex; ``algo:hexdigest`` strings name an algorithm.

hashlib is imported when first used: importing it loads OpenSSL, which start-up does not need
(``cache/record.py`` checks its small records with the interpreter's built-in sha256 instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

#: Hex digits of the digests an index, a URL fragment or ``--hash`` may give.
DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_CHUNK = 1 << 20


def file_digest(path: Path | str, algorithm: str = "sha256") -> tuple[str, int]:
    """(hex digest, size in bytes) of the file at ``path``, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.new(algorithm)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def data_digest(data: bytes, algorithm: str = "sha256") -> str:
    """The hex digest of ``data``."""
    import hashlib

    return hashlib.new(algorithm, data).hexdigest()


def is_hex_digest(algorithm: str, value: str) -> bool:
    """Whether ``value`` is a lowercase hex digest of the right length for ``algorithm``
    (one of :data:`DIGEST_LENGTHS`)."""
    # (``strip`` leaves nothing exactly when every character is one of those: a page of
    # thousands of files checked character by character in a generator took 5% of a cold
    # resolution)
    return len(value) == DIGEST_LENGTHS.get(algorithm, -1) and not value.strip("0123456789abcdef")


def normalize_hash(value: str) -> str:
    """``algo:hexdigest`` with both parts stripped and lowercased."""
    algorithm, _, digest = value.partition(":")
    return f"{algorithm.strip().lower()}:{digest.strip().lower()}"


def hash_allowed(file_hashes: Mapping[str, str], allowed: AbstractSet[str]) -> bool:
    """Whether a file whose known digests are ``file_hashes`` (algorithm -> hex) may be used
    under ``--hash`` values ``allowed`` (normalized ``algo:hexdigest``): one of its digests for
    an algorithm named in ``allowed`` matches, or it has none to compare (the download is
    checked then)."""
    algorithms = {h.partition(":")[0] for h in allowed}
    comparable = {alg: digest for alg, digest in file_hashes.items() if alg in algorithms}
    if not comparable:
        return True
    return any(f"{alg}:{digest.lower()}" in allowed for alg, digest in comparable.items())
