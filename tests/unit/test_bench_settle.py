"""The bench harness starts every run that installs (cold, warm, warm-offline) on a disk at rest, and deletes the caches and
venvs of earlier runs only at the end (bench/run.py)."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not Path("/proc/diskstats").exists(), reason="no /proc/diskstats (not Linux)")
def test_disk_activity_reads_whole_disks(bench: ModuleType) -> None:
    activity = bench.disk_activity()
    assert activity is not None
    in_flight, written = activity
    assert in_flight >= 0 and written > 0  # this machine has written to its disk since it booted


def test_settle_waits_for_a_quiet_spell_and_no_longer_than_the_limit(bench: ModuleType, tmp_path: Path) -> None:
    if bench.disk_activity() is None:
        assert bench.settle_disk(quiet_s=0.2, limit_s=3.0) < 0.5  # nothing to watch: a sync only
        return
    waited = bench.settle_disk(quiet_s=0.2, limit_s=3.0)
    assert 0.2 <= waited <= 3.5  # a quiet spell, at least
    # A disk written to all the time is never quiet for 0.5 s: it waits until the limit.
    stop = time.monotonic() + 3.0

    def keep_writing() -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            (tmp_path / f"busy{n % 4}").write_bytes(b"x" * (1 << 20))
            bench.os.sync()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        busy = bench.settle_disk(quiet_s=0.5, limit_s=1.5)
    finally:
        writer.join()
    assert 1.5 <= busy <= 3.0


def test_finished_runs_go_to_the_trash_and_are_deleted_at_the_end(bench: ModuleType, tmp_path: Path) -> None:
    b = bench.Bench.__new__(bench.Bench)  # (only the trash's state)
    b.trash = tmp_path / "trash"
    b.trash.mkdir()
    b._trash_counter = 0
    cache = tmp_path / "cache"
    (cache / "sub").mkdir(parents=True)
    (cache / "sub" / "f").write_text("x")
    b.discard(cache)
    b.discard(tmp_path / "missing")  # nothing to move
    assert not cache.exists()
    moved = list(b.trash.iterdir())
    assert [p.name for p in moved] == ["1-cache"] and (moved[0] / "sub" / "f").read_text() == "x"
    cache.mkdir()  # the next run's cache, same name: moved beside the first
    b.discard(cache)
    assert sorted(p.name for p in b.trash.iterdir()) == ["1-cache", "2-cache"]
    b.empty_trash()
    assert b.trash.is_dir() and not list(b.trash.iterdir())


def test_drop_caches_writes_3_to_the_control_file_and_says_when_it_cannot(
    bench: ModuleType, tmp_path: Path
) -> None:
    """Before the runs the bench asks the kernel to drop its clean caches (after a sync): a 3
    written to /proc/sys/vm/drop_caches. Where that is refused (not root, not Linux) it says so
    and the bench goes on. (A stand-in file here: the test does not drop the machine's caches.)"""
    control = tmp_path / "drop_caches"
    control.write_text("0\n")
    assert bench.drop_caches(control) is True
    assert control.read_text() == "3\n"
    assert bench.drop_caches(tmp_path / "missing" / "drop_caches") is False
    assert Path("/proc/sys/vm/drop_caches") == bench.DROP_CACHES


@pytest.mark.parametrize("keep", [False, True])
def test_the_bench_drops_the_caches_unless_told_to_keep_them(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    """Before anything is timed the bench empties a leftover trash, then drops the kernel's
    caches; `--keep-caches` leaves them (and then a leftover trash costs the 30 s wait)."""
    calls: list[str] = []
    monkeypatch.setattr(bench, "drop_caches", lambda: calls.append("drop") or True)
    monkeypatch.setattr(bench, "settle_disk", lambda: 0.0)
    monkeypatch.setattr(bench.time, "sleep", lambda s: calls.append(f"sleep {s:g}"))
    args = bench.parse_args(["--work", str(tmp_path), *(["--keep-caches"] if keep else [])])
    runner = bench.Bench(args)
    (runner.trash / "old-venv").mkdir(parents=True)
    runner.prepare_machine()
    assert not (runner.trash / "old-venv").exists()
    assert calls == (["sleep 30"] if keep else ["drop"])
    assert runner.caches_dropped is (not keep)


def test_the_tools_run_as_a_user_would_run_them(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No caller's venv, cache or bytecode setting reaches a timed run: PYTHONDONTWRITEBYTECODE
    would keep satchel from writing its table of compiled dataclass methods."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("SATCHEL_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    runner = bench.Bench(bench.parse_args(["--work", str(tmp_path)]))
    env = runner.tool_env("satchel", "trio")
    assert "PYTHONDONTWRITEBYTECODE" not in env and "VIRTUAL_ENV" not in env
    assert env["SATCHEL_CACHE_DIR"] == str(runner.cache_dir("satchel", "trio"))
