"""`satchel install --report FILE` / `--dry-run --report -`: pip's installation report, checked
against the fields pip documents ("Installation Report", version 1) and against the report of
the pinned pip in the test venv for the same requirements (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.builds import intree_sdist
from tests.support.cli import Satchel, assert_error, run_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

ITEM_FIELDS = {"download_info", "is_direct", "is_yanked", "requested", "metadata"}
ENVIRONMENT = {
    "implementation_name", "implementation_version", "os_name", "platform_machine",
    "platform_release", "platform_system", "platform_version", "python_full_version",
    "platform_python_implementation", "python_version", "sys_platform",
}  # fmt: skip


def _publish(index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta>=1"], extras={"fast": ["gamma"]}, requires_python=">=3.8"),
        WheelSpec("beta", "1.0"),
        WheelSpec("beta", "2.0"),
        WheelSpec("gamma", "1.0"),
    )
    index_server.yank("beta-2.0-py3-none-any.whl", "broken")
    intree_sdist(index_server.directory, "delta", "1.0")


def _check_documented(report: dict[str, Any], markers: dict[str, str]) -> None:
    assert report["version"] == "1"
    assert isinstance(report["pip_version"], str) and report["pip_version"]
    assert set(report["environment"]) == ENVIRONMENT
    assert report["environment"] == {k: markers[k] for k in ENVIRONMENT}
    for item in report["install"]:
        assert ITEM_FIELDS <= set(item) <= ITEM_FIELDS | {"requested_extras"}
        assert isinstance(item["is_direct"], bool) and isinstance(item["is_yanked"], bool)
        assert isinstance(item["requested"], bool)
        info = item["download_info"]
        assert isinstance(info["url"], str)
        assert {"archive_info", "dir_info", "vcs_info"} & set(info)
        meta = item["metadata"]
        assert {"metadata_version", "name", "version"} <= set(meta)


def test_report_fields_and_dry_run_to_stdout(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    venv = satchel.venv()
    dry = satchel.run("install", "-p", venv, "--dry-run", "--report", "-", "alpha[fast]==1.0", "beta==2.0", "delta")
    report = json.loads(dry.stdout)  # nothing but the report on stdout
    assert "Would install 4 packages" in dry.stderr
    env_markers = json.loads(run_python(venv, _MARKERS))
    _check_documented(report, env_markers)
    items = {i["metadata"]["name"]: i for i in report["install"]}
    assert set(items) == {"alpha", "beta", "gamma", "delta"}
    alpha = items["alpha"]
    assert alpha["requested"] is True and alpha["is_direct"] is False and alpha["is_yanked"] is False
    assert alpha["requested_extras"] == ["fast"]
    assert alpha["metadata"]["requires_dist"] == ["beta>=1", 'gamma ; extra == "fast"']
    assert alpha["metadata"]["provides_extra"] == ["fast"]
    assert alpha["metadata"]["requires_python"] == ">=3.8"
    sha = index_server.sha256("alpha-1.0-py3-none-any.whl")
    assert alpha["download_info"] == {
        "url": index_server.file_url("alpha-1.0-py3-none-any.whl"),
        "archive_info": {"hash": f"sha256={sha}", "hashes": {"sha256": sha}},
    }
    assert items["beta"]["is_yanked"] is True  # pinned exactly: a yanked file may be used
    assert items["gamma"]["requested"] is False and "requested_extras" not in items["gamma"]
    assert items["delta"]["download_info"]["url"].endswith("delta-1.0.tar.gz")
    assert run_python(venv, "import importlib.util as u; print(u.find_spec('alpha'))") == "None"  # dry run

    # A real install writes the same items to a file.
    out = tmp_path / "report.json"
    satchel.run("install", "-p", venv, "--report", out, "alpha[fast]==1.0", "beta==2.0", "delta")
    written = json.loads(out.read_text())
    assert written["install"] == report["install"]
    # Installed already: an empty install list (the report is still written).
    again = satchel.run("install", "-p", venv, "--report", "-", "alpha==1.0")
    assert json.loads(again.stdout)["install"] == []
    # An unwritable destination is a one-line error.
    bad = satchel.run("install", "-p", venv, "--report", tmp_path / "no" / "such" / "r.json", "gamma", check=False)
    assert_error(bad, "cannot write the report")


def test_report_that_cannot_be_written_leaves_no_temp_file(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    """A report aimed at a directory (or at ".") is a one-line error, and the temp file it was
    written to first does not stay beside it."""
    publish(index_server, WheelSpec("alpha", "1.0"))
    venv = satchel.venv()
    rep = tmp_path / "rep"
    (rep / "sub").mkdir(parents=True)
    (rep / "sub" / "keep.txt").write_text("mine")
    before = sorted(rep.rglob("*"))
    bad = satchel.run("install", "-p", venv, "--dry-run", "--report", rep / "sub", "alpha", check=False)
    assert_error(bad, f"cannot write the report to {rep / 'sub'}")
    assert list(tmp_path.rglob("*.satchel-tmp")) == []
    bad = satchel.run("install", "-p", venv, "--dry-run", "--report", ".", "alpha", check=False, cwd=rep)
    assert_error(bad, "cannot write the report to .: Is a directory")
    assert sorted(rep.rglob("*")) == before
    assert (rep / "sub" / "keep.txt").read_text() == "mine"
    # A real install, whose report fails after the install: no temp file either.
    bad = satchel.run("install", "-p", venv, "--report", rep / "sub", "alpha", check=False)
    assert_error(bad, "cannot write the report")
    assert list(tmp_path.rglob("*.satchel-tmp")) == []


_MARKERS = """
import json, os, platform, sys
v = sys.implementation.version
impl = f"{v.major}.{v.minor}.{v.micro}" + ("" if v.releaselevel == "final" else v.releaselevel[0] + str(v.serial))
print(json.dumps({
    "implementation_name": sys.implementation.name, "implementation_version": impl,
    "os_name": os.name, "platform_machine": platform.machine(), "platform_release": platform.release(),
    "platform_system": platform.system(), "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]), "sys_platform": sys.platform,
}))
"""


def test_report_same_items_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """pip 26.3 (the test venv's) and satchel report the same items for the same requirements
    into an empty environment of the same interpreter."""
    _publish(index_server)
    venv = satchel.venv(python=sys.executable)
    requirements = ["alpha[fast]==1.0", "beta==2.0"]
    ours = json.loads(satchel.run("install", "-p", venv, "--dry-run", "--report", "-", *requirements).stdout)
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-",
         "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check", *requirements],
        capture_output=True, text=True, check=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
    )  # fmt: skip
    theirs = json.loads(pip.stdout)
    assert ours["version"] == theirs["version"] == "1"
    assert ours["environment"] == theirs["environment"]

    def by_name(report: dict[str, Any]) -> dict[str, Any]:
        return {i["metadata"]["name"]: i for i in report["install"]}

    assert by_name(ours) == by_name(theirs)


def test_report_direct_references_same_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """A wheel file, a local sdist and a project directory: the same download_info (PEP 610,
    with the archive's sha256 computed for local files) and metadata as pip reports."""
    import tarfile

    from tests.support.wheels import build_wheel

    wheel = build_wheel(WheelSpec("w", "1.0"), tmp_path / "direct")
    sdist = intree_sdist(tmp_path / "sd", "proj", "1.0")
    with tarfile.open(sdist) as tf:
        tf.extractall(tmp_path / "src")
    venv = satchel.venv(python=sys.executable)
    for requirement in (str(wheel), str(sdist), str(tmp_path / "src" / "proj-1.0")):
        ours = json.loads(satchel.run("install", "-p", venv, "--dry-run", "--report", "-", requirement).stdout)
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-",
             "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check", requirement],
            capture_output=True, text=True, check=True, timeout=300,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
        )  # fmt: skip
        assert ours["install"] == json.loads(pip.stdout)["install"], requirement
