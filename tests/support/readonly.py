"""Caches satchel cannot write: running satchel as nobody, immutable files (moved from
tests/e2e/test_cache_readonly.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import REPO, Result, Satchel

NOBODY = 65534


SYSTEM_PYTHON = Path("/usr/bin/python3")


SITE_PACKAGES = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    / "site-packages"
)


PYTHONPATH = f"{REPO / 'src'}{os.pathsep}{SITE_PACKAGES}"


def _nobody_unusable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to run satchel as another user"
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return "setpriv is not installed"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run(
        [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", str(SYSTEM_PYTHON), "-c",
         "import sys, satchel.cli.main, resolvelib, urllib3, platformdirs; print(sys.version_info[:2])"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": PYTHONPATH}, cwd="/",
        check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"nobody cannot run satchel with {SYSTEM_PYTHON}: {probe.stderr.strip()[-200:]}"
    if probe.stdout.strip() != str(sys.version_info[:2]):
        return f"{SYSTEM_PYTHON} is {probe.stdout.strip()}, the test venv's packages are for {sys.version_info[:2]}"
    return None


NOBODY_UNUSABLE = _nobody_unusable()


@dataclass
class NobodySatchel(Satchel):
    """The CLI run as user nobody (uid 65534) with the system Python."""

    def run(
        self,
        *args: str | Path,
        check: bool = True,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> Result:
        argv = [str(a) for a in args]
        full_env = {
            **self.base_env(),
            "PYTHONPATH": PYTHONPATH,
            "HOME": str(self.tmp),
            **(env or {}),
        }
        proc = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             str(SYSTEM_PYTHON), "-m", "satchel", *argv],
            capture_output=True, text=True, cwd=cwd or self.tmp, env=full_env, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"satchel (as nobody) failed:\n{result}")
        assert "Traceback (most recent call last)" not in proc.stderr, str(result)
        return result


def _chattr(flag: str, *paths: Path, recursive: bool = False) -> None:
    args = ["chattr", *(["-R"] if recursive else []), flag, *map(str, paths)]
    subprocess.run(args, check=True, capture_output=True)


def _chattr_unusable() -> str | None:
    if shutil.which("chattr") is None:
        return "chattr is not installed"
    with tempfile.TemporaryDirectory() as d:
        try:
            _chattr("+i", Path(d))
            _chattr("-i", Path(d))
        except subprocess.CalledProcessError as exc:
            return f"chattr +i does not work here ({exc.stderr.decode().strip()})"
    return None


CHATTR_UNUSABLE = _chattr_unusable()


needs_chattr = pytest.mark.skipif(CHATTR_UNUSABLE is not None, reason=str(CHATTR_UNUSABLE))


@contextlib.contextmanager
def immutable(*paths: Path, recursive: bool = False) -> Iterator[None]:
    _chattr("+i", *paths, recursive=recursive)
    try:
        yield
    finally:
        _chattr("-i", *paths, recursive=recursive)
