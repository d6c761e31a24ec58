"""Environments stay interoperable with pip: pip lists, checks and uninstalls what satchel
installed; satchel lists, checks and uninstalls what pip installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Satchel, site_packages, venv_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel, sha256_file


def _host_pip() -> str | None:
    python3 = shutil.which("python3")
    if python3 is None:
        return None
    probe = subprocess.run([python3, "-m", "pip", "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None
    major = int(probe.stdout.split()[1].split(".")[0])
    return python3 if major >= 23 else None  # --python needs pip >= 22.3


PYTHON3 = _host_pip()
pytestmark = pytest.mark.skipif(PYTHON3 is None, reason="needs python3 with pip >= 23 on PATH")


def pip(venv: Path, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert PYTHON3 is not None
    proc = subprocess.run(
        [PYTHON3, "-m", "pip", "--python", str(venv_python(venv)), "--disable-pip-version-check",
         "--no-input", *map(str, args)],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null", "HOME": str(venv.parent)},
    )  # fmt: skip
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_pip_reads_and_uninstalls_what_satchel_installed(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta>=1"], console_scripts={"alpha-cli": "alpha:main"},
                  data={"data": {"share/alpha/notes.txt": "hello"}}),
        WheelSpec("beta", "1.0"),
    )  # fmt: skip
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "--compile-bytecode")
    assert (venv / "share" / "alpha" / "notes.txt").read_text() == "hello"

    listed = pip(venv, "list", "--format", "freeze").stdout.splitlines()
    assert "alpha==1.0" in listed and "beta==1.0" in listed
    assert "No broken requirements found" in pip(venv, "check").stdout
    shown = pip(venv, "show", "alpha").stdout
    assert "Requires: beta" in shown

    pip(venv, "uninstall", "-y", "alpha")
    sp = site_packages(venv)
    assert not (sp / "alpha").exists() and not (sp / "alpha-1.0.dist-info").exists()
    assert not (venv / "bin" / "alpha-cli").exists()
    assert not (venv / "share" / "alpha" / "notes.txt").exists()
    assert satchel.run("freeze", "-p", venv).stdout == "beta==1.0\n"

    # pip check sees a broken requirement the same way satchel check does.
    satchel.run("install", "-p", venv, "alpha")
    satchel.run("uninstall", "-p", venv, "beta")
    assert pip(venv, "check", check=False).returncode == 1
    assert satchel.run("check", "-p", venv, check=False).returncode == 1


def test_satchel_uninstalls_what_pip_installed(satchel: Satchel, tmp_path: Path) -> None:
    wheel = build_wheel(
        WheelSpec("gamma", "1.0", console_scripts={"gamma-cli": "gamma:main"},
                  files={"gamma/__init__.py": "def main():\n    pass\n", "gamma/util.py": ""}),
        tmp_path / "dist",
    )  # fmt: skip
    venv = satchel.venv()
    pip(venv, "install", "--no-index", "--no-deps", wheel)
    sp = site_packages(venv)
    assert (sp / "gamma-1.0.dist-info" / "INSTALLER").read_text().strip() == "pip"
    assert list((sp / "gamma" / "__pycache__").glob("*.pyc")), "pip compiles bytecode"

    # pip recorded a PEP 610 direct URL for the local wheel; both freeze it the same way.
    frozen = satchel.run("list", "-p", venv, "--format", "freeze").stdout
    assert frozen == f"gamma @ {wheel.as_uri()}#sha256={sha256_file(wheel)}\n"
    assert frozen == pip(venv, "freeze").stdout
    assert satchel.run("check", "-p", venv).returncode == 0
    shown = satchel.run("show", "-p", venv, "gamma").stdout
    assert "Installer: pip" in shown
    result = satchel.run("uninstall", "-p", venv, "gamma")
    assert " - gamma==1.0" in result.stderr
    assert not (sp / "gamma").exists(), list((sp / "gamma").rglob("*"))
    assert not (sp / "gamma-1.0.dist-info").exists()
    assert not (venv / "bin" / "gamma-cli").exists()
    assert pip(venv, "list", "--format", "freeze").stdout.strip() == ""
