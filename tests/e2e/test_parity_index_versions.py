"""`satchel index versions NAME [--json]`, in pip's output form, against the local index and the
output of the pinned pip in the test venv (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _publish(index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("alpha", "1.5"),
        WheelSpec("alpha", "2.0"),  # yanked below
        WheelSpec("alpha", "2.1", tag="cp27-cp27m-win32"),  # no file for this interpreter
        WheelSpec("alpha", "3.0", requires_python="<3"),
        WheelSpec("alpha", "4.0b1"),
    )
    index_server.yank("alpha-2.0-py3-none-any.whl")


def _pip(index_server: IndexServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "--disable-pip-version-check",
         "--index-url", index_server.index_url, "--no-cache-dir", *args],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
    )  # fmt: skip


def test_index_versions(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    venv = satchel.venv(python=sys.executable)
    text = satchel.run("index", "versions", "alpha", "-p", venv).stdout
    assert text == "alpha (1.5)\nAvailable versions: 1.5, 1.0\n"
    assert text == _pip(index_server, tmp_path, "alpha").stdout
    doc = json.loads(satchel.run("index", "versions", "alpha", "--json", "--pre", "-p", venv).stdout)
    assert doc == json.loads(_pip(index_server, tmp_path, "alpha", "--json", "--pre").stdout)
    assert doc == {"name": "alpha", "versions": ["4.0b1", "1.5", "1.0"], "latest": "4.0b1"}

    # Installed: pip's INSTALLED / LATEST lines and JSON field.
    satchel.run("install", "-p", venv, "alpha==1.0")
    text = satchel.run("index", "versions", "alpha", "-p", venv).stdout
    assert text.splitlines()[2:] == ["  INSTALLED: 1.0", "  LATEST:    1.5"]
    doc = json.loads(satchel.run("index", "versions", "alpha", "--json", "-p", venv).stdout)
    assert doc["installed_version"] == "1.0"
    satchel.run("install", "-p", venv, "alpha==1.5")
    assert "  INSTALLED: 1.5 (latest)" in satchel.run("index", "versions", "alpha", "-p", venv).stdout

    missing = satchel.run("index", "versions", "nosuch", "-p", venv, check=False)
    assert_error(missing, "no matching distribution found for nosuch")
    assert _pip(index_server, tmp_path, "nosuch").returncode == 1


def test_index_versions_for_another_platform(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    flags = ["--platform", "win32", "--python-version", "2.7", "--implementation", "cp", "--abi", "cp27m"]
    ours = satchel.run("index", "versions", "alpha", "--json", "-p", sys.executable, *flags).stdout
    theirs = _pip(index_server, tmp_path, "alpha", "--json", *flags).stdout
    assert json.loads(ours) == json.loads(theirs)
    assert "2.1" in json.loads(ours)["versions"]  # the win32 wheel counts there
