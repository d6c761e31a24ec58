"""`satchel download -d DIR` and `satchel wheel -w DIR`: the same files as pip 26.3 (the test
venv's) saves for the same requirements against the local index, through the cache; pip's
--platform/--python-version/--implementation/--abi (issue 15)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.builds import intree_sdist
from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _publish(index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta", "gamma>=1"]),
        WheelSpec("alpha", "2.0", requires_python="<3"),
        WheelSpec("gamma", "1.0"),
        WheelSpec("gamma", "1.1", tag="cp310-cp310-win_amd64"),
        WheelSpec("gamma", "1.1", tag="cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64"),
        WheelSpec("gamma", "1.1", tag="py2-none-any"),
        WheelSpec("delta", "1.0", tag="cp310-cp310-manylinux1_x86_64"),
        WheelSpec("delta", "1.0", tag="cp310-cp310-macosx_10_9_universal2"),
    )
    intree_sdist(index_server.directory, "beta", "1.0")


def _pip(index_server: IndexServer, tmp_path: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-cache-dir",
         "--index-url", index_server.index_url],
        check=True, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"},
    )  # fmt: skip


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_download_same_files_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("alpha\n")
    _pip(index_server, tmp_path, "download", "-d", str(tmp_path / "pip"), "-r", str(reqs))
    result = satchel.run("download", "-p", sys.executable, "-d", tmp_path / "ours", "-r", reqs)
    assert _names(tmp_path / "ours") == _names(tmp_path / "pip")
    assert _names(tmp_path / "ours") == [
        "alpha-1.0-py3-none-any.whl",
        "beta-1.0.tar.gz",
        "gamma-1.0-py3-none-any.whl",
    ]
    # Saved as they are: byte for byte what the index serves.
    for name in _names(tmp_path / "ours"):
        assert (tmp_path / "ours" / name).read_bytes() == (index_server.directory / name).read_bytes()
    assert "Saved" in result.stderr
    # Again: nothing fetched (the cache), and the files already there are kept.
    index_server.reset_log()
    again = satchel.run("download", "-p", sys.executable, "-d", tmp_path / "ours", "alpha")
    assert "File was already downloaded" in again.stderr
    assert index_server.count("/files/") == 0


def test_wheel_same_files_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    _pip(index_server, tmp_path, "wheel", "-w", str(tmp_path / "pip"), "alpha")
    first = satchel.run("wheel", "-p", sys.executable, "-w", tmp_path / "ours", "alpha")
    assert "Building a wheel for beta" in first.stderr
    assert _names(tmp_path / "ours") == _names(tmp_path / "pip")
    assert "beta-1.0-py3-none-any.whl" in _names(tmp_path / "ours")
    with zipfile.ZipFile(tmp_path / "ours" / "beta-1.0-py3-none-any.whl") as zf:
        assert "beta-1.0.dist-info/METADATA" in zf.namelist()
    # The second time the build comes from the cache: no build runs.
    again = satchel.run("wheel", "-p", sys.executable, "-w", tmp_path / "again", "beta", "-v")
    assert _names(tmp_path / "again") == ["beta-1.0-py3-none-any.whl"]
    assert "Building" not in again.stderr


def test_download_for_another_platform(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    for platform in ("win_amd64", "manylinux2014_x86_64"):
        flags = ["--platform", platform, "--python-version", "3.10", "--only-binary=:all:"]
        _pip(index_server, tmp_path, "download", "-d", str(tmp_path / f"pip-{platform}"), *flags, "gamma")
        satchel.run("download", "-p", sys.executable, "-d", tmp_path / f"ours-{platform}", *flags, "gamma")
        assert _names(tmp_path / f"ours-{platform}") == _names(tmp_path / f"pip-{platform}")
        assert len(_names(tmp_path / f"ours-{platform}")) == 1
    assert "win_amd64" in _names(tmp_path / "ours-win_amd64")[0]
    # pip widens platforms: manylinux2014 takes manylinux1 wheels, macOS 12 arm64 takes older
    # universal2 builds.
    for platform in ("manylinux2014_x86_64", "macosx_12_0_arm64"):
        flags = ["--platform", platform, "--python-version", "3.10", "--only-binary=:all:"]
        _pip(index_server, tmp_path, "download", "-d", str(tmp_path / f"pip-d-{platform}"), *flags, "delta")
        satchel.run("download", "-p", sys.executable, "-d", tmp_path / f"ours-d-{platform}", *flags, "delta")
        assert _names(tmp_path / f"ours-d-{platform}") == _names(tmp_path / f"pip-d-{platform}")
        assert len(_names(tmp_path / f"ours-d-{platform}")) == 1
    flags = ["--implementation", "cp", "--abi", "cp310", "--python-version", "310", "--platform", "win_amd64"]
    _pip(index_server, tmp_path, "download", "-d", str(tmp_path / "pip-abi"), "--no-deps", *flags, "gamma")
    satchel.run("download", "-p", sys.executable, "-d", tmp_path / "ours-abi", "--no-deps", *flags, "gamma")
    assert _names(tmp_path / "ours-abi") == _names(tmp_path / "pip-abi")
    # Without --only-binary=:all: or --no-deps, refused as pip refuses it.
    refused = satchel.run("download", "-p", sys.executable, "--platform", "win_amd64", "gamma", check=False)
    assert_error(refused, "--no-deps", "--only-binary=:all:")


def test_download_checks_hashes(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    _publish(index_server)
    good = index_server.sha256("gamma-1.0-py3-none-any.whl")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"gamma==1.0 --hash=sha256:{good}\n")
    satchel.run("download", "-p", sys.executable, "-d", tmp_path / "ok", "-r", reqs)
    assert _names(tmp_path / "ok") == ["gamma-1.0-py3-none-any.whl"]
    reqs.write_text(f"gamma==1.0 --hash=sha256:{'0' * 64}\n")
    result = satchel.run("download", "-p", sys.executable, "-d", tmp_path / "bad", "-r", reqs, check=False)
    assert result.returncode == 1 and "--hash" in result.stderr
    assert not (tmp_path / "bad").exists() or _names(tmp_path / "bad") == []


def test_download_that_cannot_be_saved_leaves_no_temp_file(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    """A file that cannot be saved (a directory in its place; a name with no room for the temp
    file's prefix and suffix) is a one-line error, and no ``*.satchel-tmp`` file stays behind."""
    long = "a" * 230  # its wheel's name fits in 255 bytes; ".<it>.satchel-tmp" does not
    publish(index_server, WheelSpec("gamma", "1.0"), WheelSpec(long, "1.0"))
    dest = tmp_path / "dest"
    (dest / "gamma-1.0-py3-none-any.whl").mkdir(parents=True)
    result = satchel.run("download", "-p", sys.executable, "-d", dest, "gamma", check=False)
    assert_error(result, f"cannot save {dest / 'gamma-1.0-py3-none-any.whl'}")
    result = satchel.run("download", "-p", sys.executable, "-d", dest, long, check=False)
    assert_error(result, f"cannot save {dest / (long + '-1.0-py3-none-any.whl')}", "File name too long")
    assert sorted(p.name for p in dest.iterdir()) == ["gamma-1.0-py3-none-any.whl"]


def test_direct_references_same_files_as_pip(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    from tests.support.wheels import build_wheel

    _publish(index_server)
    wheel = build_wheel(WheelSpec("w", "1.0"), tmp_path / "direct")
    sdist = intree_sdist(tmp_path / "sd", "proj", "1.0")
    reqs = [str(wheel), str(sdist), "gamma"]
    for command, flag in (("download", "-d"), ("wheel", "-w")):
        _pip(index_server, tmp_path, command, flag, str(tmp_path / f"pip-{command}"), *reqs)
        satchel.run(command, "-p", sys.executable, flag, tmp_path / f"ours-{command}", *reqs)
        assert _names(tmp_path / f"ours-{command}") == _names(tmp_path / f"pip-{command}")
    assert "proj-1.0.tar.gz" in _names(tmp_path / "ours-download")
    assert "proj-1.0-py3-none-any.whl" in _names(tmp_path / "ours-wheel")


def test_wheel_of_an_editable_is_a_regular_wheel_as_in_pip(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    """`wheel -e DIR`, and `-e DIR` in a requirements file, build DIR's regular wheel (its
    backend's build_wheel), not an editable one that only points back at DIR: pip's behaviour."""
    from tests.support.builds import intree_project

    project = intree_project(tmp_path / "proj", "proj", "1.0", editable=True)  # it could build either
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"-e {project}\n")
    _pip(index_server, tmp_path, "wheel", "--no-deps", "-w", str(tmp_path / "pip"), "-e", str(project))
    for how, args in (("option", ["-e", project]), ("file", ["-r", reqs])):
        out = tmp_path / f"ours-{how}"
        satchel.run("wheel", "-p", sys.executable, "-w", out, *args)
        assert _names(out) == _names(tmp_path / "pip") == ["proj-1.0-py3-none-any.whl"], how
        with zipfile.ZipFile(out / "proj-1.0-py3-none-any.whl") as zf:
            members = zf.namelist()
        assert "proj/__init__.py" in members and not any(m.endswith(".pth") for m in members), members
