"""`satchel cache dir|info|list|clean|prune|purge|verify` end to end (issue 3, contract 9)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from satchel.cache import buckets
from tests.support.cache import (
    ALPHA,
    ALPHA_WHEEL,
    BETA,
    bucket_dir,
    files_in,
    full_downloads,
    page_requests,
    snapshot,
    truncate,
)
from tests.support.cli import Satchel, assert_error, installed_files_match_record
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

PER_PACKAGE = [buckets.INDEX, buckets.METADATA, buckets.FILES, buckets.ARCHIVES]


def installed(satchel: Satchel, server: IndexServer, *names: str) -> None:
    satchel.run("install", "-p", satchel.venv(f"venv-{'-'.join(names)}"), *names)


def package_paths(cache: Path, name: str) -> dict[str, tuple[str, int, int]]:
    out = {}
    for bucket in PER_PACKAGE:
        base = bucket_dir(cache, bucket) / name
        if base.exists():
            out.update({f"{bucket.dirname}/{name}/{k}": v for k, v in snapshot(base).items()})
    return out


def test_cache_dir(satchel: Satchel, tmp_path: Path) -> None:
    assert satchel.run("cache", "dir").stdout.strip() == str(satchel.cache_dir)
    other = tmp_path / "elsewhere"
    assert satchel.run("cache", "dir", "--cache-dir", other).stdout.strip() == str(other)


def test_cache_info_json_counts_entries_per_bucket(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    (satchel.cache_dir / "index-v0").mkdir()
    (satchel.cache_dir / "index-v0" / "junk").write_text("from an older satchel")
    data = json.loads(satchel.run("cache", "info", "--json").stdout)
    assert data["root"] == str(satchel.cache_dir)
    counts = {b["bucket"]: b["entries"] for b in data["buckets"]}
    for bucket in PER_PACKAGE:
        assert counts[bucket.dirname] == 2, (bucket.dirname, counts)  # alpha and beta
    assert counts[buckets.BUILT.dirname] == 0
    assert counts[buckets.INTERPRETERS.dirname] >= 1
    assert all(b["size"] >= 0 for b in data["buckets"])
    assert any(b["bucket"].startswith("index-v0") for b in data["buckets"])
    text = satchel.run("cache", "info").stdout
    assert "files-v1" in text and "total" in text


def test_cache_list_shows_one_package(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    lines = satchel.run("cache", "list", "Alpha").stdout.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(b.dirname for b in PER_PACKAGE)
    assert all(" alpha " in line and "beta" not in line for line in lines)
    assert "nothing cached for nosuch" in satchel.run("cache", "list", "nosuch").stdout
    everything = satchel.run("cache", "list").stdout
    assert " alpha " in everything and " beta " in everything


def test_cache_clean_name_removes_only_that_package(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    beta_before = package_paths(satchel.cache_dir, "beta")
    result = satchel.run("cache", "clean", "ALPHA")
    assert "alpha" in result.stdout
    assert package_paths(satchel.cache_dir, "alpha") == {}
    assert package_paths(satchel.cache_dir, "beta") == beta_before
    assert satchel.run("cache", "verify").returncode == 0
    # Only alpha comes back from the network.
    index_server.reset_log()
    fresh = satchel.venv("fresh")
    result = satchel.run("install", "-p", fresh, "alpha")
    assert result.warnings() == []
    assert page_requests(index_server) == ["/simple/alpha/"]
    assert all("alpha" in p for p in index_server.paths()), index_server.paths()
    assert full_downloads(index_server, ALPHA_WHEEL) == 1
    installed_files_match_record(fresh, "alpha")


def test_cache_clean_everything(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    satchel.run("cache", "clean")
    assert {p.name for p in satchel.cache_dir.iterdir()} <= {"CACHEDIR.TAG", ".lock"}


def test_cache_prune_ci_keeps_only_costly_buckets(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    built = bucket_dir(satchel.cache_dir, buckets.BUILT) / "alpha" / "src-key" / "interp-key"
    built.mkdir(parents=True)
    (built / "alpha-1.0-py3-none-any.whl").write_bytes(b"a wheel we built")
    satchel.run("cache", "prune", "--ci")
    left = {p.name for p in satchel.cache_dir.iterdir()}
    assert left <= {"CACHEDIR.TAG", ".lock", buckets.BUILT.dirname}, left
    assert (built / "alpha-1.0-py3-none-any.whl").read_bytes() == b"a wheel we built"
    # The next install simply refills the cache.
    result = satchel.run("install", "-p", satchel.venv("fresh"), "alpha")
    assert result.warnings() == []


def test_cache_prune_max_size_evicts_least_recently_used(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, WheelSpec("old", "1.0"), WheelSpec("new", "1.0"))
    installed(satchel, index_server, "old")
    installed(satchel, index_server, "new")
    day_ago = time.time() - 86400
    old_entries = []
    for bucket in PER_PACKAGE:
        for entry in (bucket_dir(satchel.cache_dir, bucket) / "old").iterdir():
            if not entry.name.endswith(".lock"):
                os.utime(entry, (day_ago, day_ago))
                old_entries.append(entry)
    new_before = package_paths(satchel.cache_dir, "new")
    info = json.loads(satchel.run("cache", "info", "--json").stdout)
    total = sum(b["size"] for b in info["buckets"])

    satchel.run("cache", "prune", "--max-size", str(total - 1))
    assert any(not e.exists() for e in old_entries), "the least recently used entry goes first"
    assert package_paths(satchel.cache_dir, "new") == new_before
    after = json.loads(satchel.run("cache", "info", "--json").stdout)
    assert sum(b["size"] for b in after["buckets"]) <= total - 1

    satchel.run("cache", "prune", "--max-size", "0")
    assert not any(
        files_in(bucket_dir(satchel.cache_dir, b))
        for b in PER_PACKAGE
        if bucket_dir(satchel.cache_dir, b).exists()
    )
    assert satchel.run("cache", "verify").returncode == 0
    bad = satchel.run("cache", "prune", "--max-size", "lots", check=False)
    assert bad.returncode == 1 and "invalid size" in bad.stderr


def test_cache_purge(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    (satchel.cache_dir / "archives-v7").mkdir()
    result = satchel.run("cache", "purge")
    assert "Removed everything" in result.stdout
    assert {p.name for p in satchel.cache_dir.iterdir()} <= {"CACHEDIR.TAG", ".lock"}
    fresh = satchel.venv("fresh")
    assert satchel.run("install", "-p", fresh, "alpha").warnings() == []
    installed_files_match_record(fresh, "alpha")


def test_cache_verify_and_repair_exit_codes(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    ok = satchel.run("cache", "verify")
    assert ok.returncode == 0 and "0 problems" in ok.stdout
    pages = sorted((bucket_dir(satchel.cache_dir, buckets.INDEX)).glob("*/*.rec"))
    for page in pages:
        truncate(page)
    bad = satchel.run("cache", "verify", check=False)
    assert bad.returncode == 1
    assert sum(line.startswith("corrupt:") for line in bad.stdout.splitlines()) == len(pages) == 2
    assert "--repair" in bad.stderr
    repaired = satchel.run("cache", "verify", "--repair", check=False)
    assert repaired.returncode == 0, repaired
    assert sum(line.startswith("removed:") for line in repaired.stdout.splitlines()) == 2
    assert not any(p.exists() for p in pages)
    assert satchel.run("cache", "verify").returncode == 0


@pytest.mark.skipif(shutil.which("chattr") is None, reason="chattr is not installed")
def test_cache_verify_repair_that_cannot_remove_exits_1(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    installed(satchel, index_server, "alpha")
    page_dir = bucket_dir(satchel.cache_dir, buckets.INDEX) / "alpha"
    truncate(next(page_dir.glob("*.rec")))
    if subprocess.run(["chattr", "+i", str(page_dir)], capture_output=True, check=False).returncode:
        pytest.skip("chattr +i does not work on this filesystem")
    try:
        result = satchel.run("cache", "verify", "--repair", check=False)
    finally:
        subprocess.run(["chattr", "-i", str(page_dir)], check=True)
    assert result.returncode == 1, result
    assert "corrupt:" in result.stdout


def test_satchel_cache_max_size_prunes_after_an_install_at_most_once_a_day(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, WheelSpec("first", "1.0", files={"first/big.txt": "x" * 200_000}),
            WheelSpec("second", "1.0"))
    installed(satchel, index_server, "first")
    env = {"SATCHEL_CACHE_MAX_SIZE": "100K"}
    out = satchel.run("install", "-p", satchel.venv("v2"), "second", env=env)
    assert "Pruned the cache to SATCHEL_CACHE_MAX_SIZE" in out.stderr, out
    info = json.loads(satchel.run("cache", "info", "--json").stdout)
    assert sum(b["size"] for b in info["buckets"]) <= 100 << 10
    # Once a day: the next run does not prune again.
    installed(satchel, index_server, "first")
    again = satchel.run("install", "-p", satchel.venv("v3"), "second", env=env)
    assert "Pruned" not in again.stderr, again
    bad = satchel.run("install", "-p", satchel.venv("v3"), "second", check=False,
                      env={"SATCHEL_CACHE_MAX_SIZE": "lots"})
    assert bad.returncode == 1 and "SATCHEL_CACHE_MAX_SIZE" in bad.stderr, bad


@pytest.mark.parametrize("command", [["info"], ["list"], ["verify"], ["clean", "alpha"], ["prune"]])
def test_a_cache_dir_that_is_a_file_is_one_error(tmp_path: Path, command: list[str]) -> None:
    # (was a warning that a temporary cache would be used, then the error)
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    satchel = Satchel(tmp_path, not_a_dir)
    result = satchel.run("cache", *command, check=False)
    assert_error(result, f"there is no cache at {not_a_dir}: it is not a directory", "hint:")
    assert result.warnings() == [], result
    assert not_a_dir.read_text() == "x"
