"""`-b/--build-constraint FILE` and `--no-build-isolation-package NAME` end to end: what the
build environments get, and which builds run in the target (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.builds import intree_sdist
from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _helper_versions(record: Path) -> set[str]:
    """Versions of `helper` visible to the build (from the build's sys.path)."""
    found = set()
    for entry in json.loads(record.read_text())["path"]:
        for info in Path(entry).glob("helper-*.dist-info") if Path(entry).is_dir() else []:
            found.add(info.name[len("helper-") : -len(".dist-info")])
    return found


def test_build_constraint(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish(index_server, WheelSpec("helper", "1.0"), WheelSpec("helper", "2.0"))
    intree_sdist(index_server.directory, "proj", "1.0", requires=["helper"], record_env=str(tmp_path / "proj.json"))
    intree_sdist(index_server.directory, "other", "1.0", requires=["helper"], record_env=str(tmp_path / "other.json"))
    constraints = tmp_path / "build-constraints.txt"
    constraints.write_text("helper<2  # the build needs the old one\n")
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "-b", constraints, "proj")
    assert _helper_versions(tmp_path / "proj.json") == {"1.0"}
    # Build constraints do not constrain what is installed, only build environments.
    satchel.run("install", "-p", venv, "-b", constraints, "helper")
    assert "helper==2.0" in satchel.run("freeze", "-p", venv).stdout
    # Without them the same build requirements get the newest: another environment, not the
    # constrained one from the cache.
    satchel.run("install", "-p", venv, "other")
    assert _helper_versions(tmp_path / "other.json") == {"2.0"}
    # The long spelling, and a constraint that cannot hold is the build's error.
    bad = tmp_path / "bad.txt"
    bad.write_text("helper>5\n")
    intree_sdist(index_server.directory, "third", "1.0", requires=["helper"])
    result = satchel.run("install", "-p", venv, "--build-constraint", bad, "third", check=False)
    assert result.returncode == 1 and "helper" in result.stderr
    missing = satchel.run("install", "-p", venv, "-b", tmp_path / "nope.txt", "third", check=False)
    assert_error(missing, "nope.txt")


def test_a_wheel_built_under_build_constraints_is_not_reused_without_them(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    """The built-wheel cache keys isolated builds by their build constraints: the same sdist
    built with `-b` (helper<2) and then without it is built twice, and again with the same
    constraints is taken from the cache."""
    publish(index_server, WheelSpec("helper", "1.0"), WheelSpec("helper", "2.0"))
    record = tmp_path / "proj.json"
    intree_sdist(index_server.directory, "proj", "1.0", requires=["helper"], record_env=str(record))
    constraints = tmp_path / "build-constraints.txt"
    constraints.write_text("helper<2\n")
    satchel.run("install", "-p", satchel.venv(), "-b", constraints, "proj")
    assert _helper_versions(record) == {"1.0"}
    record.unlink()
    satchel.run("install", "-p", satchel.venv(), "proj")
    assert _helper_versions(record) == {"2.0"}  # built again, in an environment without the pin
    record.unlink()
    satchel.run("install", "-p", satchel.venv(), "-b", constraints, "proj")
    satchel.run("install", "-p", satchel.venv(), "proj")
    assert not record.exists()  # both builds were in the cache


def test_no_build_isolation_package(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    intree_sdist(index_server.directory, "inplace", "1.0", record_env=str(tmp_path / "inplace.json"))
    intree_sdist(index_server.directory, "isolated", "1.0", record_env=str(tmp_path / "isolated.json"))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "--no-build-isolation-package", "InPlace", "inplace", "isolated")
    inplace = json.loads((tmp_path / "inplace.json").read_text())
    isolated = json.loads((tmp_path / "isolated.json").read_text())
    assert Path(inplace["prefix"]) == venv
    assert Path(isolated["prefix"]) != venv and "_envs" in isolated["prefix"]
