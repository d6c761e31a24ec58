"""The `satchel` program leaves without tearing the interpreter down (satchel.cli.leave), and
only when a normal exit would have done nothing more."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

# A module-level object whose finalizer runs only when the interpreter tears itself down, an
# atexit function, and output still in the buffers when the process leaves.
PROLOGUE = """
import atexit, sys
class Torn:
    def __del__(self):
        sys.stderr.write("torn down\\n")
torn = Torn()
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
sys.stdout.write("still buffered")
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROLOGUE + code], capture_output=True, text=True, timeout=60)


def test_leave_flushes_runs_atexit_and_skips_the_teardown() -> None:
    out = _python("from satchel.cli.leave import leave\nleave(3)\n")
    assert out.returncode == 3
    assert out.stdout == "still buffered"
    assert "atexit ran" in out.stderr
    assert "torn down" not in out.stderr


def test_a_normal_exit_tears_down_which_is_what_the_test_above_tells_apart() -> None:
    out = _python("raise SystemExit(3)\n")
    assert out.returncode == 3
    assert out.stdout == "still buffered"
    assert "atexit ran" in out.stderr
    assert "torn down" in out.stderr


def test_leave_waits_like_a_normal_exit_for_a_thread_it_would_wait_for() -> None:
    code = (
        "import threading, time\n"
        "def work():\n"
        "    time.sleep(0.3)\n"
        "    sys.stderr.write('thread finished\\n')\n"
        "threading.Thread(target=work).start()\n"
        "from satchel.cli.leave import leave\nleave(4)\n"
    )
    out = _python(code)
    assert out.returncode == 4
    assert "thread finished" in out.stderr
    assert "torn down" in out.stderr  # the normal exit, as it would have been


def test_a_daemon_thread_is_not_waited_for() -> None:
    code = (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "from satchel.cli.leave import leave, waiting_threads\n"
        "assert not waiting_threads()\n"
        "leave(0)\n"
    )
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert "torn down" not in out.stderr


def test_python_dash_m_satchel_and_the_console_script_leave_this_way() -> None:
    code = "import runpy\nsys.argv = ['satchel', '--version']\nrunpy.run_module('satchel', run_name='__main__')\n"
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "still bufferedsatchel 0.1.0\n"
    assert "atexit ran" in out.stderr
    assert "torn down" not in out.stderr
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "satchel"]
    assert script.value == "satchel.cli.main:run"


def test_an_error_exit_status_passes_through() -> None:
    code = "import runpy\nsys.argv = ['satchel', 'install', '-r', '/nonexistent/reqs.txt']\nrunpy.run_module('satchel', run_name='__main__')\n"
    out = _python(code)
    assert out.returncode == 1
    assert "error:" in out.stderr and "/nonexistent/reqs.txt" in out.stderr
    assert "torn down" not in out.stderr


def test_under_a_profiler_the_exit_is_normal_so_the_profile_gets_written(tmp_path: Path) -> None:
    stats = tmp_path / "satchel.pstats"
    out = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "satchel", "cache", "dir"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert stats.stat().st_size > 0


def test_leaving_runs_no_garbage_collection() -> None:
    """main() turns the collector back on with many allocations counted; leave must not spend
    a collection on them."""
    code = (
        "import gc\n"
        "from satchel.cli.leave import leave\n"  # as run() does, before main()
        "gc.disable()\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and sys.stderr.write('collected\\n'))\n"
        "kept = [[i] for i in range(20000)]\n"
        "gc.enable()\n"
        "leave(0)\n"
    )
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert "collected" not in out.stderr
