"""Cache management: what `satchel cache info|list|clean|prune|purge|verify` do.

Entries are found by walking the buckets: a ``*.rec`` file is a record; a directory holding a
``manifest`` is an unpacked tree; in the files bucket, ``<name>/<sha256>/`` holds one file whose
content must hash to that digest. Everything else that is not a temp file or a lock is litter.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from satchel.cache import atomic, buckets, record
from satchel.cache.buckets import Bucket
from satchel.cache.manifest import Manifest, verify_tree
from satchel.cache.record import CorruptEntry, Record
from satchel.cache.store import is_temp, sha256_of

# Directories of a bucket that hold no packages' entries: bucket name -> {dir: entry kind}.
INTERNAL_DIRS = {"built": {"_envs": "build-env", "_git": "git-db"}}

_BUCKET_DIR = re.compile(r"^(?P<name>[a-z]+)-v(?P<version>\d+)$")
TEMP_MAX_AGE = 3600.0


@dataclass(frozen=True)
class Entry:
    """One cache entry on disk, as `cache list` and `cache clean` see it."""
    bucket: Bucket
    path: Path
    kind: str  # "record" | "tree" | "file" | "build-env" | "git-db" | "stray"
    package: str | None

    def size(self) -> int:
        return tree_size(self.path)

    def last_used(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0


@dataclass
class BucketInfo:
    """A bucket's entry count and size, for `cache info`."""
    bucket: str
    entries: int
    size: int


@dataclass
class VerifyReport:
    """What `cache verify` checked, found wrong and repaired."""
    checked: int = 0
    problems: list[tuple[Path, str]] = field(default_factory=list)
    repaired: list[Path] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return len(self.problems) - len(self.repaired)


def tree_size(path: Path) -> int:
    """Bytes used under ``path``, each inode counted once."""
    try:
        st = path.lstat()
    except OSError:
        return 0
    if not path.is_dir() or path.is_symlink():
        return st.st_size
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key not in seen:
                seen.add(key)
                total += st.st_size
    return total


def iter_entries(root: Path, bucket: Bucket, package: str | None = None) -> Iterator[Entry]:
    base = root / bucket.dirname
    if package is not None:
        if not bucket.per_package:
            return
        base = base / package
        if _too_long(base):
            return  # no file can have that name: the package has no entries
    if not base.is_dir():
        if base.exists() or base.is_symlink():  # a file where the bucket's directory belongs
            yield Entry(bucket, base, "stray", package)
        return
    yield from _walk(base, root / bucket.dirname, bucket)


def _too_long(path: Path) -> bool:
    """True if ``path`` has a name too long for the file system (a project name of 300
    letters): nothing can be there, and Path.exists() would raise OSError (ENAMETOOLONG)."""
    try:
        os.lstat(path)
    except OSError as exc:
        return exc.errno == errno.ENAMETOOLONG
    return False


def _walk(directory: Path, bucket_root: Path, bucket: Bucket) -> Iterator[Entry]:
    try:
        children = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for child in children:
        if is_temp(child.name) or child.name.endswith(".lock"):
            continue
        path = Path(child.path)
        rel = path.relative_to(bucket_root)
        package = rel.parts[0] if bucket.per_package and len(rel.parts) > 1 else None
        if directory == bucket_root and child.name in INTERNAL_DIRS.get(bucket.name, {}):
            # Build environments and git databases: one opaque entry each, never walked into
            # (a venv's site-packages may hold a "tree" or a "*.rec" of its own).
            kind = INTERNAL_DIRS[bucket.name][child.name]
            with contextlib.suppress(OSError):
                for sub in sorted(os.scandir(path), key=lambda e: e.name):
                    if sub.is_dir(follow_symlinks=False) and not is_temp(sub.name):
                        yield Entry(bucket, Path(sub.path), kind, None)
            continue
        if child.is_dir(follow_symlinks=False):
            if (path / "manifest").exists() or (path / "tree").exists():
                yield Entry(bucket, path, "tree", package)
            elif bucket is buckets.FILES and len(rel.parts) == 2:
                yield Entry(bucket, path, "file", package)
            elif child.name.endswith(".rec") or not bucket.per_package:
                # A directory where a record file belongs: a broken record (verify says so).
                yield Entry(bucket, path, "record", package)
            else:
                yield from _walk(path, bucket_root, bucket)
        elif child.name.endswith(".rec") or not bucket.per_package:
            yield Entry(bucket, path, "record", package)
        else:
            # A file (or a link) where the bucket keeps only directories: damage, which makes
            # every write below that name fail (verify says so; the store clears it when it
            # needs the way, Cache.clear_way).
            yield Entry(bucket, path, "stray", package)


