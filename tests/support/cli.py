"""Run the satchel CLI in a subprocess, as a user would, against a local index."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("warning:")]

    def __str__(self) -> str:
        return f"$ satchel {' '.join(self.args)}\n[exit {self.returncode}]\n{self.stdout}{self.stderr}"


@dataclass
class Satchel:
    """A satchel command line bound to one cache and one default index."""

    tmp: Path
    cache_dir: Path
    index_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def base_env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PIP_", "SATCHEL_", "VIRTUAL_ENV", "PYTHON"))
        }
        env.update(
            SATCHEL_CACHE_DIR=str(self.cache_dir),
            PIP_CONFIG_FILE=os.devnull,
            NO_COLOR="1",
        )
        if self.index_url:
            env["SATCHEL_INDEX_URL"] = self.index_url
        env.update(self.env)
        return env

    def run(self, *args: str | Path, check: bool = True, cwd: Path | None = None,
            env: dict[str, str] | None = None, timeout: float = 300) -> Result:
        argv = [str(a) for a in args]
        proc = subprocess.run(
            [sys.executable, "-m", "satchel", *argv],
            capture_output=True,
            text=True,
            cwd=cwd or self.tmp,
            env={**self.base_env(), **(env or {})},
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"satchel failed:\n{result}")
        if satchel_traceback(proc.stderr):
            raise AssertionError(f"satchel printed a traceback:\n{result}")
        return result

    def venv(self, name: str = "venv", python: str | Path | None = None) -> Path:
        """A new, empty virtual environment ``name`` (one made before under that name is
        replaced: ``--clear``)."""
        path = self.tmp / name
        args: list[str | Path] = ["venv", "--clear", path]
        if python is not None:
            args += ["-p", python]
        self.run(*args)
        return path


def satchel_traceback(stderr: str) -> bool:
    """True when satchel itself printed a traceback (at the start of a line; a failing build's
    output, quoted indented in the error, may hold the backend's own)."""
    return any(line.startswith("Traceback") for line in stderr.splitlines())


def assert_error(result: Result, *needles: str) -> str:
    """A user error: exit 1, no traceback, exactly one ``error:`` line, each needle in stderr.
    Returns the error line."""
    assert result.returncode == 1, result
    assert not satchel_traceback(result.stderr), result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in:\n{result}"
    return errors[0]


def pyenv_python(version: str) -> Path | None:
    """The newest pyenv CPython X.Y, or None when it is not installed here."""
    found = sorted(
        (p for p in PYENV.glob(f"{version}.*") if (p / "bin" / "python3").exists()),
        key=lambda p: tuple(int(x) for x in p.name.split(".") if x.isdigit()),
    )
    return found[-1] / "bin" / "python3" if found else None


def site_packages(venv: Path) -> Path:
    found = list((venv / "lib").glob("python3.*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def run_python(venv: Path, code: str) -> str:
    out = subprocess.run(
        [str(venv_python(venv)), "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip()


def installed_files_match_record(venv: Path, dist: str) -> None:
    """Every file RECORD lists for ``dist`` exists with the recorded sha256."""
    import base64
    import csv

    sp = site_packages(venv)
    infos = [p for p in sp.glob("*.dist-info") if p.name.lower().startswith(dist.lower().replace("-", "_") + "-")]
    assert len(infos) == 1, infos
    with open(infos[0] / "RECORD", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows
    for row in rows:
        path, digest = row[0], row[1]
        if not digest:
            continue
        algo, _, value = digest.partition("=")
        data = (sp / path).read_bytes()
        actual = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
        assert actual == value, f"{path}: RECORD says {value}, file has {actual}"
