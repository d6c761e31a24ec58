"""Many processes, one cache, under load (issue 5, item 3).

test_cache_concurrency.py has the smoke tests: four installs sharing a cold cache, `cache clean`
waiting for a running install, and `cache clean --force` during three installs. Here:

* eight installs of overlapping sets, all wanting one shared dependency (eight processes racing
  for one download), start together on a cold cache: every one succeeds, silently; the server
  sends each wheel once (full GETs only: metadata may be read with Range requests by several
  processes, since no lock guards a metadata fetch and a wasted range read is harmless); each
  wheel is unpacked once; the cache is sound afterwards.
* every cache command that removes things (`clean`, `clean NAME`, `prune`, `prune --max-size`,
  `purge`; forced, and `prune` unforced, which waits) runs over and over while eight installs
  run: each install succeeds or fails with a clear error (exit 1, one ``error:`` line, no
  traceback), whatever is installed is whole (every file its RECORD lists, with its hash), and
  the cache is sound afterwards.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.support.cache import full_downloads
from tests.support.cli import Result, Satchel, installed_files_match_record, site_packages
from tests.support.crash import unsound_entries
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.processes import finish, start
from tests.support.wheels import WheelSpec

PROCESSES = 8
PACKAGES = [f"p{i}" for i in range(10)]
# Process i wants four packages, three apart: each package is wanted by three or four processes.
SETS = [[PACKAGES[(i + 3 * k) % len(PACKAGES)] for k in range(4)] for i in range(PROCESSES)]


def publish_all(server: IndexServer) -> None:
    publish(
        server,
        WheelSpec("common", "1.0", files={"common/__init__.py": "X = 1\n" * 200}),
        *[
            WheelSpec(name, "1.0", requires=["common"], files={f"{name}/__init__.py": "import common\n"})
            for name in PACKAGES
        ],
    )


def installed(venv: Path) -> list[str]:
    """The distributions in ``venv`` (by .dist-info), normalized."""
    return sorted(p.name.split("-")[0] for p in site_packages(venv).glob("*.dist-info"))


def assert_whole(venv: Path) -> None:
    """Whatever is installed in ``venv`` is whole: every file its RECORD lists, as hashed."""
    for name in installed(venv):
        installed_files_match_record(venv, name)


def assert_clear_failure(result: Result) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result


def test_eight_installs_share_one_cold_cache(satchel: Satchel, index_server: IndexServer) -> None:
    publish_all(index_server)
    index_server.stall("/files/", 0.15)  # every download takes a while: the runs overlap
    venvs = [satchel.venv(f"v{i}") for i in range(PROCESSES)]
    procs = [start(satchel, "install", "-p", venv, *wanted) for venv, wanted in zip(venvs, SETS, strict=True)]
    results = [finish(p, ["install", *wanted]) for p, wanted in zip(procs, SETS, strict=True)]
    for result in results:
        assert result.returncode == 0, result
        assert result.warnings() == [], result
    for name in ["common", *PACKAGES]:
        assert full_downloads(index_server, f"{name}-1.0-py3-none-any.whl") == 1, (
            name,
            sorted(index_server.paths()),
        )
    for venv, wanted in zip(venvs, SETS, strict=True):
        assert installed(venv) == sorted({"common", *wanted})
        assert_whole(venv)
    # One unpacked tree per wheel, hardlinked into every environment that has it.
    for name in ["common", *PACKAGES]:
        users = [v for v in venvs if name in installed(v)]
        inodes = {(site_packages(v) / name / "__init__.py").stat().st_ino for v in users}
        assert len(inodes) == 1, f"{name} was unpacked more than once"
    assert unsound_entries(satchel.cache_dir) == []
    assert list(satchel.cache_dir.rglob(".tmp-*")) == []
    assert satchel.run("cache", "verify").returncode == 0


REMOVERS = [
    ["cache", "clean", "--force"],
    ["cache", "clean", "p3", "common", "--force"],
    ["cache", "prune", "--max-size", "1", "--force"],
    ["cache", "purge", "--force"],
    ["cache", "prune", "--force"],
    ["cache", "prune"],  # unforced: waits for the running installs
]


def test_removing_commands_during_installs(satchel: Satchel, index_server: IndexServer) -> None:
    publish_all(index_server)
    # Half of it is cached already, so installs use entries while they are being removed.
    satchel.run("install", "-p", satchel.venv("warm"), *PACKAGES[:5])
    index_server.stall("/files/", 0.1)
    venvs = [satchel.venv(f"v{i}") for i in range(PROCESSES)]
    procs = [start(satchel, "install", "-p", venv, *wanted) for venv, wanted in zip(venvs, SETS, strict=True)]
    removals: list[Result] = []
    began = time.monotonic()
    while any(p.poll() is None for p in procs) and time.monotonic() - began < 120:
        for args in REMOVERS:
            removals.append(satchel.run(*args, check=False, timeout=120))
            if all(p.poll() is not None for p in procs):
                break
    results = [finish(p, ["install", *wanted]) for p, wanted in zip(procs, SETS, strict=True)]
    assert removals, "the installs were over before anything was removed"
    for removal in removals:
        assert removal.returncode == 0, removal
    for venv, wanted, result in zip(venvs, SETS, results, strict=True):
        if result.returncode == 0:
            assert installed(venv) == sorted({"common", *wanted}), result
        else:
            assert_clear_failure(result)
        assert_whole(venv)
    assert unsound_entries(satchel.cache_dir) == []
    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 0, verify
    # The cache still works: the same installs again, one after the other, all succeed.
    index_server.clear_faults()
    for venv, wanted in zip(venvs, SETS, strict=True):
        again = satchel.run("install", "-p", venv, *wanted)
        assert installed(venv) == sorted({"common", *wanted}), again
        assert_whole(venv)


def test_many_processes_race_for_one_download(satchel: Satchel, index_server: IndexServer) -> None:
    """Eight processes want the same single wheel at the same moment: one downloads it, the
    others wait on its entry lock and use it; nobody unpacks it a second time."""
    publish(index_server, WheelSpec("solo", "1.0", files={"solo/__init__.py": "Y = 2\n" * 1000}))
    index_server.stall("/files/solo", 0.5)
    venvs = [satchel.venv(f"s{i}") for i in range(PROCESSES)]
    procs: list[subprocess.Popen[str]] = [start(satchel, "install", "-p", v, "solo") for v in venvs]
    results = [finish(p, ["install", "solo"]) for p in procs]
    for result in results:
        assert result.returncode == 0 and result.warnings() == [], result
    assert full_downloads(index_server, "solo-1.0-py3-none-any.whl") == 1, index_server.paths()
    inodes = {(site_packages(v) / "solo" / "__init__.py").stat().st_ino for v in venvs}
    assert len(inodes) == 1
    assert satchel.run("cache", "verify").returncode == 0