# -- info / list ---------------------------------------------------------------------------------


def info(root: Path) -> list[BucketInfo]:
    out = []
    for bucket in buckets.ALL:
        entries = list(iter_entries(root, bucket))
        out.append(BucketInfo(bucket.dirname, len(entries), tree_size(root / bucket.dirname)))
    for other in other_version_dirs(root):
        out.append(BucketInfo(other.name + " (other satchel version)", 0, tree_size(other)))
    return out


def list_package(root: Path, package: str) -> list[Entry]:
    return [e for bucket in buckets.ALL for e in iter_entries(root, bucket, package)]


def other_version_dirs(root: Path) -> list[Path]:
    current = {b.dirname for b in buckets.ALL}
    out = []
    with contextlib.suppress(OSError):
        for child in sorted(root.iterdir()):
            m = _BUCKET_DIR.match(child.name)
            if m and child.is_dir() and child.name not in current and m["name"] in buckets.FAMILIES:
                out.append(child)
    return out


# -- removal -------------------------------------------------------------------------------------


def clean(root: Path, packages: list[str]) -> list[Path]:
    """Remove every entry of the named packages (current bucket versions). Returns what went."""
    removed = []
    for bucket in buckets.ALL:
        if not bucket.per_package:
            continue
        for package in packages:
            target = root / bucket.dirname / package
            if not _too_long(target) and target.exists():
                atomic.discard(target)
                removed.append(target)
    return removed


def purge(root: Path) -> int:
    """Remove the whole cache content (keeps the root and its CACHEDIR.TAG). Returns bytes freed."""
    freed = 0
    if not root.is_dir():
        return 0
    for child in list(root.iterdir()):
        if child.name in ("CACHEDIR.TAG", ".lock"):
            continue
        freed += tree_size(child)
        atomic.discard(child)
    return freed


@dataclass
class PruneResult:
    """What `cache prune` removed, and how many bytes that freed."""
    removed: list[Path] = field(default_factory=list)
    freed: int = 0


def prune(
    root: Path,
    *,
    ci: bool = False,
    max_size: int | None = None,
    max_age: float | None = None,
) -> PruneResult:
    """Remove other versions' buckets and old temp litter; with ``ci`` everything but built
    wheels; with ``max_age`` (seconds) entries not used for that long; with ``max_size`` (bytes)
    the least recently used entries until the rest fits. An entry's last use is its mtime,
    renewed at most once a day when it is used (store.touch)."""
    result = PruneResult()

    def drop(path: Path) -> None:
        result.freed += tree_size(path)
        atomic.discard(path)
        result.removed.append(path)

    for other in other_version_dirs(root):
        drop(other)
    now = time.time()
    for litter in _temp_litter(root):
        try:
            age = now - litter.lstat().st_mtime
        except OSError:
            continue
        if age > TEMP_MAX_AGE:
            drop(litter)
    if ci:
        for bucket in buckets.ALL:
            if not bucket.costly and (root / bucket.dirname).exists():
                drop(root / bucket.dirname)
    if max_age is not None:
        cutoff = now - max_age
        for entry in [e for b in buckets.ALL for e in iter_entries(root, b)]:
            if entry.last_used() < cutoff:
                drop(entry.path)
    if max_size is not None:
        entries = [e for b in buckets.ALL for e in iter_entries(root, b)]
        sized = [(e.last_used(), e.size(), e) for e in entries]
        total = sum(s for _, s, _ in sized)
        for _, size, entry in sorted(sized, key=lambda t: t[0]):
            if total <= max_size:
                break
            drop(entry.path)
            total -= size
    _remove_empty_dirs(root)
    return result


def _temp_litter(root: Path) -> Iterator[Path]:
    """Temp files and directories, and per-entry lock files whose entry is gone (left by
    evictions and interrupted work). The caller removes only old ones: a young one may belong
    to a running process."""
    for dirpath, dirs, files in os.walk(root):
        for name in list(dirs):
            if is_temp(name):
                dirs.remove(name)
                yield Path(dirpath, name)
        for name in files:
            if is_temp(name):
                yield Path(dirpath, name)
            elif name.endswith(".lock") and dirpath != str(root):
                entry = Path(dirpath, name[: -len(".lock")])
                if not entry.exists():
                    yield Path(dirpath, name)


def _remove_empty_dirs(root: Path) -> None:
    for bucket in buckets.ALL:
        base = root / bucket.dirname
        if not base.is_dir():
            continue
        for dirpath, _dirs, _files in os.walk(base, topdown=False):
            if Path(dirpath) == base:
                continue
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # only succeeds when empty


# -- verify --------------------------------------------------------------------------------------


