"""Interop with the real pip: what satchel installs, pip lists, checks and uninstalls; what pip
installs, satchel lists and uninstalls. Uses ``pip --python <venv>`` (pip >= 22.3), so the venvs
need no pip of their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from satchel.install.installed import find_installed, list_installed
from satchel.install.uninstall import uninstall
from tests.support.installs import APP, Env, clean_env, install_spec, make_venv, snapshot
from tests.support.wheels import WheelSpec, build_wheel


def _pip_supports_python() -> bool:
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return False
    major, minor = (int(x) for x in out.stdout.split()[1].split(".")[:2])
    return (major, minor) >= (22, 3)


pytestmark = pytest.mark.skipif(
    not _pip_supports_python(), reason="needs pip >= 22.3 (for --python)"
)


def pip(env: Env, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env.python), *args],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_pip_lists_checks_and_uninstalls_what_satchel_installed(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "venv")
    before = snapshot(env.root)
    install_spec(
        tmp_path, WheelSpec("dep", "0.1"), env.paths, python=str(env.python), requested=False
    )
    app = WheelSpec(
        APP.name,
        APP.version,
        files=APP.files,
        console_scripts=APP.console_scripts,
        data=APP.data,
        requires=["dep>=0.1"],
    )
    install_spec(tmp_path, app, env.paths, python=str(env.python), compile_bytecode=True)
    listed = {p["name"]: p["version"] for p in json.loads(pip(env, "list", "--format=json"))}
    assert listed == {"Demo-App": "2.0", "dep": "0.1"}
    assert "No broken requirements found" in pip(env, "check")
    pip(env, "uninstall", "-y", "demo-app", "dep")
    after = snapshot(env.root)
    # pip leaves empty directories it did not create itself (include/site/..., share).
    leftovers = {p for p in after - before if not (env.root / p).is_dir()}
    assert leftovers == set()
    assert list_installed(env.paths) == []


def test_satchel_uninstalls_what_pip_installed(tmp_path: Path) -> None:
    env = make_venv(tmp_path / "venv")
    before = snapshot(env.root)
    wheel = build_wheel(APP, tmp_path / "wheels")
    pip(env, "install", "--no-deps", "--no-index", str(wheel))
    dist = find_installed(env.paths, "demo_app")
    assert dist is not None
    assert (dist.installer, dist.requested, dist.version) == ("pip", True, "2.0")
    assert (env.bin / "demo").exists()
    uninstall(dist, env.paths)
    assert snapshot(env.root) == before
    assert "demo" not in pip(env, "list").lower()
