"""`satchel sync pylock.toml`: PEP 751's installer rules (CLI in a subprocess, a real venv, the
local index; lock files written by hand, and by uv)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.builds import git as _git
from tests.support.builds import intree_project, intree_sdist
from tests.support.cli import Satchel, assert_error, run_python, site_packages, venv_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.locks import file_entry, installed, render_pylock, snapshot
from tests.support.wheels import WheelSpec

UV = Path(sys.executable).parent / "uv"


@pytest.fixture
def wheels(index_server: IndexServer) -> dict[str, Path]:
    files = publish(
        index_server,
        WheelSpec("app", "1.0"),
        WheelSpec("devtool", "1.0"),
        WheelSpec("clitool", "1.0"),
        WheelSpec("winonly", "1.0"),
        WheelSpec("native", "1.0", tag="cp311-cp311-win_amd64"),
    )
    return {f.name.split("-")[0]: f for f in files}


def selection_lock(server: IndexServer, wheels: dict[str, Path]) -> str:
    def pkg(name: str, **extra: object) -> dict[str, object]:
        return {"name": name, "version": "1.0", **extra, "wheels": [file_entry(server, wheels[name])]}

    return render_pylock(
        [
            pkg("app"),
            pkg("devtool", marker="'dev' in dependency_groups"),
            pkg("clitool", marker="'cli' in extras"),
            pkg("winonly", marker="sys_platform == 'win32'"),
        ],
        extras=["cli"],
        dependency_groups=["dev", "docs"],
        default_groups=["dev"],
    )


def test_pylock_markers_extras_and_groups_select_packages(
    satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path]
) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(selection_lock(index_server, wheels))
    # Default: the default group (dev), no extra; winonly's marker is false here.
    satchel.run("sync", "-p", venv, lock)
    assert installed(venv) == {"app": "1.0", "devtool": "1.0"}
    # An extra adds its packages; without the default groups, devtool goes.
    result = satchel.run("sync", "-p", venv, lock, "--extra", "cli", "--no-default-groups")
    assert installed(venv) == {"app": "1.0", "clitool": "1.0"}, result
    assert " - devtool==1.0" in result.stderr and " + clitool==1.0" in result.stderr, result
    # Groups named on the command line replace the default ones (as with uv and packaging).
    satchel.run("sync", "-p", venv, lock, "--group", "docs")
    assert installed(venv) == {"app": "1.0"}
    satchel.run("sync", "-p", venv, lock, "--group", "docs", "--group", "dev")
    assert installed(venv) == {"app": "1.0", "devtool": "1.0"}
    unknown = satchel.run("sync", "-p", venv, lock, "--extra", "gui", check=False)
    assert_error(unknown, "pylock.toml: the lock has no extra 'gui' (it has: cli)", "hint: pick an extra the lock was made with")


def test_pylock_group_named_with_its_path(
    satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path]
) -> None:
    """``--group PATH:NAME`` (uv's and pip's spelling) selects from the lock at PATH, which
    must be one of the locks given; a pyproject.toml's group is not part of a lock."""
    venv = satchel.venv()
    locks = satchel.tmp / "locks"
    locks.mkdir()
    lock = locks / "pylock.toml"
    lock.write_text(selection_lock(index_server, wheels))
    other = locks / "pylock.other.toml"
    other.write_text(
        render_pylock(
            [{"name": "winonly", "version": "1.0", "marker": "sys_platform == 'win32'",
              "wheels": [file_entry(index_server, wheels["winonly"])]}],
            dependency_groups=["docs"],
        )
    )  # fmt: skip
    (satchel.tmp / "pyproject.toml").write_text('[dependency-groups]\ndocs = ["clitool"]\n')
    result = satchel.run("install", "-p", venv, "-r", lock, "-r", other, "--group", f"{lock}:docs")
    assert installed(venv) == {"app": "1.0"}, result  # docs replaced dev for that lock only
    assert "Installed 1 package in" in result.stderr, result
    satchel.run("sync", "-p", venv, lock, "--group", "locks/pylock.toml:dev")
    assert installed(venv) == {"app": "1.0", "devtool": "1.0"}
    wrong = satchel.run("install", "-p", venv, "-r", lock, "--group", "pyproject.toml:docs", check=False)
    line = assert_error(wrong, "hint:", "--group pylock.toml:NAME")
    assert line == (
        f"error: --group pyproject.toml:docs: pyproject.toml is not one of the pylock files given ({lock})"
    )
    assert installed(venv) == {"app": "1.0", "devtool": "1.0"}


