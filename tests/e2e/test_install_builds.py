"""`satchel install` of things that must be built (issue 4), through the CLI against the local
index: sdist-only packages, setup.py-only directories, editable installs, git+file URLs, a C
extension per interpreter, config settings, no build isolation, and the clear errors for a failing
build, a backend without editable hooks and a build-dependency cycle.

Real backends (setuptools, hatchling, flit_core) come as wheels fetched once per session and
published on the local test index, so build requirements are resolved and installed by satchel
itself, like any other requirement. Fast cases use the in-tree backend of tests/support/builds.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.builds import (
    _c_project,
    backend_wheels_fixture,  # noqa: F401
    builds_in,
    events,
    intree_project,
    intree_sdist,
    setuptools_project,
)
from tests.support.builds import (
    git as _git,
)
from tests.support.cli import (
    Satchel,
    assert_error,
    installed_files_match_record,
    pyenv_python,
    run_python,
    site_packages,
)
from tests.support.fixtures import publish, publish_sdist
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


@pytest.fixture
def backends(index_server: IndexServer, backend_wheels: Path) -> IndexServer:
    """The local index, serving the real build backends' wheels (and their dependencies)."""
    publish(index_server, *sorted(backend_wheels.glob("*.whl")))
    return index_server


def built_wheels(cache: Path, name: str) -> list[Path]:
    base = cache / "built-v1" / name
    return sorted(base.rglob("*.whl")) if base.exists() else []


# -- sdists from the index -----------------------------------------------------------------------


def test_sdist_only_package_is_built_installed_and_reused(satchel: Satchel, backends: IndexServer) -> None:
    publish(backends, WheelSpec("dep", "2.0"))
    publish_sdist(backends, "srconly", "1.0", requires=["dep>=1"])
    venv = satchel.venv()
    first = satchel.run("install", "-p", venv, "srconly", "-v")
    assert " + srconly==1.0" in first.stderr and " + dep==2.0" in first.stderr, first
    assert len(builds_in(first.stderr)) == 1, first
    assert run_python(venv, "import srconly; print(srconly.__version__)") == "1.0"
    installed_files_match_record(venv, "srconly")
    # The build requirements were installed by satchel into a build environment, not the target.
    assert not list(site_packages(venv).glob("setuptools*")), list(site_packages(venv).iterdir())
    assert len(built_wheels(satchel.cache_dir, "srconly")) == 1

    # A fresh environment sharing the cache: no build at all, not even metadata preparation.
    again = satchel.venv("again")
    second = satchel.run("install", "-p", again, "srconly", "-v")
    assert builds_in(second.stderr) == [], second
    assert "calling " not in second.stderr, second
    assert run_python(again, "import srconly; print(srconly.__version__)") == "1.0"


def test_no_binary_builds_even_when_a_wheel_exists(satchel: Satchel, backends: IndexServer) -> None:
    publish(backends, WheelSpec("both", "1.0", files={"both/__init__.py": "KIND = 'wheel'\n"}))
    publish_sdist(backends, "both", "1.0", files={"both/__init__.py": "KIND = 'sdist'\n"})
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "both")
    assert run_python(venv, "import both; print(both.KIND)") == "wheel"
    other = satchel.venv("other")
    satchel.run("install", "-p", other, "--no-binary", "both", "both")
    assert run_python(other, "import both; print(both.KIND)") == "sdist"


# -- local directories and sdist files -----------------------------------------------------------


def test_setup_py_only_directory(satchel: Satchel, backends: IndexServer, tmp_path: Path) -> None:
    project = setuptools_project(tmp_path / "legacy", "legacy-proj", pyproject=False)
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, project)
    assert " + legacy-proj==1.0" in result.stderr, result
    assert run_python(venv, "import legacy_proj; print(legacy_proj.VALUE)") == "1"
    direct = json.loads(next(site_packages(venv).glob("legacy_proj-1.0.dist-info")).joinpath("direct_url.json").read_text())
    assert direct == {"url": project.as_uri(), "dir_info": {}}


def test_local_directory_is_rebuilt_only_when_it_changes(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    project = intree_project(tmp_path / "loc", "loc", events=str(log))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, f"loc @ {project.as_uri()}")
    assert len(events(log, "build_wheel")) == 1
    # Same project, unchanged: reinstalled (like pip) from the cached build.
    second = satchel.run("install", "-p", venv, f"loc @ {project.as_uri()}")
    assert " + loc==1.0" in second.stderr, second
    assert len(events(log, "build_wheel")) == 1
    # A changed source file is a new key: built again.
    (project / "extra.py").write_text("X = 1\n")
    satchel.run("install", "-p", venv, f"loc @ {project.as_uri()}")
    assert len(events(log, "build_wheel")) == 2


