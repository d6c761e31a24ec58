"""Running code inside a target interpreter: the one way satchel calls into a Python it installs for.

``run_in_target`` starts ``<exe> -E -s -c <code>`` (``-I`` with ``isolated=True``), with stdin
closed or fed ``stdin``, the environment minus what must not leak into another interpreter, and a
timeout. A failure to start, a timeout and a non-zero exit each raise ``TargetError``: a one-line
message naming the executable, with ``kind`` and ``reason`` for callers that phrase their own.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from satchel.errors import InterpreterError

# A macOS venv launcher passes its identity on through this; a Python started with it set reports
# the launcher as its ``sys.executable``, so it must not leak into the target.
DROPPED_ENVIRON = ("__PYVENV_LAUNCHER__",)


@dataclass(frozen=True)
class TargetOutput:
    """What a successful run printed."""

    stdout: bytes
    stderr: bytes


class TargetError(InterpreterError):
    """The target could not be run (``kind`` "start"), did not answer in time ("timeout") or
    exited with a non-zero status ("exit"). ``reason`` is the message without the executable."""

    def __init__(
        self,
        exe: str,
        kind: Literal["start", "timeout", "exit"],
        reason: str,
        *,
        stderr: bytes = b"",
        returncode: int | None = None,
    ) -> None:
        if kind == "start":
            message = f"cannot run {exe}: {reason}"
        else:
            message = f"{exe} failed: {reason}"
        super().__init__(message)
        self.exe = exe
        self.kind = kind
        self.reason = reason
        self.stderr = stderr
        self.returncode = returncode


def target_environ() -> dict[str, str]:
    """This process's environment without the variables that must not reach a target."""
    env = dict(os.environ)
    for name in DROPPED_ENVIRON:
        env.pop(name, None)
    return env


def run_in_target(
    exe: str | Path,
    code: str,
    timeout: float | None,
    *,
    args: Sequence[str] = (),
    stdin: bytes | None = None,
    isolated: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> TargetOutput:
    """Run ``code`` in the interpreter ``exe`` (made absolute, not resolved); raise TargetError
    unless it exits with status 0 within ``timeout`` seconds (None: no limit).

    ``meanwhile``: called once the target has started, before waiting for it (work for this
    process while the target runs on another core; its time counts towards ``timeout``). What it
    raises stops the target and is raised."""
    path = os.path.abspath(exe)
    flags = ["-I"] if isolated else ["-E", "-s"]
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [path, *flags, "-c", code, *args],
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=target_environ(),
        )
    except FileNotFoundError as exc:
        if os.path.lexists(path):  # a script whose #! interpreter is missing, a dangling link
            raise TargetError(path, "start", exc.strerror or str(exc)) from None
        raise TargetError(path, "start", "no such file") from None
    except OSError as exc:
        raise TargetError(path, "start", exc.strerror or str(exc)) from None
    with proc:
        try:
            if meanwhile is not None:
                meanwhile()
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            stdout, stderr = proc.communicate(stdin, timeout=left)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TargetError(
                path, "timeout", f"it did not answer within {timeout:g} seconds"
            ) from None
        except BaseException:
            proc.kill()
            raise
    if proc.returncode != 0:
        raise TargetError(
            path,
            "exit",
            last_line(stderr, proc.returncode),
            stderr=stderr,
            returncode=proc.returncode,
        )
    return TargetOutput(stdout, stderr)


def last_line(stderr: bytes, returncode: int, *, default: str = "no output") -> str:
    """The last non-blank line of ``stderr``, else what the exit status says, else ``default``."""
    lines = [
        line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()
    ]
    if lines:
        return lines[-1]
    if returncode < 0:
        return f"killed by signal {-returncode}"
    if returncode:
        return f"exit status {returncode}"
    return default