def test_pylock_wheel_chosen_by_tags_from_the_listed_files_only(
    satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path]
) -> None:
    # The index has a wheel for this interpreter too, but the lock lists only the Windows one.
    publish(index_server, WheelSpec("native", "1.0"))
    venv = satchel.venv()
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(
        render_pylock([{"name": "native", "version": "1.0", "wheels": [file_entry(index_server, wheels["native"])]}])
    )
    result = satchel.run("sync", "-p", venv, lock, check=False)
    assert_error(result, "pylock.toml", "No wheel found matching the provided tags", "native")
    assert installed(venv) == {}


def test_pylock_sdist_only_entry_is_built(satchel: Satchel, index_server: IndexServer) -> None:
    sdist = intree_sdist(index_server.directory, "srconly", "1.0")
    venv = satchel.venv()
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(render_pylock([{"name": "srconly", "version": "1.0", "sdist": file_entry(index_server, sdist)}]))
    result = satchel.run("sync", "-p", venv, lock)
    assert " + srconly==1.0" in result.stderr, result
    assert installed(venv) == {"srconly": "1.0"}


def test_pylock_path_before_url(satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path]) -> None:
    """A file's ``path`` (relative to the lock) is used before its ``url``: here the URL is
    dead, the path is good."""
    venv = satchel.venv()
    locks = satchel.tmp / "locks"
    (locks / "wheels").mkdir(parents=True)
    local = locks / "wheels" / wheels["app"].name
    local.write_bytes(wheels["app"].read_bytes())
    entry = file_entry(index_server, wheels["app"], url=index_server.url + "/gone/" + local.name)
    entry["path"] = f"wheels/{local.name}"
    lock = locks / "pylock.toml"
    lock.write_text(render_pylock([{"name": "app", "version": "1.0", "wheels": [entry]}]))
    satchel.run("sync", "-p", venv, lock, "--no-index")
    assert installed(venv) == {"app": "1.0"}
    assert not any("/gone/" in p for p in index_server.paths()), index_server.paths()


def test_pylock_directory_and_archive_entries(satchel: Satchel, index_server: IndexServer) -> None:
    sdist = intree_sdist(satchel.tmp / "dist", "fromarchive", "2.0")
    project = satchel.tmp / "proj"
    project.mkdir()
    import tarfile

    with tarfile.open(intree_sdist(satchel.tmp / "dist2", "fromdir", "3.0")) as tf:
        tf.extractall(project, filter="data")
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(
        render_pylock(
            [
                {"name": "fromarchive", "archive": {"path": "dist/" + sdist.name, "hashes": {"sha256": digest}}},
                {"name": "fromdir", "directory": {"path": "proj/fromdir-3.0"}},
            ]
        )
    )
    venv = satchel.venv()
    result = satchel.run("sync", "-p", venv, lock, "--no-index")
    assert installed(venv) == {"fromarchive": "2.0", "fromdir": "3.0"}, result
    wrong = satchel.tmp / "pylock.wrong.toml"
    wrong.write_text(lock.read_text().replace(digest, "0" * 64))
    before = snapshot(venv)
    bad = satchel.run("sync", "-p", venv, wrong, "--no-index", check=False)
    assert_error(bad, "pylock.wrong.toml, packages[0]", "0" * 64, digest)
    assert snapshot(venv) == before


@pytest.mark.parametrize(
    ("top", "needle"),
    [
        ({"lock_version": "2.0"}, "lock-version 2.0 is not supported"),
        ({"requires_python": ">=4"}, "the lock requires Python >=4"),
        ({"environments": ["sys_platform == 'win32'"]}, "matches none of the lock's environments"),
    ],
)
def test_pylock_lock_level_errors(
    satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path], top: dict[str, object], needle: str
) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "pylock.toml"
    pkg = {"name": "app", "version": "1.0", "wheels": [file_entry(index_server, wheels["app"])]}
    lock.write_text(render_pylock([pkg], **top))
    result = satchel.run("sync", "-p", venv, lock, check=False)
    assert_error(result, "pylock.toml: ", needle, "hint:")
    assert installed(venv) == {}


def test_pylock_with_bom_and_uppercase_digest_syncs(
    satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path]
) -> None:
    """A leading UTF-8 BOM is accepted (as in requirements files), and an uppercase digest is
    read as the same digest (as ``--hash`` reads one)."""
    venv = satchel.venv()
    entry = file_entry(index_server, wheels["app"])
    entry["hashes"] = {"sha256": entry["hashes"]["sha256"].upper()}
    lock = satchel.tmp / "pylock.toml"
    lock.write_bytes(b"\xef\xbb\xbf" + render_pylock([{"name": "app", "version": "1.0", "wheels": [entry]}]).encode())
    satchel.run("sync", "-p", venv, lock)
    assert installed(venv) == {"app": "1.0"}


