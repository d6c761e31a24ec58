"""run_in_target: the one way into a target interpreter (environment, timeouts, failures)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from satchel.errors import InterpreterError
from satchel.python.run import TargetError, run_in_target


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_runs_code_with_args_and_stdin() -> None:
    out = run_in_target(
        sys.executable,
        "import sys; sys.stdout.write(sys.argv[1] + sys.stdin.read())",
        10,
        args=["a"],
        stdin=b"b",
    )
    assert out.stdout == b"ab"


def test_flags_default_and_isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "import sys; print(sys.flags.ignore_environment, sys.flags.no_user_site, sys.flags.isolated)"
    assert run_in_target(sys.executable, code, 10).stdout.split() == [b"1", b"1", b"0"]
    isolated = run_in_target(sys.executable, code, 10, isolated=True)
    assert isolated.stdout.split() == [b"1", b"1", b"1"]


def test_venv_launcher_variable_does_not_reach_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("__PYVENV_LAUNCHER__", "/somewhere/else/python")
    monkeypatch.setenv("SATCHEL_RUN_TEST", "kept")
    code = "import os; print(os.environ.get('__PYVENV_LAUNCHER__'), os.environ.get('SATCHEL_RUN_TEST'))"
    assert run_in_target(sys.executable, code, 10).stdout.split() == [b"None", b"kept"]


def test_missing_executable(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "python"
    with pytest.raises(TargetError) as info:
        run_in_target(missing, "pass", 10)
    assert str(info.value) == f"cannot run {missing}: no such file"
    assert info.value.kind == "start"
    assert isinstance(info.value, InterpreterError)


def test_non_zero_exit_names_the_last_stderr_line(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", 'echo one >&2\necho "the reason" >&2\nexit 3\n')
    with pytest.raises(TargetError) as info:
        run_in_target(exe, "pass", 10)
    assert str(info.value) == f"{exe} failed: the reason"
    assert (info.value.kind, info.value.returncode) == ("exit", 3)


def test_silent_failure_says_the_status(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", "exit 4\n")
    with pytest.raises(TargetError, match=r"failed: exit status 4$"):
        run_in_target(exe, "pass", 10)


def test_timeout(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", "exec sleep 10\n")
    with pytest.raises(TargetError, match=r"did not answer within 0\.5 seconds$") as info:
        run_in_target(exe, "pass", 0.5)
    assert info.value.kind == "timeout"


def test_meanwhile_runs_while_the_target_runs(tmp_path: Path) -> None:
    """The target waits for a file that only ``meanwhile`` makes: it answers only if
    ``meanwhile`` ran before satchel waited for it (after, the run would time out)."""
    flag = tmp_path / "flag"
    code = (
        "import os, sys, time\n"
        "end = time.monotonic() + 20\n"
        "while not os.path.exists(sys.argv[1]) and time.monotonic() < end: time.sleep(0.01)\n"
        "print(os.path.exists(sys.argv[1]))\n"
    )
    calls = []

    def meanwhile() -> None:
        calls.append(flag.exists())
        flag.write_text("")

    out = run_in_target(sys.executable, code, 10, args=[str(flag)], meanwhile=meanwhile)
    assert out.stdout.split() == [b"True"]
    assert calls == [False]


def test_what_meanwhile_raises_stops_the_target(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"

    def meanwhile() -> None:
        for _ in range(2000):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.01)
        raise RuntimeError("meanwhile failed")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="meanwhile failed"):
        run_in_target(sys.executable, code, 30, args=[str(pid_file)], meanwhile=meanwhile)
    assert time.monotonic() - started < 20
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped: no process, not even a zombie
        os.kill(pid, 0)


def test_the_time_meanwhile_takes_counts_towards_the_timeout(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", "exec sleep 10\n")
    started = time.monotonic()
    with pytest.raises(TargetError, match=r"did not answer within 0\.5 seconds$") as info:
        run_in_target(exe, "pass", 0.5, meanwhile=lambda: time.sleep(0.6))
    assert info.value.kind == "timeout"
    assert time.monotonic() - started < 5  # (the target's own 10 s are not waited for)
