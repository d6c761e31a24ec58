"""run_in_target: the one way into a target interpreter (environment, timeouts, failures)."""

from __future__ import annotations

import sys
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
