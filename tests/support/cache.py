"""Helpers shared by the cache end-to-end tests (tests/e2e/test_cache_*.py, test_seeds.py).

No tests live here. Everything drives the real CLI in a subprocess (``tests.support.cli.Satchel``)
against the local index server, then looks at the cache directory and the server's request log.
"""

from __future__ import annotations

import os
import random
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import buckets, record
from tests.support.cli import Result, Satchel
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

ALPHA = WheelSpec(
    "alpha",
    "1.0",
    requires=["beta"],
    files={"alpha/__init__.py": "import beta\n\nVALUE = 'alpha one'\n" + "# padding\n" * 20},
)
BETA = WheelSpec("beta", "1.0")
ALPHA_WHEEL = ALPHA.filename
BETA_WHEEL = BETA.filename


def bucket_dir(cache: Path, bucket: buckets.Bucket) -> Path:
    return cache / bucket.dirname


def only(paths: list[Path], what: str) -> Path:
    assert len(paths) == 1, f"expected one {what}, found {paths}"
    return paths[0]


def entries_in(directory: Path) -> list[Path]:
    """The children of ``directory`` that are entries (no temp names, no lock files)."""
    return sorted(
        p
        for p in directory.iterdir()
        if not p.name.startswith(".tmp-") and not p.name.endswith(".lock")
    )


def files_in(directory: Path) -> list[Path]:
    """Regular files under ``directory`` (recursively), temp names and locks excluded."""
    out = []
    for dirpath, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".tmp-")]
        for n in names:
            if not n.startswith(".tmp-") and not n.endswith(".lock"):
                out.append(Path(dirpath, n))
    return sorted(out)


def snapshot(directory: Path) -> dict[str, tuple[str, int, int]]:
    """Every path under ``directory`` with its type, size and mtime: compare two to prove that
    nothing at all was written."""
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirs, names in os.walk(directory):
        for n in dirs + names:
            p = Path(dirpath, n)
            st = p.lstat()
            kind = "d" if p.is_dir() else "f"
            out[str(p.relative_to(directory))] = (
                kind,
                st.st_size if kind == "f" else 0,
                st.st_mtime_ns,
            )
    return out


# -- the server's request log ------------------------------------------------------------------


def full_downloads(server: IndexServer, filename: str) -> int:
    """GETs of the whole file (ranged reads for metadata are not downloads)."""
    return sum(
        1
        for r in list(server.requests)
        if r.method == "GET"
        and r.path.split("?")[0] == f"/files/{filename}"
        and "range" not in r.headers
    )


def file_requests(server: IndexServer) -> list[str]:
    return [r.path for r in list(server.requests) if r.path.startswith("/files/")]


def page_requests(server: IndexServer, project: str | None = None) -> list[str]:
    prefix = "/simple/" if project is None else f"/simple/{project}/"
    return [r.path for r in list(server.requests) if r.path.startswith(prefix)]


def warned_entries(result: Result) -> list[str]:
    """The entries named by "ignoring broken cache entry <path>: <reason>" warnings."""
    return [
        m[1]
        for w in result.warnings()
        if (m := re.match(r"warning: ignoring broken cache entry (.+?): ", w))
    ]


# -- breaking entries ---------------------------------------------------------------------------

_HEADER = struct.Struct(">8s24sIQ32s")


def writable(path: Path) -> None:
    """Cache files are stored read-only; as a user would, make one writable before editing it."""
    os.chmod(path, 0o644)


def overwrite(path: Path, data: bytes) -> None:
    """Replace a file's bytes in place (same inode, like a disk error or an editor would)."""
    writable(path)
    with open(path, "r+b") as fh:
        fh.truncate(0)
        fh.write(data)


def flip_byte(path: Path, at: int | None = None) -> None:
    """Flip one bit of one byte in place (size unchanged)."""
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if at is None else at
    data[i] ^= 0x04
    writable(path)
    with open(path, "r+b") as fh:
        fh.write(bytes(data))


