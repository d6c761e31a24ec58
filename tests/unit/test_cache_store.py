"""The cache store's contract: any unreadable entry is a miss + one warning + removal; writes are
atomic; digests are checked; trees are checked on use; read-only and failing disks degrade."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from satchel.cache import atomic, buckets, record
from satchel.cache.record import CorruptEntry, Record
from satchel.cache.store import Cache, DigestMismatch


@dataclass(frozen=True)
class Sample(Record, record_type="test-sample", bucket=buckets.METADATA):
    name: str
    numbers: list[int] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Other(Record, record_type="test-other", bucket=buckets.METADATA):
    name: str


KEY = "pkg/sample.rec"


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def entry_path(cache: Cache) -> Path:
    return cache.root / buckets.METADATA.dirname / KEY


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_roundtrip_and_cachedir_tag(cache: Cache) -> None:
    cache.write(KEY, Sample("a", [1, 2], None))
    assert cache.read(Sample, KEY) == Sample("a", [1, 2], None)
    assert (cache.root / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_missing_is_a_silent_miss(cache: Cache, caplog: pytest.LogCaptureFixture) -> None:
    assert cache.read(Sample, KEY) is None
    assert warnings_of(caplog) == []


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _future(data: bytes) -> bytes:
    magic, rtype, version, length, digest = struct.unpack_from(">8s24sIQ32s", data)
    return struct.pack(">8s24sIQ32s", magic, rtype, version + 1, length, digest) + data[record.HEADER_SIZE :]


FAULTS = {
    "truncated": lambda d: d[: len(d) - 5],
    "zero-length": lambda d: b"",
    "truncated-header": lambda d: d[:20],
    "bit-flip-payload": lambda d: _flip(d, len(d) - 3),
    "bit-flip-header": lambda d: _flip(d, 2),
    "garbage": lambda d: os.urandom(len(d)),
    "wrong-record-type": lambda d: record.dumps(Other("a")),
    "future-version": _future,
    "json-not-object": lambda d: _with_payload(b"[1,2,3]"),
    "wrong-field-type": lambda d: _with_payload(b'{"name": 5}'),
    "missing-field": lambda d: _with_payload(b'{"numbers": []}'),
}


def _with_payload(payload: bytes) -> bytes:
    rtype = Sample.record_type.encode()
    header = struct.pack(
        ">8s24sIQ32s", record.MAGIC, rtype, buckets.METADATA.version, len(payload), hashlib.sha256(payload).digest()
    )
    return header + payload


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_record_fault_is_a_miss_warned_once_and_healed(
    cache: Cache, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    cache.write(KEY, Sample("a", [1]))
    path = entry_path(cache)
    path.write_bytes(FAULTS[fault](path.read_bytes()))
    with pytest.raises(CorruptEntry):
        record.loads(path.read_bytes(), Sample)
    assert cache.read(Sample, KEY) is None
    assert cache.read(Sample, KEY) is None
    warned = warnings_of(caplog)
    assert len(warned) == 1, warned
    assert str(path) in warned[0]
    assert not path.exists(), "broken entry must be removed"
    cache.write(KEY, Sample("b"))
    assert cache.read(Sample, KEY) == Sample("b")


def test_unknown_fields_are_ignored(cache: Cache) -> None:
    entry_path(cache).parent.mkdir(parents=True)
    entry_path(cache).write_bytes(_with_payload(b'{"name": "x", "added_by_newer_satchel": [1]}'))
    assert cache.read(Sample, KEY) == Sample("x")


def test_permission_denied_is_a_miss(cache: Cache, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.write(KEY, Sample("a"))
    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "sample.rec":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert cache.read(Sample, KEY) is None
    assert any("Permission denied" in w for w in warnings_of(caplog))


def test_entry_that_is_a_directory_is_a_miss(cache: Cache, caplog: pytest.LogCaptureFixture) -> None:
    entry_path(cache).mkdir(parents=True)
    assert cache.read(Sample, KEY) is None
    assert len(warnings_of(caplog)) == 1


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f"
    with pytest.raises(RuntimeError), atomic.open_atomic(target) as fh:
        fh.write(b"half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list((tmp_path / "d").iterdir()) == []


def test_unsafe_keys_are_refused(cache: Cache) -> None:
    for bad in ("../x.rec", "a/../../b", "/abs", ""):
        with pytest.raises(ValueError):
            cache.write(bad, Sample("a"))


# -- files ---------------------------------------------------------------------------------------


def test_file_writer_checks_digest_and_keeps_nothing_on_mismatch(cache: Cache) -> None:
    data = b"wheel bytes"
    good = hashlib.sha256(data).hexdigest()
    with pytest.raises(DigestMismatch) as info, cache.file_writer("pkg", "pkg-1.0.whl", "0" * 64) as w:
        w.write(data)
    assert info.value.actual == good
    assert list((cache.root / buckets.FILES.dirname / "pkg").iterdir()) == []
    with cache.file_writer("pkg", "pkg-1.0.whl", good) as w:
        w.write(data)
    assert w.path is not None and w.path.read_bytes() == data
    assert cache.get_file("pkg", good, "pkg-1.0.whl") == w.path


def test_corrupt_cached_file_is_detected_and_removed(cache: Cache, caplog: pytest.LogCaptureFixture) -> None:
    data = b"wheel bytes"
    digest = hashlib.sha256(data).hexdigest()
    with cache.file_writer("pkg", "pkg-1.0.whl", digest) as w:
        w.write(data)
    assert w.path is not None
    os.chmod(w.path, 0o644)
    w.path.write_bytes(b"wheel bytez")
    assert cache.get_file("pkg", digest, "pkg-1.0.whl") is None
    assert not w.path.exists()
    assert "content sha256" in warnings_of(caplog)[0]


# -- trees ---------------------------------------------------------------------------------------


def _populate(d: Path) -> None:
    (d / "pkg").mkdir()
    (d / "pkg" / "__init__.py").write_text("X = 1\n")
    (d / "pkg" / "tool").write_text("#!/bin/sh\n")
    os.chmod(d / "pkg" / "tool", 0o755)


def test_tree_is_read_only_and_reused(cache: Cache) -> None:
    calls = []

    def populate(d: Path) -> None:
        calls.append(d)
        _populate(d)

    tree = cache.build_tree(buckets.ARCHIVES, "pkg/abc", populate)
    again = cache.build_tree(buckets.ARCHIVES, "pkg/abc", populate)
    assert len(calls) == 1
    assert again.path == tree.path
    mode = (tree.path / "pkg" / "__init__.py").stat().st_mode
    assert mode & 0o222 == 0
    assert (tree.path / "pkg" / "tool").stat().st_mode & 0o111
    assert {f.path for f in tree.manifest.files} == {"pkg/__init__.py", "pkg/tool"}


TREE_FAULTS = {
    "file-missing": lambda t: (t / "pkg" / "__init__.py").unlink(),
    "appended": lambda t: _edit(t / "pkg" / "__init__.py", b"print('debug')\n"),
    "manifest-truncated": lambda t: (t.parent / "manifest").write_bytes((t.parent / "manifest").read_bytes()[:30]),
    "manifest-missing": lambda t: (t.parent / "manifest").unlink(),
    "manifest-zero": lambda t: (t.parent / "manifest").write_bytes(b""),
}


def _edit(path: Path, extra: bytes) -> None:
    os.chmod(path, 0o644)
    with open(path, "ab") as fh:
        fh.write(extra)


@pytest.mark.parametrize("fault", sorted(TREE_FAULTS))
def test_broken_tree_is_rebuilt(cache: Cache, caplog: pytest.LogCaptureFixture, fault: str) -> None:
    tree = cache.build_tree(buckets.ARCHIVES, "pkg/abc", _populate)
    TREE_FAULTS[fault](tree.path)
    assert cache.get_tree(buckets.ARCHIVES, "pkg/abc") is None
    assert len(warnings_of(caplog)) == 1
    rebuilt = cache.build_tree(buckets.ARCHIVES, "pkg/abc", _populate)
    assert (rebuilt.path / "pkg" / "__init__.py").read_text() == "X = 1\n"
    assert cache.get_tree(buckets.ARCHIVES, "pkg/abc") is not None


def test_failed_populate_leaves_nothing(cache: Cache) -> None:
    def boom(d: Path) -> None:
        (d / "partial").write_text("x")
        raise ValueError("bad wheel")

    with pytest.raises(ValueError):
        cache.build_tree(buckets.ARCHIVES, "pkg/abc", boom)
    bucket = cache.root / buckets.ARCHIVES.dirname / "pkg"
    assert [p.name for p in bucket.iterdir() if not p.name.endswith(".lock")] == []


# -- read-only and failing disks -----------------------------------------------------------------


def test_read_only_cache_is_read_and_writes_go_to_scratch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    Cache(root).write(KEY, Sample("baked"))
    real_touch = Path.touch

    def ro_touch(self: Path, *a: object, **k: object) -> None:
        if self.parent == root:
            raise OSError(errno.EROFS, "Read-only file system")
        real_touch(self)

    monkeypatch.setattr(Path, "touch", ro_touch)
    cache = Cache(root)
    assert cache.read_only
    assert any("not writable" in w for w in warnings_of(caplog))
    assert cache.read(Sample, KEY) == Sample("baked")
    cache.write("pkg/new.rec", Sample("new"))
    assert cache.read(Sample, "pkg/new.rec") == Sample("new")
    assert not (root / buckets.METADATA.dirname / "pkg" / "new.rec").exists()
    cache.close()


def test_disk_full_degrades_to_scratch_with_one_warning(
    cache: Cache, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = atomic.write_bytes

    def full(path: Path, data: bytes, *, mode: int = 0o644) -> None:
        if str(path).startswith(str(cache.root)):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, mode=mode)

    monkeypatch.setattr(atomic, "write_bytes", full)
    cache.write("pkg/a.rec", Sample("a"))
    cache.write("pkg/b.rec", Sample("b"))
    assert cache.degraded
    assert cache.read(Sample, "pkg/a.rec") == Sample("a")
    assert [w for w in warnings_of(caplog) if "No space left" in w] == [warnings_of(caplog)[0]]
    cache.close()


def _tree_of(n: int) -> Callable[[Path], None]:
    def populate(dest: Path) -> None:
        for i in range(n):
            (dest / f"m{i}.py").write_text(f"X = {i}\n")

    return populate


def test_a_tree_is_made_durable_with_one_syncfs(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    if atomic._syncfs is None:
        pytest.skip("no syncfs on this platform")
    monkeypatch.setattr(atomic, "_FSYNC", True)
    synced: list[int] = []
    fsynced: list[int] = []
    real = atomic._syncfs
    monkeypatch.setattr(atomic, "_syncfs", lambda fd: synced.append(fd) or real(fd))
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: fsynced.append(fd))
    cache.build_tree(buckets.ARCHIVES, "p/" + "a" * 64, _tree_of(50))
    assert len(synced) == 1
    assert len(fsynced) < 10  # the manifest and directories, not the 50 files


def test_without_syncfs_every_file_of_a_tree_is_fsynced(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic, "_FSYNC", True)
    monkeypatch.setattr(atomic, "_syncfs", None)
    fsynced: list[int] = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: fsynced.append(fd))
    tree = cache.build_tree(buckets.ARCHIVES, "p/" + "b" * 64, _tree_of(50))
    assert len(fsynced) >= 50
    assert len(tree.manifest.files) == 50


def test_a_directory_removed_under_a_write_is_retried_not_degraded(
    cache: Cache, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A forced `cache clean` removing a package directory between mkdir and rename costs one
    retry, not the cache for the rest of the run."""
    real = atomic.write_bytes
    calls: list[Path] = []

    def vanishing(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        real(path, data)

    monkeypatch.setattr(atomic, "write_bytes", vanishing)
    cache.write("alpha/x.rec", Sample("a", [1]))
    assert len(calls) == 2 and not cache.degraded
    assert cache.read(Sample, "alpha/x.rec") == Sample("a", [1])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    populated: list[int] = []

    def populate(dest: Path) -> None:
        populated.append(1)
        if len(populated) == 1:
            raise FileNotFoundError(2, "No such file or directory", str(dest))
        (dest / "m.py").write_text("X = 1\n")

    tree = cache.build_tree(buckets.ARCHIVES, "alpha/" + "c" * 64, populate)
    assert len(populated) == 2 and not cache.degraded
    assert [f.path for f in tree.manifest.files] == ["m.py"]


def _removed_right_after_mkdir(monkeypatch: pytest.MonkeyPatch, target: Path, at: int = 1) -> list[str]:
    """Make the ``at``-th ``mkdir`` of the existing directory ``target`` meet another process
    removing it: the mkdir fails (the name is taken), and the directory is gone when pathlib
    looks again (seen in CI: `satchel cache remove` beside an install)."""
    real_mkdir = os.mkdir
    raced: list[str] = []
    seen = [0]

    def mkdir(path: str | os.PathLike[str], mode: int = 0o777, **kwargs: object) -> None:
        try:
            real_mkdir(path, mode, **kwargs)  # type: ignore[arg-type]
        except FileExistsError:
            if Path(path) == target:
                seen[0] += 1
                if seen[0] == at:
                    raced.append(str(path))
                    atomic.remove_tree(target)
            raise

    monkeypatch.setattr(os, "mkdir", mkdir)
    return raced


def test_make_dirs_survives_the_directory_being_removed_at_that_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "archives-v1" / "p9"
    target.mkdir(parents=True)
    raced = _removed_right_after_mkdir(monkeypatch, target)
    with pytest.raises(FileExistsError):  # what pathlib does alone
        target.mkdir(parents=True, exist_ok=True)
    assert raced and not target.exists()
    target.mkdir()
    monkeypatch.undo()
    raced = _removed_right_after_mkdir(monkeypatch, target)
    atomic.make_dirs(target)
    assert raced and target.is_dir()  # the race happened, and it was tried again
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError):  # a file in the way stays an error
        atomic.make_dirs(tmp_path / "file")