def test_local_sdist_file_and_its_direct_url(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    sdist = intree_sdist(tmp_path / "dist", "filesdist", "2.5")
    venv = satchel.venv()
    satchel.run("install", "-p", venv, sdist)
    assert run_python(venv, "import filesdist; print(filesdist.VERSION)") == "2.5"
    info = json.loads(next(site_packages(venv).glob("filesdist-2.5.dist-info")).joinpath("direct_url.json").read_text())
    assert info["url"] == sdist.as_uri() and info["archive_info"] == {}, info


def test_config_settings_reach_the_backend(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    project = intree_project(tmp_path / "cfg", "cfgproj")
    venv = satchel.venv()
    satchel.run("install", "-p", venv, project, "--config-settings", "mode=fast", "--config-settings", "x=1")
    assert run_python(venv, "import cfgproj; print(sorted(cfgproj.SETTINGS.items()))") == "[('mode', 'fast'), ('x', '1')]"
    bad = satchel.run("install", "-p", venv, project, "--config-settings", "novalue", check=False)
    assert_error(bad, "--config-settings 'novalue': expected KEY=VALUE")


def test_no_build_isolation_builds_in_the_target(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    record = tmp_path / "env.json"
    project = intree_project(tmp_path / "noiso", "noiso", record_env=str(record))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "--no-build-isolation", project)
    seen = json.loads(record.read_text())
    assert Path(seen["prefix"]).resolve() == venv.resolve(), seen["prefix"]
    assert not (satchel.cache_dir / "built-v1" / "_envs").exists()


# -- editable installs ---------------------------------------------------------------------------


def test_editable_setuptools_edits_show_without_reinstalling(satchel: Satchel, backends: IndexServer, tmp_path: Path) -> None:
    project = setuptools_project(
        tmp_path / "ed",
        "ed-proj",
        setup_py="from setuptools import setup\nsetup(name='ed-proj', version='1.0', packages=['ed_proj'])\n",
    )
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "-e", project)
    assert run_python(venv, "import ed_proj; print(ed_proj.VALUE)") == "1"
    (project / "ed_proj" / "__init__.py").write_text("VALUE = 2\n")
    assert run_python(venv, "import ed_proj; print(ed_proj.VALUE)") == "2"
    info = json.loads(next(site_packages(venv).glob("ed_proj-1.0.dist-info")).joinpath("direct_url.json").read_text())
    assert info == {"url": project.as_uri(), "dir_info": {"editable": True}}
    frozen = satchel.run("freeze", "-p", venv).stdout
    assert f"-e {project.as_uri()}" in frozen, frozen


def test_editable_hatchling(satchel: Satchel, backends: IndexServer, tmp_path: Path) -> None:
    project = tmp_path / "hatch"
    (project / "src" / "hatchy").mkdir(parents=True)
    (project / "src" / "hatchy" / "__init__.py").write_text("VALUE = 'a'\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "hatchy"\nversion = "0.3"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/hatchy"]\n'
    )
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "-e", project)
    (project / "src" / "hatchy" / "__init__.py").write_text("VALUE = 'b'\n")
    assert run_python(venv, "import hatchy; print(hatchy.VALUE)") == "b"


def test_editable_without_pep660_hooks_is_a_clear_error(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    project = intree_project(tmp_path / "noed", "noed")  # no build_editable hook
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "-e", project, check=False)
    assert_error(result, "noed", "does not support editable installs", "PEP 660")
    assert "hint:" in result.stderr
    assert not list(site_packages(venv).glob("noed*"))


# -- git -----------------------------------------------------------------------------------------




@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_file_url_pinned_to_a_commit(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    repo = intree_project(tmp_path / "repo", "gitpkg", "1.0")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "backend.json").write_text(json.dumps({"name": "gitpkg", "version": "2.0"}))
    _git(repo, "commit", "-q", "-am", "two")

    venv = satchel.venv()
    url = f"git+{repo.as_uri()}@{first}"
    result = satchel.run("install", "-p", venv, f"gitpkg @ {url}")
    assert " + gitpkg==1.0" in result.stderr, result
    info = json.loads(next(site_packages(venv).glob("gitpkg-1.0.dist-info")).joinpath("direct_url.json").read_text())
    assert info == {"url": repo.as_uri(), "vcs_info": {"vcs": "git", "commit_id": first, "requested_revision": first}}
    # The same commit again: already installed, nothing to do.
    assert "Nothing to do" in satchel.run("install", "-p", venv, f"gitpkg @ {url}").stderr
    # The branch: its newest commit.
    newer = satchel.run("install", "-p", venv, f"gitpkg @ git+{repo.as_uri()}@main")
    assert " + gitpkg==2.0" in newer.stderr and " - gitpkg==1.0" in newer.stderr, newer


