"""`satchel list --outdated/--uptodate` against the local index, on an environment with known
versions (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _env(satchel: Satchel, index_server: IndexServer) -> str:
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("beta", "1.0"),
        WheelSpec("gamma", "1.0"),
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha==1.0", "beta==1.0", "gamma==1.0")
    # Newer releases appear: alpha as a wheel, beta only as an sdist, gamma only as a
    # pre-release, a wheel for another platform and a release needing another Python.
    publish(
        index_server,
        WheelSpec("alpha", "1.5"),
        WheelSpec("alpha", "2.0", tag="cp27-cp27m-win32"),
        WheelSpec("gamma", "2.0b1"),
        WheelSpec("gamma", "3.0", requires_python="<3"),
    )
    from tests.support.fixtures import publish_sdist

    publish_sdist(index_server, "beta", "1.2")
    return str(venv)


def test_list_outdated_json_and_columns(satchel: Satchel, index_server: IndexServer) -> None:
    venv = _env(satchel, index_server)
    result = satchel.run("list", "-p", venv, "--outdated", "--format", "json", "--refresh")
    assert json.loads(result.stdout) == [
        {"name": "alpha", "version": "1.0", "latest_version": "1.5", "latest_filetype": "wheel"},
        {"name": "beta", "version": "1.0", "latest_version": "1.2", "latest_filetype": "sdist"},
    ]
    columns = satchel.run("list", "-p", venv, "--outdated").stdout.splitlines()
    assert columns[0].split() == ["Package", "Version", "Latest", "Type"]
    assert columns[2].split() == ["alpha", "1.0", "1.5", "wheel"]
    assert columns[3].split() == ["beta", "1.0", "1.2", "sdist"]
    assert len(columns) == 4

    # --pre counts gamma's pre-release as newer.
    pre = json.loads(satchel.run("list", "-p", venv, "-o", "--pre", "--format", "json").stdout)
    assert {p["name"]: p["latest_version"] for p in pre} == {"alpha": "1.5", "beta": "1.2", "gamma": "2.0b1"}

    # --uptodate: only gamma, and (as pip does) its JSON has no latest_* fields.
    up = satchel.run("list", "-p", venv, "--uptodate", "--format", "json")
    assert json.loads(up.stdout) == [{"name": "gamma", "version": "1.0"}]
    up_columns = satchel.run("list", "-p", venv, "--uptodate").stdout.splitlines()
    assert up_columns[2].split() == ["gamma", "1.0", "1.0", "wheel"]

    assert_error(satchel.run("list", "-p", venv, "--outdated", "--format", "freeze", check=False), "freeze")


def test_list_outdated_uses_cached_pages_while_fresh(satchel: Satchel, index_server: IndexServer) -> None:
    venv = _env(satchel, index_server)
    satchel.run("list", "-p", venv, "--outdated", "--refresh")
    index_server.reset_log()
    # Fresh (the default 10-minute lifetime): no request at all, even offline it works.
    again = satchel.run("list", "-p", venv, "--outdated", "--format", "json")
    assert index_server.count("/simple/") == 0
    offline = satchel.run("list", "-p", venv, "--outdated", "--format", "json", "--offline")
    assert json.loads(offline.stdout) == json.loads(again.stdout)
    # A newer alpha is published: the cached page hides it until it is stale or refreshed.
    publish(index_server, WheelSpec("alpha", "1.7"))
    stale = satchel.run("list", "-p", venv, "--outdated", "--format", "json")
    assert json.loads(stale.stdout)[0]["latest_version"] == "1.5"
    index_server.reset_log()
    refreshed = satchel.run("list", "-p", venv, "--outdated", "--format", "json", "--refresh-package", "alpha")
    assert json.loads(refreshed.stdout)[0]["latest_version"] == "1.7"
    assert index_server.paths() == ["/simple/alpha/"]


def test_list_outdated_same_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """pip 26.3 (`pip --python VENV list --outdated`) lists the same packages and fields."""
    import subprocess
    import sys

    venv = _env(satchel, index_server)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}
    for flags in (["--outdated"], ["--outdated", "--pre"], ["--uptodate"]):
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "--python", f"{venv}/bin/python", "list", *flags, "--format", "json",
             "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check"],
            capture_output=True, text=True, check=True, timeout=300, env=env,
        )  # fmt: skip
        # (--refresh: the pages cached by the install are still fresh, and predate the new releases)
        ours = satchel.run("list", "-p", venv, *flags, "--format", "json", "--refresh")
        assert json.loads(ours.stdout) == json.loads(pip.stdout), flags
    # The columns too, character for character.
    pip_columns = subprocess.run(
        [sys.executable, "-m", "pip", "--python", f"{venv}/bin/python", "list", "--outdated",
         "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True, timeout=300, env=env,
    )  # fmt: skip
    assert satchel.run("list", "-p", venv, "--outdated").stdout == pip_columns.stdout


def test_list_and_freeze_selection_same_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """`-e/--editable`, `--exclude-editable`, `--exclude NAME` and `--not-required` select as
    pip's do, and an editable install gets pip's "Editable project location" (column and JSON
    key)."""
    import subprocess
    import sys

    from tests.support.builds import intree_project

    venv = _env(satchel, index_server)
    project = intree_project(tmp_path / "proj", "proj", "1.0", editable=True)
    satchel.run("install", "-p", venv, "-e", project)
    # top requires alpha (any version), and beta only on Windows: --not-required leaves alpha out
    publish(index_server, WheelSpec("top", "1.0", requires=["alpha>=9", "beta ; sys_platform == 'win32'"]))
    satchel.run("install", "-p", venv, "--no-deps", "top")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}

    def pip(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "pip", "--python", f"{venv}/bin/python", *args, "--disable-pip-version-check"],
            capture_output=True, text=True, check=True, timeout=300, env=env,
        ).stdout  # fmt: skip

    for args in (
        ["list"],
        ["list", "--format", "json"],
        ["list", "-e"],
        ["list", "--editable", "--format", "json"],
        ["list", "--exclude-editable", "--exclude", "Gamma", "--exclude", "beta"],
        ["list", "--not-required"],
        ["list", "--not-required", "--format", "json", "--exclude", "top"],
        ["freeze", "--exclude-editable"],
        ["freeze", "--exclude-editable", "--exclude", "alpha"],
    ):
        ours = satchel.run(*args[:1], "-p", venv, *args[1:]).stdout
        assert ours == pip(*args), args
    assert str(project) in satchel.run("list", "-p", venv).stdout
    assert satchel.run("freeze", "-p", venv, "--exclude", "proj", "--exclude", "alpha").stdout == (
        "beta==1.0\ngamma==1.0\ntop==1.0\n"
    )
    leaves = satchel.run("list", "-p", venv, "--not-required", "--format", "json").stdout
    assert [row["name"] for row in json.loads(leaves)] == ["beta", "gamma", "proj", "top"]
    bad = satchel.run("list", "-p", venv, "--exclude", "not a name", check=False)
    assert_error(bad, "--exclude 'not a name': not a project name")