@pytest.mark.parametrize("at", [1, 2], ids=["at-the-entry-lock", "at-the-temp-directory"])
def test_a_tree_is_built_while_another_process_removes_its_package_directory(
    cache: Cache, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, at: int
) -> None:
    # The package directory is made twice on the way: for the entry's lock file, then for the
    # temp directory the tree is built in. Removed under either, the build goes on, locked.
    caplog.set_level(logging.DEBUG, logger="satchel.cache")
    key = "p9/" + "d" * 64
    package_dir = cache.bucket_dir(buckets.ARCHIVES) / "p9"
    package_dir.mkdir(parents=True)
    raced = _removed_right_after_mkdir(monkeypatch, package_dir, at=at)
    tree = cache.build_tree(buckets.ARCHIVES, key, lambda dest: (dest / "m.py").write_text("X = 1\n") and None)
    assert raced and not cache.degraded
    assert [f.path for f in tree.manifest.files] == ["m.py"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]  # the lock was held


def _fsync_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths fsynced (what each descriptor names when it is fsynced)."""
    paths: list[str] = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: paths.append(os.readlink(f"/proc/self/fd/{fd}")))
    return paths


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_tree_and_its_manifest_cost_one_syncfs_and_one_directory_fsync(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is written into the temp entry before the one syncfs, which makes the files,
    the manifest and the temp directory durable together; after the rename only the bucket
    directory is fsynced (not the manifest, its rename, and the temp directory twice more)."""
    if atomic._syncfs is None:
        pytest.skip("no syncfs on this platform")
    monkeypatch.setattr(atomic, "_FSYNC", True)
    synced: list[str] = []
    real = atomic._syncfs
    monkeypatch.setattr(atomic, "_syncfs", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd))
    fsynced = _fsync_spy(monkeypatch)
    tree = cache.build_tree(buckets.ARCHIVES, "p/" + "c" * 64, _tree_of(5))
    entry = tree.path.parent
    assert len(synced) == 1 and os.path.basename(synced[0]).startswith(atomic.TEMP_PREFIX)
    assert fsynced == [str(entry.parent)]
    assert (entry / "manifest").is_file()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_without_syncfs_the_manifest_and_every_directory_are_fsynced_too(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(atomic, "_FSYNC", True)
    monkeypatch.setattr(atomic, "_syncfs", None)
    fsynced = _fsync_spy(monkeypatch)
    tree = cache.build_tree(buckets.ARCHIVES, "p/" + "d" * 64, _tree_of(3))
    entry = tree.path.parent
    (tmp,) = {os.path.dirname(p) for p in fsynced if p.endswith("/manifest")}
    assert os.path.basename(tmp).startswith(atomic.TEMP_PREFIX)
    expected = {f"{tmp}/manifest", tmp, f"{tmp}/tree", *(f"{tmp}/tree/m{i}.py" for i in range(3))}
    assert expected <= set(fsynced)
    assert fsynced[-1] == str(entry.parent)  # the rename, made durable


def test_an_entry_put_in_place_while_a_reader_looks_is_not_taken_for_broken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process renames a fresh, whole entry into place (or a broken one away) while this
    one reads the entry: what the reader finds missing then was never broken. It is a miss, and
    the new entry stays (healing it removed a tree another process was linking from: seen as
    "cache entry ... disappeared while installing" when eight installs shared a cold cache).
    Here one thread renames whole entries in and out of place, each a new directory as in a
    real cache, while another looks the entry up without pause: no warning, nothing removed."""
    import sys
    import threading

    cache = Cache(tmp_path / "cache")
    ready = [cache.build_tree(buckets.ARCHIVES, f"pkg/r{i}", _populate).path.parent for i in range(150)]
    entry = ready[0].parent / "abc"
    stop = threading.Event()
    lookups = [0]

    def look() -> None:
        while not stop.is_set():
            cache.get_tree(buckets.ARCHIVES, "pkg/abc")
            lookups[0] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    reader = threading.Thread(target=look)
    reader.start()
    try:
        for i, whole in enumerate(ready):
            os.rename(whole, entry)
            os.rename(entry, whole.parent / f"gone{i}")  # each one taken away again
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert lookups[0] > 0
    assert warnings_of(caplog) == []
    for i in range(len(ready)):
        moved = ready[0].parent / f"gone{i}"
        assert (moved / "manifest").is_file() and (moved / "tree" / "pkg" / "__init__.py").is_file(), moved
