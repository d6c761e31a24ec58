"""cache info/list/clean/prune/purge/verify on a populated cache."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.cache import buckets, manage
from satchel.cache.record import Record
from satchel.cache.store import Cache


@dataclass(frozen=True)
class Page(Record, record_type="test-page", bucket=buckets.INDEX):
    name: str


def populate(cache: Cache) -> dict[str, Path]:
    cache.write("alpha/idx.rec", Page("alpha"))
    cache.write("beta/idx.rec", Page("beta"))
    data = b"alpha wheel"
    digest = hashlib.sha256(data).hexdigest()
    with cache.file_writer("alpha", "alpha-1.0-py3-none-any.whl", digest) as w:
        w.write(data)

    def tree(d: Path) -> None:
        (d / "alpha.py").write_text("A = 1\n")

    t = cache.build_tree(buckets.ARCHIVES, f"alpha/{digest}", tree)
    assert w.path is not None
    return {
        "record": cache.root / "index-v2" / "alpha" / "idx.rec",
        "file": w.path,
        "tree": t.path,
    }


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "c")


def test_info_and_list(cache: Cache) -> None:
    populate(cache)
    info = {i.bucket: i for i in manage.info(cache.root)}
    assert info["index-v2"].entries == 2
    assert info["files-v1"].entries == 1
    assert info["archives-v1"].entries == 1
    assert info["files-v1"].size == len(b"alpha wheel")
    listed = manage.list_package(cache.root, "alpha")
    assert sorted(e.bucket.name for e in listed) == ["archives", "files", "index"]
    assert all(e.package == "alpha" for e in listed)


def test_clean_one_package_keeps_others(cache: Cache) -> None:
    populate(cache)
    manage.clean(cache.root, ["alpha"])
    assert manage.list_package(cache.root, "alpha") == []
    assert cache.read(Page, "beta/idx.rec") == Page("beta")


def test_purge(cache: Cache) -> None:
    populate(cache)
    assert manage.purge(cache.root) > 0
    assert sorted(p.name for p in cache.root.iterdir()) == ["CACHEDIR.TAG"]


def test_verify_clean_cache(cache: Cache) -> None:
    populate(cache)
    report = manage.verify(cache.root)
    assert report.checked == 4 and report.problems == []


def _flip_file(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "kind,fault",
    [
        ("record", "bit-flip"),
        ("record", "truncate"),
        ("file", "bit-flip"),
        ("file", "missing"),
        ("tree", "bit-flip-same-size-and-mtime"),
        ("tree", "missing"),
    ],
)
def test_verify_reports_and_repairs(cache: Cache, kind: str, fault: str) -> None:
    paths = populate(cache)
    target = paths[kind]
    if kind == "tree":
        target = target / "alpha.py"
    if fault == "missing":
        target.unlink()
    elif fault == "truncate":
        target.write_bytes(target.read_bytes()[:40])
    else:
        st = target.stat()
        _flip_file(target)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # a silent flip: only a re-hash sees it
    report = manage.verify(cache.root)
    assert len(report.problems) == 1, report.problems
    assert report.remaining == 1
    repaired = manage.verify(cache.root, repair=True)
    assert repaired.remaining == 0 and len(repaired.repaired) == 1
    assert manage.verify(cache.root).problems == []


def test_prune_removes_other_versions_and_old_litter_only(cache: Cache) -> None:
    populate(cache)
    old = cache.root / "index-v0"
    old.mkdir()
    (old / "x").write_text("old")
    unrelated = cache.root / "notes-v3"
    unrelated.mkdir()
    fresh_tmp = cache.root / "index-v2" / ".tmp-abc-fresh"
    fresh_tmp.write_text("in progress")
    stale_tmp = cache.root / "index-v2" / ".tmp-def-stale"
    stale_tmp.write_text("litter")
    past = time.time() - 7200
    os.utime(stale_tmp, (past, past))
    result = manage.prune(cache.root)
    assert not old.exists() and not stale_tmp.exists()
    assert fresh_tmp.exists() and unrelated.exists()
    assert cache.read(Page, "alpha/idx.rec") == Page("alpha")
    assert len(result.removed) == 2


def test_prune_ci_keeps_only_costly_buckets(cache: Cache) -> None:
    populate(cache)
    (cache.root / "built-v1" / "alpha").mkdir(parents=True)
    manage.prune(cache.root, ci=True)
    assert not (cache.root / "index-v2").exists()
    assert not (cache.root / "archives-v1").exists()
    assert (cache.root / "built-v1").exists()


def test_prune_max_size_evicts_least_recently_used(cache: Cache) -> None:
    cache.write("old/idx.rec", Page("old" * 100))
    cache.write("new/idx.rec", Page("new" * 100))
    past = time.time() - 1000
    os.utime(cache.root / "index-v2" / "old" / "idx.rec", (past, past))
    size = (cache.root / "index-v2" / "new" / "idx.rec").stat().st_size
    manage.prune(cache.root, max_size=size)
    assert cache.read(Page, "old/idx.rec") is None
    assert cache.read(Page, "new/idx.rec") is not None


def test_parse_size() -> None:
    assert manage.parse_size("2G") == 2 << 30
    assert manage.parse_size("500MiB") == 500 << 20
    assert manage.parse_size("10") == 10
    with pytest.raises(ValueError):
        manage.parse_size("lots")


def test_build_environments_and_git_databases_are_opaque_entries(cache: Cache) -> None:
    """built-v1/_envs/<key> (a venv) and built-v1/_git/<repo> are one entry each: never walked
    into (a venv's site-packages holds directories named "tree" and files named "*.rec" that are
    not cache entries), never reported by verify, kept by `clean NAME`, sized by info."""
    populate(cache)
    built = cache.root / "built-v1"
    env = built / "_envs" / "0123abcd"
    lookalike = env / "lib" / "python3.11" / "site-packages" / "pkg" / "tree"
    lookalike.mkdir(parents=True)
    (lookalike / "x.py").write_text("X = 1\n")
    (lookalike.parent / "data.rec").write_bytes(b"not a record")
    (built / "_envs" / "0123abcd.lock").write_bytes(b"")
    gitdb = built / "_git" / "repo-1234"
    (gitdb / "objects").mkdir(parents=True)

    entries = list(manage.iter_entries(cache.root, buckets.BUILT))
    assert sorted((e.kind, e.path) for e in entries) == [("build-env", env), ("git-db", gitdb)]
    assert manage.verify(cache.root).problems == []
    info = {i.bucket: i for i in manage.info(cache.root)}
    assert info["built-v1"].entries == 2 and info["built-v1"].size > 0
    manage.clean(cache.root, ["alpha"])
    assert env.is_dir() and gitdb.is_dir()


def _file_entry(cache: Cache, name: str, data: bytes) -> Path:
    with cache.file_writer(name, f"{name}-1.0.tar.gz", None) as w:
        w.write(data)
    assert w.path is not None
    return w.path.parent


def test_a_use_renews_an_entry_at_most_once_a_day_and_prune_evicts_by_use(cache: Cache) -> None:
    used = _file_entry(cache, "used", b"u" * 1000)
    unused = _file_entry(cache, "unused", b"n" * 1000)
    now = time.time()
    os.utime(used, (now - 3 * 86400, now - 3 * 86400))  # written long ago...
    os.utime(unused, (now - 2 * 86400, now - 2 * 86400))  # ...before this one
    sha = used.name
    assert cache.get_file("used", sha, "used-1.0.tar.gz") is not None  # ...but used now
    assert used.stat().st_mtime > now - 60
    # A second use the same day writes nothing (no write per read on the hot path).
    marked = now - 3600
    os.utime(used, (marked, marked))
    cache.get_file("used", sha, "used-1.0.tar.gz")
    assert used.stat().st_mtime == marked
    manage.prune(cache.root, max_size=1500)
    assert used.exists() and not unused.exists()


def test_prune_max_age_evicts_what_was_not_used_for_that_long(cache: Cache) -> None:
    old = _file_entry(cache, "old", b"o" * 100)
    new = _file_entry(cache, "new", b"n" * 100)
    past = time.time() - 31 * 86400
    os.utime(old, (past, past))
    manage.prune(cache.root, max_age=manage.parse_age("30d"))
    assert not old.exists() and new.exists()


def test_parse_age() -> None:
    assert manage.parse_age("30d") == 30 * 86400
    assert manage.parse_age("12h") == 12 * 3600
    assert manage.parse_age("2w") == 14 * 86400
    assert manage.parse_age("90") == 90
    with pytest.raises(ValueError):
        manage.parse_age("a month")
