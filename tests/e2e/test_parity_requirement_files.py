"""Options in requirement files where pip allows them, for install, download and wheel; and
--prefer-binary, on the command line and in files (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.builds import intree_sdist
from tests.support.cli import Satchel
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _publish(index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"), WheelSpec("beta", "1.0"), WheelSpec("beta", "2.0b1"))
    intree_sdist(index_server.directory, "alpha", "2.0")


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_prefer_binary(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    venv = satchel.venv()
    assert " + alpha==2.0" in satchel.run("install", "-p", venv, "--dry-run", "alpha").stderr
    assert " + alpha==1.0" in satchel.run("install", "-p", venv, "--dry-run", "--prefer-binary", "alpha").stderr
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("--prefer-binary\nalpha\n")
    assert " + alpha==1.0" in satchel.run("install", "-p", venv, "--dry-run", "-r", reqs).stderr
    # An explicit pin still wins.
    assert " + alpha==2.0" in satchel.run("install", "-p", venv, "--dry-run", "--prefer-binary", "alpha==2.0").stderr
    # pip downloads the same file for the same file.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-d", str(tmp_path / "pip"), "-r", str(reqs),
         "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check"],
        check=True, capture_output=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
    )  # fmt: skip
    satchel.run("download", "-p", sys.executable, "-d", tmp_path / "ours", "-r", reqs)
    assert _names(tmp_path / "ours") == _names(tmp_path / "pip") == ["alpha-1.0-py3-none-any.whl"]


def test_file_options_for_download_and_wheel(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    # The index comes from the file (no default index at all), and so do --pre and --only-binary.
    satchel.index_url = None
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"--index-url {index_server.index_url}\n--pre\n--only-binary alpha\nalpha\nbeta\n")
    satchel.run("download", "-p", sys.executable, "-d", tmp_path / "dl", "-r", reqs)
    assert _names(tmp_path / "dl") == ["alpha-1.0-py3-none-any.whl", "beta-2.0b1-py3-none-any.whl"]
    satchel.run("wheel", "-p", sys.executable, "-w", tmp_path / "wh", "-r", reqs)
    assert _names(tmp_path / "wh") == _names(tmp_path / "dl")
    # --no-binary in a file: the sdist, built by `wheel`.
    reqs.write_text(f"-i {index_server.index_url}\n--no-binary alpha\nalpha\n")
    satchel.run("download", "-p", sys.executable, "-d", tmp_path / "src", "-r", reqs)
    assert _names(tmp_path / "src") == ["alpha-2.0.tar.gz"]
    satchel.run("wheel", "-p", sys.executable, "-w", tmp_path / "built", "-r", reqs)
    assert _names(tmp_path / "built") == ["alpha-2.0-py3-none-any.whl"]


def test_no_require_hashes(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    venv = satchel.venv()
    sha = index_server.sha256("alpha-1.0-py3-none-any.whl")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"alpha==1.0 --hash=sha256:{sha}\nbeta\n")
    # A --hash on one line turns on hash checking for all: beta has none.
    refused = satchel.run("install", "-p", venv, "--dry-run", "-r", reqs, check=False)
    assert refused.returncode == 1 and "beta" in refused.stderr and "--hash" in refused.stderr
    # pip's --no-require-hashes: only alpha's hash is checked.
    ok = satchel.run("install", "-p", venv, "--no-require-hashes", "-r", reqs)
    assert " + alpha==1.0" in ok.stderr and " + beta==1.0" in ok.stderr
    reqs.write_text(f"alpha==1.0 --hash=sha256:{'0' * 64}\nbeta\n")
    bad = satchel.run("install", "-p", satchel.venv("v2"), "--no-require-hashes", "-r", reqs, check=False)
    assert bad.returncode == 1 and "alpha" in bad.stderr


def test_release_control(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    """pip 26's --all-releases / --only-final: per-package pre-release control, compared with the
    pinned pip's downloads."""
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("alpha", "2.0b1"),
        WheelSpec("beta", "1.0"),
        WheelSpec("beta", "1.1rc1"),
    )
    venv = satchel.venv()
    cases = [
        (["--all-releases", "alpha"], ["alpha", "beta"], ["alpha-2.0b1", "beta-1.0"]),
        (["--all-releases", ":all:", "--only-final", "beta"], ["alpha", "beta"], ["alpha-2.0b1", "beta-1.0"]),
        (["--pre", "--only-final", "beta"], ["alpha"], None),  # refused, as pip refuses it
        (["--all-releases", ":all:", "--only-final", "alpha"], ["alpha", "beta"], ["alpha-1.0", "beta-1.1rc1"]),
        (["--only-final", ":all:"], ["alpha>=1.0", "beta>=1.1rc1"], None),
    ]
    for i, (flags, reqs, expected) in enumerate(cases):
        ours = satchel.run("download", "-p", sys.executable, "-d", tmp_path / f"ours{i}", *flags, *reqs, check=False)
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-d", str(tmp_path / f"pip{i}"), *flags, *reqs,
             "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check"],
            capture_output=True, timeout=300,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
        )  # fmt: skip
        if expected is None:
            assert ours.returncode == 1 and pip.returncode != 0, flags
            continue
        assert ours.returncode == 0 and pip.returncode == 0, (flags, ours, pip.stderr)
        names = [n.split("-py3")[0] for n in _names(tmp_path / f"ours{i}")]
        assert names == expected, flags
        assert _names(tmp_path / f"ours{i}") == _names(tmp_path / f"pip{i}"), flags
    # And install takes them too.
    result = satchel.run("install", "-p", venv, "--dry-run", "--all-releases", "beta", "beta")
    assert " + beta==1.1rc1" in result.stderr


def test_pip26_options_in_requirement_files(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("alpha", "2.0b1"),
        WheelSpec("beta", "1.0"),
        WheelSpec("beta", "1.1rc1"),
    )
    venv = satchel.venv()
    sha = index_server.sha256("alpha-1.0-py3-none-any.whl")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"--no-require-hashes\n--all-releases beta\nalpha==1.0 --hash=sha256:{sha}\nbeta\n")
    result = satchel.run("install", "-p", venv, "--dry-run", "-r", reqs)
    assert " + alpha==1.0" in result.stderr and " + beta==1.1rc1" in result.stderr
    reqs.write_text("--only-final :all:\nbeta>=1.0\n")
    assert " + beta==1.0" in satchel.run("install", "-p", venv, "--dry-run", "-r", reqs, "--all-releases", ":none:").stderr
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-d", str(tmp_path / "pip"), "-r", str(reqs),
         "--index-url", index_server.index_url, "--no-cache-dir", "--disable-pip-version-check"],
        check=True, capture_output=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
    )  # fmt: skip
    satchel.run("download", "-p", sys.executable, "-d", tmp_path / "ours", "-r", reqs)
    assert _names(tmp_path / "ours") == _names(tmp_path / "pip") == ["beta-1.0-py3-none-any.whl"]