def test_pylock_written_by_uv_syncs(satchel: Satchel, index_server: IndexServer) -> None:
    """Interop: `uv pip compile --format pylock.toml` against the local index, synced by satchel."""
    publish(
        index_server,
        WheelSpec("top", "1.0", requires=["mid>=1", "winonly; sys_platform == 'win32'"]),
        WheelSpec("mid", "1.0"),
        WheelSpec("mid", "2.0", requires=["leaf"]),
        WheelSpec("leaf", "1.0"),
        WheelSpec("winonly", "1.0"),
        WheelSpec("stray", "1.0"),
    )
    (satchel.tmp / "requirements.in").write_text("top\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    env.update(UV_NO_CONFIG="1", UV_CACHE_DIR=str(satchel.tmp / "uv-cache"), UV_PYTHON_DOWNLOADS="never")
    compiled = subprocess.run(
        [str(UV), "pip", "compile", "requirements.in", "--format", "pylock.toml", "-o", "pylock.toml",
         "--index-url", index_server.index_url, "--universal", "-q"],
        cwd=satchel.tmp, env=env, capture_output=True, text=True, timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    text = (satchel.tmp / "pylock.toml").read_text()
    assert 'name = "winonly"' in text, text  # universal: a marker-guarded entry satchel skips here
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "stray")
    result = satchel.run("sync", "-p", venv, "pylock.toml")
    assert installed(venv) == {"top": "1.0", "mid": "2.0", "leaf": "1.0"}, result
    assert " - stray==1.0" in result.stderr, result
    assert "warning" not in result.stderr, result
    assert run_python(venv, "import top, mid, leaf; print(mid.__version__)") == "2.0"
    again = satchel.run("sync", "-p", venv, "pylock.toml")
    assert "Nothing to do: 3 packages" in again.stderr, again
    # And uv reads what satchel installed as in sync with the lock.
    check = subprocess.run(
        [str(UV), "pip", "sync", "pylock.toml", "--python", str(venv_python(venv)), "--dry-run",
         "--index-url", index_server.index_url],
        cwd=satchel.tmp, env=env, capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert "Would make no changes" in check.stderr, check.stderr


def test_install_from_pylock_adds_and_removes_nothing(
    satchel: Satchel, index_server: IndexServer, wheels: dict[str, Path]
) -> None:
    publish(index_server, WheelSpec("stray", "1.0"), WheelSpec("app", "0.9"))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "stray", "app==0.9")
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(selection_lock(index_server, wheels))
    result = satchel.run("install", "-p", venv, "-r", lock)
    # The lock's default selection goes in (app at the locked version); stray stays.
    assert installed(venv) == {"app": "1.0", "devtool": "1.0", "stray": "1.0"}, result
    assert " - app==0.9" in result.stderr and " + app==1.0" in result.stderr, result
    assert "Kept" not in result.stderr, result
    again = satchel.run("install", "-p", venv, "-r", lock)
    assert "Nothing to do: 2 packages" in again.stderr, again
    mixed = satchel.run("install", "-p", venv, "-r", lock, "stray", check=False)
    assert_error(mixed, "cannot be combined with other requirements")


def tool_env(satchel: Satchel) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    env.update(
        UV_NO_CONFIG="1", UV_CACHE_DIR=str(satchel.tmp / "uv-cache"), UV_PYTHON_DOWNLOADS="never",
        PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def test_pylock_written_by_pip_lock_syncs(satchel: Satchel, index_server: IndexServer) -> None:
    """Interop: `pip lock` (pip 26.3) against the local index, synced by satchel."""
    publish(
        index_server,
        WheelSpec("top", "1.0", requires=["mid>=1"]),
        WheelSpec("mid", "1.0"),
        WheelSpec("mid", "2.0"),
        WheelSpec("stray", "1.0"),
    )
    pip = Path(sys.executable).parent / "pip"
    locked = subprocess.run(
        [str(pip), "lock", "top", "-o", "pylock.toml", "--index-url", index_server.index_url, "-q"],
        cwd=satchel.tmp, env=tool_env(satchel), capture_output=True, text=True, timeout=120,
    )
    assert locked.returncode == 0, locked.stderr
    assert 'created-by = "pip"' in (satchel.tmp / "pylock.toml").read_text()
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "stray", "mid==1.0")
    result = satchel.run("sync", "-p", venv, "pylock.toml")
    assert installed(venv) == {"top": "1.0", "mid": "2.0"}, result
    assert " - stray==1.0" in result.stderr and " - mid==1.0" in result.stderr, result


def test_hashed_requirements_from_uv_sync(satchel: Satchel, index_server: IndexServer) -> None:
    """Interop: `uv pip compile --generate-hashes` output synced by satchel (and pip agrees the
    environment is complete)."""
    publish(index_server, WheelSpec("top", "1.0", requires=["mid"]), WheelSpec("mid", "1.0"), WheelSpec("mid", "1.0", tag="py2.py3-none-any"))
    (satchel.tmp / "requirements.in").write_text("top\n")
    compiled = subprocess.run(
        [str(UV), "pip", "compile", "requirements.in", "--generate-hashes", "-o", "requirements.txt",
         "--index-url", index_server.index_url, "-q"],
        cwd=satchel.tmp, env=tool_env(satchel), capture_output=True, text=True, timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    assert "--hash=sha256:" in (satchel.tmp / "requirements.txt").read_text()
    venv = satchel.venv()
    satchel.run("sync", "-p", venv, "requirements.txt")
    assert installed(venv) == {"top": "1.0", "mid": "1.0"}
    again = satchel.run("sync", "-p", venv, "requirements.txt")
    assert "Nothing to do: 2 packages" in again.stderr, again


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_pylock_vcs_entry(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """A git entry installs the locked commit, not the branch's newest; synced again, the same
    commit is kept."""
    repo = intree_project(tmp_path / "repo", "gitpkg", "1.0")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "backend.json").write_text(json.dumps({"name": "gitpkg", "version": "2.0"}))
    _git(repo, "commit", "-q", "-am", "two")
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(
        render_pylock([{"name": "gitpkg", "vcs": {"type": "git", "url": repo.as_uri(), "requested-revision": "main", "commit-id": first}}])
    )
    venv = satchel.venv()
    result = satchel.run("sync", "-p", venv, lock, "--no-index")
    assert installed(venv) == {"gitpkg": "1.0"}, result
    again = satchel.run("sync", "-p", venv, lock, "--no-index")
    assert "Nothing to do: 1 package already" in again.stderr, again


def test_pylock_editable_directory(satchel: Satchel, tmp_path: Path) -> None:
    intree_project(satchel.tmp / "proj", "edpkg", "1.0", editable=True)
    lock = satchel.tmp / "pylock.toml"
    lock.write_text(render_pylock([{"name": "edpkg", "version": "1.0", "directory": {"path": "proj", "editable": True}}]))
    venv = satchel.venv()
    result = satchel.run("sync", "-p", venv, lock, "--no-index")
    assert " + edpkg==1.0" in result.stderr, result
    info = json.loads(next(site_packages(venv).glob("edpkg-1.0.dist-info")).joinpath("direct_url.json").read_text())
    assert info == {"url": (satchel.tmp / "proj").as_uri(), "dir_info": {"editable": True}}


def test_a_local_wheel_of_the_lock_is_read_offline_and_checked(satchel: Satchel, tmp_path: Path) -> None:
    """A lock's wheel on the local disk needs no network: --offline reads it (with an empty
    cache), and checks its digest. (Was "not in the cache (--offline)", also for a wrong
    digest: the real problem went unsaid.)"""
    from tests.support.wheels import build_wheel

    wheel = build_wheel(WheelSpec("app", "1.0"), tmp_path / "dist")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    head = 'lock-version = "1.0"\ncreated-by = "tests"\n[[packages]]\nname = "app"\nversion = "1.0"\n'
    lock = tmp_path / "pylock.toml"
    lock.write_text(head + f'wheels = [{{ path = "{wheel}", hashes = {{ sha256 = "{digest}" }} }}]\n')
    venv = satchel.venv("offline")
    satchel.run("sync", "--offline", "-p", venv, lock)
    assert installed(venv) == {"app": "1.0"}

    wrong = "0" * 64
    lock.write_text(head + f'wheels = [{{ path = "{wheel}", hashes = {{ sha256 = "{wrong}" }} }}]\n')
    (tmp_path / "other").mkdir()
    fresh = Satchel(tmp_path / "other", tmp_path / "other-cache")
    result = fresh.run("sync", "--offline", "-p", fresh.venv("v"), lock, check=False)
    assert_error(result, "app-1.0-py3-none-any.whl")
    assert "not in the cache" not in result.stderr and wrong in result.stderr, result