# -- a C extension per interpreter ---------------------------------------------------------------


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None, reason="no C compiler")
def test_c_extension_reused_for_the_same_python_rebuilt_for_another(
    satchel: Satchel, backends: IndexServer, tmp_path: Path
) -> None:
    py311, py312 = pyenv_python("3.11"), pyenv_python("3.12")
    if py311 is None or py312 is None:
        pytest.skip("needs pyenv CPython 3.11 and 3.12")
    project = _c_project(tmp_path / "cext")
    first = satchel.run("install", "-p", satchel.venv("a", py311), project, "-v")
    assert len(builds_in(first.stderr)) == 1, first
    second = satchel.run("install", "-p", satchel.venv("b", py311), project, "-v")
    assert builds_in(second.stderr) == [], second
    third = satchel.run("install", "-p", satchel.venv("c", py312), project, "-v")
    assert len(builds_in(third.stderr)) == 1, third
    for name in ("a", "b", "c"):
        assert run_python(tmp_path / name, "from cext_demo import _speed; print(_speed.answer())") == "42"
    tags = sorted(p.name.split("-")[2] for p in built_wheels(satchel.cache_dir, "cext-demo"))
    assert tags == ["cp311", "cp312"], tags


# -- failures ------------------------------------------------------------------------------------


def test_failing_build_names_package_backend_hook_and_log(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    project = intree_project(tmp_path / "boom", "boom", fail=True)
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, project, check=False)
    line = assert_error(result, "boom", "intree_backend", "build_wheel", "the build went boom", "compiling step 39")
    assert "compiling step 0\n" not in result.stderr, "only the last lines of the output are shown"
    logs = [word for word in result.stderr.split() if word.endswith(".log")]
    assert logs and Path(logs[0].rstrip(".,:)")).is_file(), result
    assert "compiling step 0" in Path(logs[0].rstrip(".,:)")).read_text()
    assert line.startswith("error:")
    # Nothing partial in the cache, nothing installed.
    assert built_wheels(satchel.cache_dir, "boom") == []
    assert not [p for p in (satchel.cache_dir / "built-v1").rglob(".tmp-*")]
    assert not list(site_packages(venv).glob("boom*"))


def test_build_dependency_cycle_is_a_clear_error(satchel: Satchel, index_server: IndexServer) -> None:
    intree_sdist(index_server.directory, "cyc-a", requires=["cyc-b"])
    intree_sdist(index_server.directory, "cyc-b", requires=["cyc-a"])
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "cyc-a", check=False, timeout=120)
    assert_error(result, "build dependency cycle", "cyc-a", "cyc-b")
    assert "hint:" in result.stderr


def test_build_requirements_prefer_wheels(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    # helper 2.0 exists only as an sdist whose build would fail; 1.0 has a wheel: the build
    # environment gets the wheel, although 2.0 is newer.
    publish(index_server, WheelSpec("bhelper", "1.0"))
    intree_sdist(index_server.directory, "bhelper", "2.0", fail=True)
    project = intree_project(tmp_path / "needs", "needs", requires=["bhelper"])
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, project)
    assert " + needs==1.0" in result.stderr, result


def test_sdist_from_the_index_whose_metadata_lies_is_refused(satchel: Satchel, index_server: IndexServer) -> None:
    # The file name says 1.0; the project inside says 3.0.
    sdist = intree_sdist(index_server.directory / "tmp", "liar", "3.0")
    sdist.rename(index_server.directory / "liar-1.0.tar.gz")
    result = satchel.run("install", "-p", satchel.venv(), "liar", check=False)
    assert_error(result, "liar-1.0.tar.gz", "3.0")


def test_parallel_builds_of_independent_sdists(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    # Each build waits until both have started: built one at a time, the first would give up.
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    for name in ("par-a", "par-b"):
        intree_sdist(index_server.directory, name, rendezvous=str(meeting), peers=2)
    result = satchel.run("install", "-p", satchel.venv(), "par-a", "par-b")
    assert " + par-a==1.0" in result.stderr and " + par-b==1.0" in result.stderr, result
    assert sorted(p.name for p in meeting.iterdir()) == ["par-a", "par-b"]


def test_two_processes_building_the_same_sdist_build_it_once(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    intree_sdist(index_server.directory, "shared-build", events=str(log), sleep=2)
    venvs = [satchel.venv("one"), satchel.venv("two")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "satchel", "install", "-p", str(venv), "shared-build"],
            env=satchel.base_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for venv in venvs
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(events(log, "build_wheel")) == 1, events(log)
    assert len(events(log, "prepare_metadata")) == 1, events(log)
    for venv in venvs:
        assert run_python(venv, "import shared_build; print(shared_build.VERSION)") == "1.0"