def verify(root: Path, *, repair: bool = False) -> VerifyReport:
    report = VerifyReport()
    for bucket in buckets.ALL:
        for entry in iter_entries(root, bucket):
            report.checked += 1
            problem = check_entry(entry)
            if problem is None:
                continue
            report.problems.append((entry.path, problem))
            if repair:
                try:
                    atomic.discard(entry.path)
                    report.repaired.append(entry.path)
                except OSError:
                    pass
    return report


def check_entry(entry: Entry) -> str | None:
    """Fully check one entry; None when sound, else the reason."""
    try:
        if entry.kind == "stray":
            return "not a directory: the cache keeps only directories there"
        if entry.kind == "record":
            return _check_record(entry)
        if entry.kind in ("build-env", "git-db"):
            # Checked where they are used (the marker, a working python; git's own checks),
            # and rebuilt then: `verify` must not remove one a running build is filling.
            return None
        if entry.kind == "tree":
            manifest = record.loads((entry.path / "manifest").read_bytes(), Manifest)
            return verify_tree(entry.path / "tree", manifest)
        return _check_file_entry(entry)
    except FileNotFoundError as exc:
        return f"missing: {exc.filename}"
    except CorruptEntry as exc:
        return exc.reason
    except OSError as exc:
        return exc.strerror or str(exc)


def _check_record(entry: Entry) -> str | None:
    data = entry.path.read_bytes()
    if len(data) < record.HEADER_SIZE:
        return "empty file" if not data else "truncated header"
    rtype = data[8:32].rstrip(b"\0").decode("ascii", "replace")
    cls = Record.registry.get(rtype)
    if cls is None:
        return _check_unknown_record(data, rtype)
    if cls.bucket != entry.bucket:
        return f"record type {rtype!r} does not belong in {entry.bucket.dirname}"
    bucket_root = _bucket_root(entry)
    key = entry.path.relative_to(bucket_root).as_posix()
    if cls.key_pattern is not None and not re.fullmatch(cls.key_pattern, key):
        return f"a {rtype!r} record does not belong at this key"
    rec = record.loads(data, cls)
    for bucket, ref in rec.references(key):
        if not (bucket_root.parent / bucket.dirname / ref).exists():
            return f"dangling reference: {bucket.dirname}/{ref} is no longer cached"
    return None


def _bucket_root(entry: Entry) -> Path:
    for parent in entry.path.parents:
        if parent.name == entry.bucket.dirname:
            return parent
    raise ValueError(f"{entry.path} is not in {entry.bucket.dirname}")


def _check_unknown_record(data: bytes, rtype: str) -> str | None:
    """A record type this process has no class for: check everything but the payload's shape."""
    import hashlib
    import struct

    magic, _t, _version, length, digest = struct.unpack_from(">8s24sIQ32s", data)
    if magic != record.MAGIC:
        return "not a satchel record (bad magic)"
    payload = data[record.HEADER_SIZE :]
    if len(payload) != length:
        return "truncated payload"
    if hashlib.sha256(payload).digest() != digest:
        return "checksum mismatch"
    try:
        json.loads(payload)
    except ValueError:
        return "undecodable payload"
    return f"unknown record type {rtype!r}"


def _check_file_entry(entry: Entry) -> str | None:
    expected = entry.path.name
    files = [p for p in entry.path.iterdir() if not is_temp(p.name)]
    if not files:
        return "empty entry (no file)"
    if len(files) > 1:
        return "more than one file in a content-addressed entry"
    actual = sha256_of(files[0])
    if actual != expected:
        return f"content sha256 is {actual}, expected {expected}"
    return None


def parse_age(text: str) -> float:
    """'30d', '12h', '2w', '90m', '3600' (seconds) -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"invalid age {text!r} (use e.g. 30d, 12h or 2w)")
    factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[m[2].lower()]
    return float(m[1]) * factor


AUTO_PRUNE_EVERY = 86400.0
AUTO_PRUNE_STAMP = ".last-auto-prune"


def auto_prune_due(root: Path) -> bool:
    """True when the automatic prune (SATCHEL_CACHE_MAX_SIZE) has not run for a day."""
    try:
        return time.time() - (root / AUTO_PRUNE_STAMP).stat().st_mtime > AUTO_PRUNE_EVERY
    except OSError:
        return True


def mark_auto_pruned(root: Path) -> None:
    with contextlib.suppress(OSError):
        atomic.write_bytes(root / AUTO_PRUNE_STAMP, b"")


def parse_size(text: str) -> int:
    """'500M', '2G', '1.5GiB', '1000' -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"invalid size {text!r} (use e.g. 500M or 2G)")
    factor = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m[2].upper()]
    return int(float(m[1]) * factor)
