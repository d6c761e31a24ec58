"""The SATCHEL_* variables reach the code that uses them (through Settings, as parameters).

SATCHEL_CACHE_DIR and SATCHEL_INDEX_URL are set by every end-to-end test (tests/support/cli.py),
SATCHEL_INDEX_TTL is tested in test_cache_freshness.py, SATCHEL_NO_FAST_PATH in
test_install_noop.py; the bad values of each in test_bad_input.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Satchel, assert_error, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def test_link_mode_from_the_environment(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0", files={"alpha/__init__.py": "X = 1\n"}))
    hard = satchel.venv("hard")
    satchel.run("install", "-p", hard, "alpha")
    assert (site_packages(hard) / "alpha" / "__init__.py").stat().st_nlink >= 2
    copied = satchel.venv("copied")
    satchel.run("install", "-p", copied, "alpha", env={"SATCHEL_LINK_MODE": "copy"})
    assert (site_packages(copied) / "alpha" / "__init__.py").stat().st_nlink == 1
    # --link-mode beats the variable.
    linked = satchel.venv("linked")
    satchel.run("install", "-p", linked, "--link-mode", "hardlink", "alpha", env={"SATCHEL_LINK_MODE": "copy"})
    assert (site_packages(linked) / "alpha" / "__init__.py").stat().st_nlink >= 2


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_timeout_from_the_environment(satchel: Satchel, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text("[project]\nname = 'gitpkg'\nversion = '1.0'\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *args], cwd=repo, env={**env, "PATH": "/usr/bin:/bin"}, check=True)
    venv = satchel.venv()
    result = satchel.run(
        "install", "-p", venv, f"gitpkg @ git+{repo.as_uri()}", check=False, env={"SATCHEL_GIT_TIMEOUT": "0.000001"}
    )
    assert_error(result, "did not finish within 1e-06 seconds")
