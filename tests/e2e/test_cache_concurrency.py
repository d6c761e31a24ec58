"""Many processes, one cache (issue 3, contract 7): a smoke test with real processes.

Readers take no lock; downloading a file and unpacking a wheel take a per-entry lock, so the work
is done once; installs hold the cache's use lock shared, so `cache clean` waits for them (or, with
--force, removes entries renamed aside so an install sees each entry whole or not at all).
"""

from __future__ import annotations

import os
import time

from tests.support.cache import full_downloads
from tests.support.cli import Satchel, installed_files_match_record, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.processes import finish, start
from tests.support.wheels import WheelSpec

PACKAGES = ["p0", "p1", "p2", "p3", "p4", "p5"]
# Four overlapping sets: every package is wanted by two or three processes.
SETS = [["p0", "p1", "p2"], ["p1", "p2", "p3"], ["p2", "p3", "p4", "p0"], ["p4", "p5", "p0", "p1"]]


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_four_installs_share_one_cold_cache(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, *[WheelSpec(name, "1.0") for name in PACKAGES])
    # Slow every download down a little so the four runs really overlap.
    index_server.stall("/files/", 0.2)
    venvs = [satchel.venv(f"v{i}") for i in range(4)]
    procs = [
        start(satchel, "install", "-p", venv, *wanted)
        for venv, wanted in zip(venvs, SETS, strict=True)
    ]
    results = [finish(p, ["install", *wanted]) for p, wanted in zip(procs, SETS, strict=True)]
    for result in results:
        assert result.returncode == 0, result
        assert result.warnings() == [], result
    for name in PACKAGES:
        assert full_downloads(index_server, f"{name}-1.0-py3-none-any.whl") == 1, (
            name,
            index_server.paths(),
        )
    # One tree per wheel, used by every venv: the installed files are one inode.
    for name in PACKAGES:
        users = [v for v, wanted in zip(venvs, SETS, strict=True) if name in wanted]
        inodes = {(site_packages(v) / name / "__init__.py").stat().st_ino for v in users}
        assert len(inodes) == 1, f"{name} was unpacked more than once"
        for v in users:
            installed_files_match_record(v, name)
    assert satchel.run("cache", "verify").returncode == 0
    leftovers = [p for p in satchel.cache_dir.rglob(".tmp-*")]
    assert leftovers == []


def test_clean_waits_for_a_running_install(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("slow", "1.0"), WheelSpec("quick", "1.0"))
    venv = satchel.venv()
    satchel.run("install", "-p", satchel.venv("warm"), "quick")
    index_server.stall("/files/slow-1.0", 1.5)
    install = start(satchel, "install", "-p", venv, "slow", "quick")
    # The install is running (it asked for the file) and holds the cache in use.
    wait_for(lambda: index_server.count("/files/slow-1.0") > 0)
    began = time.monotonic()
    clean = satchel.run("cache", "clean")
    waited = time.monotonic() - began
    result = finish(install, ["install", "slow", "quick"])
    assert result.returncode == 0, result
    assert "waiting for other satchel processes" in clean.stderr, clean
    assert waited > 0.5, "clean did not wait for the install"
    # The install finished whole before anything was removed.
    installed_files_match_record(venv, "slow")
    installed_files_match_record(venv, "quick")
    # ...and then everything was.
    assert {p.name for p in satchel.cache_dir.iterdir()} <= {"CACHEDIR.TAG", ".lock"}


def test_forced_clean_during_installs_never_breaks_them(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, *[WheelSpec(name, "1.0") for name in PACKAGES])
    venvs = [satchel.venv(f"v{i}") for i in range(3)]
    satchel.run("install", "-p", satchel.venv("warm"), "p0", "p1", "p2")  # some entries exist
    index_server.stall("/files/", 0.3)
    procs = [
        start(satchel, "install", "-p", venv, *wanted)
        for venv, wanted in zip(venvs, SETS, strict=False)
    ]
    wait_for(lambda: index_server.count("/files/") > 0)
    for _ in range(3):
        forced = satchel.run("cache", "clean", "--force", check=False)
        assert forced.returncode == 0, forced
        time.sleep(0.2)
    results = [finish(p, ["install", *w]) for p, w in zip(procs, SETS, strict=False)]
    for venv, wanted, result in zip(venvs, SETS, results, strict=False):
        if result.returncode == 0:
            for name in wanted:
                installed_files_match_record(venv, name)
        else:
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, result
    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + "\n".join(r.stderr for r in results)
    assert os.path.isdir(satchel.cache_dir)
