"""`satchel install -r pyproject.toml` (with `--extra`/`--all-extras`, as uv has them) and
`satchel install --group [PATH:]NAME` (PEP 735 dependency groups, as pip 25.1 and uv have them),
through the CLI against the local index: the project's requirements are installed, the project
itself is not; dynamic dependencies come from the build backend; a second run has nothing to do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.builds import intree_project
from tests.support.cli import REPO, Result, Satchel, assert_error, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

FAST = "all requirements already satisfied by the installed packages"

PYPROJECT = """\
[project]
name = "my-app"
version = "1.0"
requires-python = ">=3.8"
dependencies = ["alpha", "never ; sys_platform == 'nonesuch'"]

[project.optional-dependencies]
test = ["delta"]
all = ["my-app[test]", "eps"]

[dependency-groups]
lint = ["zeta"]
Dev = [{include-group = "lint"}, "eta>=1"]
"""


def installed(venv: Path) -> set[str]:
    return {info.name.split("-")[0] for info in site_packages(venv).glob("*.dist-info")}


def added(result: Result) -> set[str]:
    return set(re.findall(r"^ \+ ([\w.-]+)==", result.stderr, flags=re.MULTILINE))


def timeless(result: Result) -> str:
    return re.sub(r" in \d+(\.\d+)?m?s$", " in T", result.stderr, flags=re.MULTILINE)


def publish_all(index: IndexServer) -> None:
    publish(
        index,
        WheelSpec("alpha", "1.0", requires=["beta"]),
        *(WheelSpec(n, "1.0") for n in ["beta", "delta", "eps", "zeta", "eta", "theta"]),
    )


def test_pyproject_dependencies_then_nothing_to_do(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish_all(index_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = satchel.venv()
    first = satchel.run("install", "-p", venv, "-r", "pyproject.toml")
    assert added(first) == {"alpha", "beta"}  # not the project itself, not the marker-false one
    assert installed(venv) == {"alpha", "beta"}

    index_server.reset_log()
    again = satchel.run("install", "-v", "-p", venv, "-r", "pyproject.toml")
    assert FAST in again.stderr  # answered by the no-op path: no index, no resolver
    assert "Nothing to do: 2 packages already installed" in again.stderr
    assert not added(again)
    assert index_server.count() == 0, index_server.paths()
    full = satchel.run("install", "-p", venv, "-r", "pyproject.toml", env={"SATCHEL_NO_FAST_PATH": "1"})
    fast = satchel.run("install", "-p", venv, "-r", "pyproject.toml")
    assert timeless(full) == timeless(fast) == f"Resolved 2 packages in T\nNothing to do: 2 packages already installed in {venv}\n"

    # A changed pyproject.toml is not "nothing to do": the no-op path models it exactly.
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.replace('"alpha",', '"alpha", "theta",'))
    changed = satchel.run("install", "-v", "-p", venv, "-r", "pyproject.toml")
    assert FAST not in changed.stderr
    assert added(changed) == {"theta"}


def test_extras_of_the_project(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish_all(index_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "-r", "pyproject.toml", "--extra", "test")
    assert installed(venv) == {"alpha", "beta", "delta"}
    # "all" names the project's own extra "test" (my-app[test]): followed, my-app not installed
    other = satchel.venv("other")
    result = satchel.run("install", "-p", other, "-r", "pyproject.toml", "--extra", "all")
    assert added(result) == {"alpha", "beta", "delta", "eps"}
    everything = satchel.venv("everything")
    satchel.run("install", "-p", everything, "-r", "pyproject.toml", "--all-extras")
    assert installed(everything) == {"alpha", "beta", "delta", "eps"}
    # the no-op path with extras: nothing to do, nothing asked of the index
    index_server.reset_log()
    again = satchel.run("install", "-v", "-p", other, "-r", "pyproject.toml", "--extra", "all")
    assert FAST in again.stderr and not added(again)
    assert index_server.count() == 0, index_server.paths()


def test_group_with_include_group(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish_all(index_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    venv = satchel.venv()
    # --group alone installs the group only (as pip's --group), names normalized (PEP 735)
    result = satchel.run("install", "-p", venv, "--group", "dev")
    assert added(result) == {"zeta", "eta"}
    assert installed(venv) == {"zeta", "eta"}
    both = satchel.run("install", "-p", venv, "-r", "pyproject.toml", "--group", "DEV", "--group", "lint")
    assert added(both) == {"alpha", "beta"}

    index_server.reset_log()
    again = satchel.run("install", "-v", "-p", venv, "--group", "dev", "-r", "pyproject.toml")
    assert FAST in again.stderr and "Nothing to do: 4 packages" in again.stderr
    assert index_server.count() == 0, index_server.paths()

    err = satchel.run("install", "-p", venv, "--group", "docs", check=False)
    assert_error(err, "pyproject.toml: no dependency group 'docs'", "hint: its groups ([dependency-groups]): Dev, lint")


def test_group_of_a_pyproject_elsewhere(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish_all(index_server)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    work = tmp_path / "work"
    work.mkdir()
    (work / "pyproject.toml").write_text('[dependency-groups]\nmine = ["theta"]\n')
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "--group", "../proj/pyproject.toml:lint", "--group", "mine", cwd=work)
    assert added(result) == {"zeta", "theta"}
    absolute = satchel.venv("absolute")
    satchel.run("install", "-p", absolute, "--group", f"{project / 'pyproject.toml'}:dev", cwd=work)
    assert installed(absolute) == {"zeta", "eta"}
    # a path inside the group is relative to that pyproject.toml's directory, not the cwd
    wheel = build_wheel(WheelSpec("local-only", "2.0"), project / "wheels")
    (project / "pyproject.toml").write_text(PYPROJECT + f'local = ["./wheels/{wheel.name}"]\n')
    local = satchel.run("install", "-p", venv, "--group", "../proj/pyproject.toml:local", cwd=work)
    assert added(local) == {"local-only"}
    err = satchel.run("install", "-p", venv, "--group", "../proj/pyproject.toml:docs", cwd=work, check=False)
    assert_error(err, "../proj/pyproject.toml: no dependency group 'docs'")
    err = satchel.run("install", "-p", venv, "--group", "../nowhere/pyproject.toml:dev", cwd=work, check=False)
    assert_error(err, "../nowhere/pyproject.toml: no such file")
    assert installed(venv) == {"zeta", "theta", "local_only"}  # errors change nothing


def test_dynamic_dependencies_from_the_build_backend(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish_all(index_server)
    project = intree_project(
        tmp_path / "proj",
        "dyn-proj",
        requires_dist=["alpha", 'delta ; extra == "test"', 'eps ; extra == "other"'],
    )
    with open(project / "pyproject.toml", "a") as fh:
        fh.write('\n[project]\nname = "dyn-proj"\ndynamic = ["version", "dependencies", "optional-dependencies"]\n')
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "-r", "proj/pyproject.toml", "--extra", "test")
    assert added(result) == {"alpha", "beta", "delta"}  # dyn-proj itself is not installed
    assert installed(venv) == {"alpha", "beta", "delta"}
    # Dynamic metadata is the backend's: the no-op path steps aside, the full install has nothing to do.
    again = satchel.run("install", "-v", "-p", venv, "-r", "proj/pyproject.toml", "--extra", "test")
    assert FAST not in again.stderr
    assert "Nothing to do: 3 packages already installed" in again.stderr and not added(again)
    every = satchel.venv("every")
    satchel.run("install", "-p", every, "-r", "proj/pyproject.toml", "--all-extras")
    assert installed(every) == {"alpha", "beta", "delta", "eps"}
    err = satchel.run("install", "-p", venv, "-r", "proj/pyproject.toml", "--extra", "docs", check=False)
    assert_error(err, "proj/pyproject.toml: the project has no extra 'docs'", "hint: its extras (from the build backend's metadata): other, test")


def test_project_without_dependencies(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "bare"\nversion = "1"\n')
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "-r", "pyproject.toml")
    assert "Nothing to do: 0 packages" in result.stderr
    assert installed(venv) == set()


def test_extra_and_group_choose_from_a_pylock(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """The same flags select from a pylock.toml (`install -r pylock.toml`, as uv's)."""
    publish_all(index_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    satchel.run("compile", "pyproject.toml", "--extra", "test", "--group", "lint", "-o", "pylock.toml")
    venv = satchel.venv()
    plain = satchel.run("install", "-p", venv, "-r", "pylock.toml", "--group", "lint")
    assert added(plain) == {"alpha", "beta", "zeta"}
    extra = satchel.run("install", "-p", venv, "-r", "pylock.toml", "--extra", "test", "--group", "lint")
    assert added(extra) == {"delta"}
    err = satchel.run("install", "-p", venv, "-r", "pylock.toml", "--extra", "docs", check=False)
    assert_error(err, "pylock.toml", "docs")


UV = REPO / ".venv-test" / "bin" / "uv"

ARG_SETS = [
    ("-r", "pyproject.toml"),
    ("-r", "pyproject.toml", "--extra", "all"),
    ("-r", "pyproject.toml", "--all-extras"),
    ("--group", "Dev"),
    ("-r", "pyproject.toml", "--group", "lint"),
    ("--group", "other/pyproject.toml:misc", "--group", "lint"),
]


@pytest.mark.skipif(not UV.exists(), reason="uv (the test extra) is not installed")
def test_the_same_packages_as_uv(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """Differential: `uv pip install` with the same flags installs the same set."""
    publish_all(index_server)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "pyproject.toml").write_text('[dependency-groups]\nmisc = ["theta"]\n')
    for number, args in enumerate(ARG_SETS):
        ours = satchel.venv(f"ours{number}", python=sys.executable)
        satchel.run("install", "-p", ours, *args)
        theirs = satchel.venv(f"theirs{number}", python=sys.executable)
        proc = subprocess.run(
            [str(UV), "pip", "install", "--python", str(theirs / "bin" / "python"), *args,
             "--index-url", index_server.index_url, "--no-cache"],
            capture_output=True, text=True, cwd=tmp_path, timeout=120,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"},
        )  # fmt: skip
        assert proc.returncode == 0, (args, proc.stderr)
        assert installed(ours) == installed(theirs), args
        assert installed(ours), args
