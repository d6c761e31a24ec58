"""`install --prefix DIR`, `--user` and `--root DIR`: the files land where pip 26.3 (the test
venv's) puts them for the same wheel and interpreter; `--user` is refused inside a virtual
environment, as pip refuses it (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


def _publish(index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec(
            "alpha",
            "1.0",
            requires=["beta"],
            console_scripts={"alpha-cli": "alpha:main"},
            files={"alpha/__init__.py": "def main():\n    print('alpha')\n"},
            data={
                "data": {"share/alpha/readme.txt": "hi\n"},
                "headers": {"alpha.h": "int x;\n"},
                "scripts": {"alpha-sh": "#!/bin/sh\necho alpha\n"},
            },
        ),
        WheelSpec("beta", "1.0", tag="py3-none-any"),
    )


def _files(root: Path) -> set[str]:
    """Installed files under ``root``, relative, leaving out bytecode (pip compiles by default)."""
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    }


def _pip(index_server: IndexServer, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-cache-dir",
         "--index-url", index_server.index_url],
        check=True, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null", **(env or {})},
    )  # fmt: skip


def test_prefix_same_files_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    venv = satchel.venv(python=sys.executable)
    _pip(index_server, tmp_path, "install", "--prefix", str(tmp_path / "pip-prefix"), "alpha")
    satchel.run("install", "-p", venv, "--prefix", tmp_path / "our-prefix", "alpha")
    ours = _files(tmp_path / "our-prefix")
    assert ours == _files(tmp_path / "pip-prefix")
    v = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"lib/{v}/site-packages/alpha/__init__.py" in ours
    assert "bin/alpha-cli" in ours and "bin/alpha-sh" in ours and "share/alpha/readme.txt" in ours
    # Nothing went into the environment itself.
    assert not list((venv / "lib").glob("python3.*/site-packages/alpha"))
    # The prefix's own contents count as installed: a second run has nothing to do.
    again = satchel.run("install", "-p", venv, "--prefix", tmp_path / "our-prefix", "alpha")
    assert "Nothing to do" in again.stderr
    # And the package runs from there.
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import alpha; print(alpha.__file__)"],
        capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(tmp_path / "our-prefix" / "lib" / v / "site-packages")},
    )  # fmt: skip
    assert str(tmp_path / "our-prefix") in out.stdout


def test_root_same_files_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    # pip installs into the test venv's scheme, moved under the root; satchel targets the same
    # interpreter (the test venv), so the relocated paths must be the same.
    _pip(index_server, tmp_path, "install", "--root", str(tmp_path / "pip-root"), "--ignore-installed", "alpha")
    satchel.run("install", "-p", sys.executable, "--root", tmp_path / "our-root", "alpha")
    ours = _files(tmp_path / "our-root")
    assert ours == _files(tmp_path / "pip-root")
    assert any(p.endswith("site-packages/alpha/__init__.py") and p.startswith(sys.prefix.lstrip("/")) for p in ours)
    # --root with --prefix: the prefix scheme, under the root.
    satchel.run("install", "-p", sys.executable, "--root", tmp_path / "r2", "--prefix", "/opt/x", "alpha")
    assert (tmp_path / "r2" / "opt" / "x" / "bin" / "alpha-cli").is_file()


@pytest.mark.skipif(not BASE_PYTHON.exists(), reason="no base interpreter beside the test venv")
def test_user_same_files_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    pip_base, our_base = tmp_path / "pip-user", tmp_path / "our-user"
    _pip(index_server, tmp_path, "--python", str(BASE_PYTHON), "install", "--user", "--break-system-packages",
         "alpha", env={"PYTHONUSERBASE": str(pip_base)})  # fmt: skip
    satchel.run("install", "-p", BASE_PYTHON, "--user", "alpha", env={"PYTHONUSERBASE": str(our_base)})
    ours = _files(our_base)
    assert ours == _files(pip_base)
    assert any(p.endswith("site-packages/alpha/__init__.py") for p in ours)


def test_user_refused_in_venv_and_bad_combinations(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "--user", "alpha", check=False)
    assert_error(result, "--user", "not visible in the virtual environment")
    both = satchel.run("install", "-p", venv, "--user", "--prefix", tmp_path / "p", "alpha", check=False)
    assert_error(both, "--user and --prefix cannot be combined")
    target = satchel.run("install", "-p", venv, "--target", tmp_path / "t", "--prefix", tmp_path / "p", "alpha", check=False)
    assert_error(target, "--target cannot be combined")
    assert not os.path.exists(tmp_path / "p")
