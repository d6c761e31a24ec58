"""satchel runs started side by side (moved from tests/e2e/test_cache_concurrency.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import Result, Satchel


def start(satchel: Satchel, *args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "satchel", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=satchel.tmp,
        env=satchel.base_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], args: list[str]) -> Result:
    out, err = proc.communicate(timeout=120)
    result = Result(args, proc.returncode, out, err)
    assert "Traceback (most recent call last)" not in err, str(result)
    return result
