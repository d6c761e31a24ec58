"""The five user reports satchel was started from (the seed reports), each turned into a test.

000 (uv 0.1.25) and 002 (uv 0.1.3): entries written by another version killed `install -U`.
001 (pip): half-written or corrupt entries were "ignored" but their corrupt body failed the hash
    check on every run until the cache was purged by hand.
003 (uv 0.6.8): a local directory package's entry broke every run: its built wheel and prepared
    metadata (built-v1), broken every way the fault matrix breaks entries, heal with one warning.
004 (uv 0.6.7): the py310 wheel cached for a 3.10 venv was installed into a 3.11 venv although the
    resolver chose the py311 wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from satchel.cache import buckets, record
from tests.support.builds import events, intree_project
from tests.support.cache import (
    ALPHA,
    ALPHA_WHEEL,
    BETA,
    BETA_WHEEL,
    FAULTS,
    bucket_dir,
    entries_in,
    file_requests,
    flip_byte,
    full_downloads,
    future_version,
    garbage,
    only,
    overwrite,
    replace_with_dir,
    snapshot,
    truncate,
    valid_record_of_another_type,
    warned_entries,
)
from tests.support.cli import (
    Satchel,
    installed_files_match_record,
    pyenv_python,
    run_python,
    site_packages,
)
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "cache-fixture-v1"
_HEADER = struct.Struct(">8s24sIQ32s")


def set_format_version(path: Path, version: int) -> None:
    data = path.read_bytes()
    magic, rtype, _old, length, digest = _HEADER.unpack_from(data)
    overwrite(path, _HEADER.pack(magic, rtype, version, length, digest) + data[_HEADER.size :])


# -- seed (e), report 004 ------------------------------------------------------------------------

PY310 = pyenv_python("3.10")
PY311 = pyenv_python("3.11")


def wheel_tag(venv: Path, dist: str, version: str) -> str:
    wheel = site_packages(venv) / f"{dist}-{version}.dist-info" / "WHEEL"
    tags = [
        line.split(":", 1)[1].strip()
        for line in wheel.read_text().splitlines()
        if line.startswith("Tag:")
    ]
    assert len(tags) == 1, tags
    return tags[0]


@pytest.mark.skipif(PY310 is None or PY311 is None, reason="needs pyenv CPython 3.10 and 3.11")
@pytest.mark.parametrize(
    "order", [("3.10", "3.11"), ("3.11", "3.10")], ids=["310-then-311", "311-then-310"]
)
def test_seed_e_each_python_gets_the_wheel_the_resolver_chose(
    satchel: Satchel, index_server: IndexServer, order: tuple[str, str]
) -> None:
    publish(
        index_server,
        WheelSpec("multiprocess", "0.70.17", tag="py310-none-any"),
        WheelSpec("multiprocess", "0.70.17", tag="py311-none-any"),
    )
    pythons = {"3.10": PY310, "3.11": PY311}
    for version in order:
        venv = satchel.venv(f"v{version}", python=pythons[version])
        assert run_python(venv, "import sys; print('%d.%d' % sys.version_info[:2])") == version
        result = satchel.run("install", "-p", venv, "multiprocess")
        assert result.warnings() == [], result
        want = "py" + version.replace(".", "") + "-none-any"
        assert wheel_tag(venv, "multiprocess", "0.70.17") == want
        assert run_python(venv, "import multiprocess; print(multiprocess.TAG)") == want
        installed_files_match_record(venv, "multiprocess")
    # Both wheels are cached side by side, each under its own digest.
    trees = list((bucket_dir(satchel.cache_dir, buckets.ARCHIVES) / "multiprocess").glob("*/tree"))
    assert len(trees) == 2


# -- seeds (a)/(b), reports 000 and 002 ------------------------------------------------------------


def plant_other_versions(cache: Path) -> list[Path]:
    """Buckets as an older and a newer satchel would leave them, with junk inside."""
    planted = []
    for dirname in ("index-v0", "index-v9", "metadata-v0", "metadata-v2", "files-v0", "archives-v7",
                    "built-v0", "interpreters-v3"):  # fmt: skip
        d = cache / dirname
        entry = d / "alpha" / "0123abcd"
        entry.mkdir(parents=True)
        (entry / "manifest").write_bytes(b"\x93NUMPY not ours at all")
        (d / "alpha" / "page.rec").write_bytes(b"expected version to start with a number")
        (d / "junk").write_text("written by another satchel\n")
        planted.append(d)
    return planted


def test_seeds_a_b_other_versions_never_fail_install_upgrade(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha")
    cache = satchel.cache_dir
    planted = plant_other_versions(cache)
    before = {str(d): snapshot(d) for d in planted}
    # Inside the current buckets: records with other format versions (older and newer) and of
    # other types, as a satchel that changed a record without a bump would have left them.
    alpha_page = only(
        list((bucket_dir(cache, buckets.INDEX) / "alpha").glob("*.rec")), "alpha page"
    )
    beta_page = only(list((bucket_dir(cache, buckets.INDEX) / "beta").glob("*.rec")), "beta page")
    alpha_meta = only(
        list((bucket_dir(cache, buckets.METADATA) / "alpha").glob("*.rec")), "alpha metadata"
    )
    set_format_version(alpha_page, buckets.INDEX.version + 1)
    set_format_version(beta_page, 0)
    overwrite(alpha_meta, valid_record_of_another_type("core-metadata"))

    publish(index_server, WheelSpec("alpha", "2.0", requires=["beta"]), WheelSpec("beta", "2.0"))
    result = satchel.run("install", "-U", "-p", venv, "alpha", "beta")
    assert " + alpha==2.0" in result.stderr and " + beta==2.0" in result.stderr, result
    # One warning per broken entry read, each naming it: both pages; alpha 1.0's metadata only
    # if it is read at all (-U resolves from the index, and the resolver may prefetch 1.0's
    # metadata beside 2.0's; it is not needed).
    warned = warned_entries(result)
    assert len(result.warnings()) == len(warned), result
    assert sorted(set(warned)) == sorted(warned), result
    assert {str(alpha_page), str(beta_page)} <= set(warned) <= {str(alpha_page), str(beta_page), str(alpha_meta)}, result
    installed_files_match_record(venv, "alpha")
    assert run_python(venv, "import alpha; print(alpha.__version__)") == "2.0"

    # Installs never read, write or delete other versions' buckets...
    assert {str(d): snapshot(d) for d in planted} == before
    verify = satchel.run("cache", "verify", check=False)
    assert not any(d.name in verify.stdout for d in planted), verify
    # ...only `cache prune` removes them, and nothing current with them.
    current = {
        b.dirname: snapshot(cache / b.dirname) for b in buckets.ALL if (cache / b.dirname).exists()
    }
    satchel.run("cache", "prune")
    assert not any(d.exists() for d in planted)
    assert {
        b.dirname: snapshot(cache / b.dirname) for b in buckets.ALL if (cache / b.dirname).exists()
    } == current


def _copy_fixture(cache: Path) -> dict[str, Any]:
    meta = json.loads((FIXTURE / "fixture.json").read_text())
    shutil.copytree(FIXTURE / "cache", cache)
    # Git keeps no mtimes, and unpacked trees are checked by them: put them back as written.
    for rel, mtime in meta["tree_mtimes_ns"].items():
        os.utime(cache / rel, ns=(mtime, mtime))
    return meta


def test_committed_cache_fixture_is_read_or_a_clean_miss(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """A cache written by satchel 1 (tests/data/make_cache_fixture.py): this version reads it
    offline; a later version with bumped buckets must treat it as a clean miss and refetch."""
    meta = _copy_fixture(satchel.cache_dir)
    current = {b.name: b.version for b in buckets.ALL}
    readable = all(current[name] == version for name, version in meta["buckets"].items())
    wheel = str(meta["wheel"])

    if readable:
        assert satchel.run("cache", "verify").returncode == 0
        venv = satchel.venv("offline")
        result = satchel.run(
            "install",
            "--offline",
            "-i",
            str(meta["index_url"]),
            "-p",
            venv,
            str(meta["requirement"]),
        )
        assert result.warnings() == [], result
        installed_files_match_record(venv, str(meta["requirement"]))
        assert run_python(venv, "import tiny; print(tiny.ANSWER)") == "42"

    # Online, against an index serving the same wheel: never an error, never a warning.
    fixture_wheel = only(list((FIXTURE / "cache").glob(f"files-v*/*/*/{wheel}")), "fixture wheel")
    index_server.add_file(fixture_wheel)
    venv = satchel.venv("online")
    result = satchel.run("install", "-p", venv, str(meta["requirement"]))
    assert result.warnings() == [], result
    installed_files_match_record(venv, str(meta["requirement"]))
    if readable:
        assert full_downloads(index_server, wheel) == 0, "the cached file is used (same sha256)"


# -- report 001: half-written and corrupt entries --------------------------------------------------


def test_report_001_temp_litter_is_ignored_and_pruned_only_when_old(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    satchel.run("install", "-p", satchel.venv("a"), "alpha")
    cache = satchel.cache_dir
    page = only(list((bucket_dir(cache, buckets.INDEX) / "alpha").glob("*.rec")), "page")
    sha = only(entries_in(bucket_dir(cache, buckets.FILES) / "alpha"), "file entry").name
    # What interrupted writes leave behind: a half-written record next to the real one, a partial
    # download, a half-assembled tree, a directory renamed aside for deletion.
    litter = [
        page.parent / f".tmp-0123456789ab-{page.name}",
        bucket_dir(cache, buckets.FILES) / "alpha" / f".tmp-0123456789ab-{ALPHA_WHEEL}",
        bucket_dir(cache, buckets.ARCHIVES) / "alpha" / f".tmp-0123456789ab-{sha}",
        bucket_dir(cache, buckets.ARCHIVES) / "alpha" / ".tmp-0123456789ab-trash",
    ]
    litter[0].write_bytes(page.read_bytes()[:40])
    litter[1].write_bytes(b"PK\x03\x04 half a wheel")
    for d in litter[2:]:
        (d / "tree").mkdir(parents=True)
        (d / "manifest").write_bytes(b"SATCHEL\x01 half")
    # A lock file whose entry was evicted (`cache prune --max-size`, a forced clean).
    orphan_lock = bucket_dir(cache, buckets.FILES) / "alpha" / f"{'e' * 64}.lock"
    orphan_lock.touch()
    litter.append(orphan_lock)
    live_lock = bucket_dir(cache, buckets.FILES) / "alpha" / f"{sha}.lock"
    assert live_lock.exists()

    index_server.reset_log()
    result = satchel.run("install", "-p", satchel.venv("b"), "alpha")
    assert result.warnings() == [] and index_server.paths() == [], result
    assert satchel.run("cache", "verify").returncode == 0
    assert all(p.exists() for p in litter), "readers never touch temp names"

    satchel.run("cache", "prune")
    assert all(p.exists() for p in litter), "young temp files may belong to a running install"
    two_hours_ago = time.time() - 7200
    for p in litter:
        os.utime(p, (two_hours_ago, two_hours_ago))
    os.utime(live_lock, (two_hours_ago, two_hours_ago))
    satchel.run("cache", "prune")
    assert not any(p.exists() for p in litter)
    assert live_lock.exists(), "the lock of an entry that exists stays"
    assert page.exists() and satchel.run("cache", "verify").returncode == 0


def test_report_001_corrupt_download_is_refetched_once(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    satchel.run("install", "-p", satchel.venv("a"), "alpha")
    cache = satchel.cache_dir
    entry = only(entries_in(bucket_dir(cache, buckets.FILES) / "alpha"), "file entry")
    flip_byte(entry / ALPHA_WHEEL)
    shutil.rmtree(bucket_dir(cache, buckets.ARCHIVES) / "alpha" / entry.name)  # so it must be read

    index_server.reset_log()
    first = satchel.run("install", "-p", satchel.venv("b"), "alpha")
    assert len(first.warnings()) == 1 and str(entry) in first.warnings()[0], first
    assert full_downloads(index_server, ALPHA_WHEEL) == 1
    for name in ("c", "d"):
        shutil.rmtree(bucket_dir(cache, buckets.ARCHIVES) / "alpha" / entry.name)
        index_server.reset_log()
        again = satchel.run("install", "-p", satchel.venv(name), "alpha")
        assert again.warnings() == [] and file_requests(index_server) == [], again
        installed_files_match_record(satchel.tmp / name, "alpha")


def test_report_001_interrupted_download_leaves_nothing_partial(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    venv = satchel.venv()
    # Every transfer of alpha's wheel is cut short: the run fails, naming the network cause.
    index_server.truncate(f"/files/{ALPHA_WHEEL}", 100)
    failed = satchel.run("install", "-p", venv, "alpha", check=False)
    assert failed.returncode == 1, failed
    error = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "cache" not in error[0].lower(), failed
    assert not list((bucket_dir(satchel.cache_dir, buckets.FILES) / "alpha").glob("*/*"))
    assert satchel.run("cache", "verify").returncode == 0
    index_server.clear_faults()
    ok = satchel.run("install", "-p", venv, "alpha")
    assert ok.warnings() == [], ok
    installed_files_match_record(venv, "alpha")


def test_report_001_wrong_bytes_from_the_server_are_never_cached(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    index_server.corrupt(BETA_WHEEL)
    failed = satchel.run("install", "-p", satchel.venv(), "alpha", check=False)
    assert failed.returncode == 1 and "hash mismatch" in failed.stderr, failed
    assert not list((bucket_dir(satchel.cache_dir, buckets.FILES)).glob("beta/*/*"))
    index_server.clear_faults()
    assert satchel.run("install", "-p", satchel.venv("again"), "alpha").warnings() == []


# -- report 003 ------------------------------------------------------------------------------------




def break_built_entry(entry: Path, fault: str) -> None:
    """Break a built-v1 entry (``manifest`` + ``tree/``) the way the fault matrix breaks trees."""
    manifest = entry / "manifest"
    payload = only(sorted((entry / "tree").iterdir()), f"file of {entry}")
    {
        "truncated": lambda: truncate(payload),
        "zero-length": lambda: truncate(payload, 0),
        "bit-flip": lambda: flip_byte(payload),
        "garbage": lambda: garbage(manifest),
        "wrong-record-type": lambda: overwrite(manifest, valid_record_of_another_type("tree-manifest")),
        "future-version": lambda: future_version(manifest),
        "missing-file": lambda: (os.chmod(payload, 0o644), payload.unlink()),
        "dangling": lambda: shutil.rmtree(entry / "tree"),
        "unreadable": lambda: replace_with_dir(payload),
    }[fault]()


@pytest.mark.parametrize("kind", ["wheel", "metadata"])
@pytest.mark.parametrize("fault", FAULTS)
def test_report_003_local_directory_package_heals(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path, kind: str, fault: str
) -> None:
    """A local directory package (as in the report: setup.py-style, name not static) installed
    once; its built entry (the wheel, or the prepared metadata) broken; `cache verify` reports it;
    a second install into a fresh environment succeeds with one warning naming the entry, rebuilds
    what was broken, installs the right bytes, and leaves the cache clean."""
    log = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "generated", "my-package", "0.0.0", events=str(log))
    satchel.run("install", "-p", satchel.venv("first"), project)
    built = bucket_dir(satchel.cache_dir, buckets.BUILT)
    entries = sorted(p.parent for p in built.rglob("manifest") if "_envs" not in p.parts)
    entry = only([e for e in entries if e.name == kind], f"{kind} entry")
    builds_before = len(events(log, "build_wheel"))
    break_built_entry(entry, fault)

    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 1 and str(entry) in verify.stdout + verify.stderr, verify

    venv = satchel.venv("second")
    result = satchel.run("install", "-p", venv, project)
    assert " + my-package==0.0.0" in result.stderr, result
    assert len(result.warnings()) == 1, result
    assert warned_entries(result) == [str(entry)], result
    installed_files_match_record(venv, "my-package")
    assert run_python(venv, "import my_package; print(my_package.VERSION)") == "0.0.0"
    if kind == "wheel":
        assert len(events(log, "build_wheel")) == builds_before + 1
    assert satchel.run("cache", "verify").returncode == 0
    # Healed: a third install neither warns nor builds.
    third = satchel.run("install", "-p", satchel.venv("third"), project)
    assert third.warnings() == [], third
    assert len(events(log, "build_wheel")) == builds_before + (kind == "wheel")


def test_record_header_layout_is_what_the_tests_patch() -> None:
    """set_format_version and the matrix patch the header by layout: keep them honest."""
    from satchel.index.records import CachedMetadata

    data = record.dumps(CachedMetadata("x.whl", None, "x", "1", [], None, []))
    assert _HEADER.unpack_from(data)[2] == buckets.METADATA.version
    assert _HEADER.size == record.HEADER_SIZE