def flip_payload_bit(path: Path) -> None:
    """Flip one bit of a record's payload so that it still decodes: a digit 0-3 becomes 4-7 (in a
    digest, a version, a timestamp...). Only the checksum can tell; JSON parsing cannot."""
    data = path.read_bytes()
    payload_at = _HEADER.size
    digits = [i for i in range(payload_at, len(data)) if data[i] in b"0123"]
    assert digits, f"no digit to flip in {path}"
    flip_byte(path, digits[len(digits) // 2])


def garbage(path: Path) -> None:
    overwrite(path, random.Random(path.name).randbytes(max(64, path.stat().st_size)))


def truncate(path: Path, keep: int | None = None) -> None:
    size = path.stat().st_size
    writable(path)
    os.truncate(path, size // 2 if keep is None else keep)


def future_version(path: Path) -> None:
    """The record as a newer satchel (with a bumped format) would have written it: valid header,
    valid checksum, another version."""
    data = path.read_bytes()
    magic, rtype, version, length, digest = _HEADER.unpack_from(data)
    overwrite(path, _HEADER.pack(magic, rtype, version + 7, length, digest) + data[_HEADER.size :])


def replace_with_dir(path: Path) -> None:
    """Make an entry unreadable. The tests run as root, and chmod 000 does not stop root from
    reading, so a directory takes the file's place: open() fails with EISDIR, an OSError just like
    EACCES, on the same code path (the read-only test covers real permission errors)."""
    os.chmod(path, 0o644)
    path.unlink()
    path.mkdir()
    (path / "something").write_text("not a cache entry\n")


def valid_record_of_another_type(not_this: str) -> bytes:
    """A well-formed record (good header and checksum) of a type other than ``not_this``, chosen
    from the same bucket where possible (the hardest case for a checker)."""
    from satchel.cache.manifest import Manifest
    from satchel.index.models import IndexFile
    from satchel.index.records import CachedMetadata, CachedPage, UrlDigest

    candidates: dict[str, record.Record] = {
        "url-digest": UrlDigest(
            "http://127.0.0.1:9/files/x-1.0-py3-none-any.whl", "x-1.0-py3-none-any.whl", "0" * 64
        ),
        "core-metadata": CachedMetadata("x-1.0-py3-none-any.whl", None, "x", "1.0", [], None, []),
        "index-page": CachedPage(
            "http://127.0.0.1:9/simple/x/",
            0.0,
            0.0,
            None,
            None,
            True,
            [IndexFile("x-1.0-py3-none-any.whl", "http://127.0.0.1:9/x.whl")],
        ),
        "tree-manifest": Manifest(files=[], source="x-1.0-py3-none-any.whl"),
    }
    same_bucket = {"core-metadata": "url-digest", "url-digest": "core-metadata"}
    choice = same_bucket.get(not_this) or next(k for k in candidates if k != not_this)
    return record.dumps(candidates[choice])


@dataclass
class Populated:
    """A cache filled by one install of alpha (which needs beta) into venv ``a``."""

    satchel: Satchel
    server: IndexServer
    venv: Path
    install_args: list[str]
    first: Result

    @property
    def cache(self) -> Path:
        return self.satchel.cache_dir


def populate(satchel: Satchel, server: IndexServer, *, direct_url: bool = False) -> Populated:
    from tests.support.fixtures import publish

    publish(server, ALPHA, BETA)
    venv = satchel.venv("a")
    args = [f"alpha @ {server.file_url(ALPHA_WHEEL)}"] if direct_url else ["alpha"]
    first = satchel.run("install", "-p", venv, *args)
    assert first.warnings() == [], first
    return Populated(satchel, server, venv, args, first)


FAULTS = [
    "truncated",
    "zero-length",
    "bit-flip",
    "garbage",
    "wrong-record-type",
    "future-version",
    "missing-file",
    "dangling",
    "unreadable",
]
