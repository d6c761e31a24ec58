"""Where wheels come from and how they land: direct references (PEP 610), local wheel paths,
--find-links with --no-index, --target, link modes and --compile-bytecode."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import (
    Satchel,
    assert_error,
    installed_files_match_record,
    run_python,
    site_packages,
)
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel, sha256_file


def record_paths(venv: Path, dist_info: str) -> list[str]:
    with open(site_packages(venv) / dist_info / "RECORD", newline="") as fh:
        return [row[0] for row in csv.reader(fh) if row]


def direct_url(venv: Path, dist_info: str) -> dict[str, object]:
    return json.loads((site_packages(venv) / dist_info / "direct_url.json").read_text())


def test_direct_references(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    # The dependency comes from the index; the direct references are not on it.
    publish(index_server, WheelSpec("beta", "1.0"))
    local = build_wheel(WheelSpec("alpha", "1.0", requires=["beta"]), tmp_path / "dist")
    remote_dir = tmp_path / "remote"
    remote = build_wheel(WheelSpec("gamma", "2.0"), remote_dir)
    bare = build_wheel(WheelSpec("delta", "3.0"), tmp_path / "dist")
    with IndexServer(remote_dir) as files:
        venv = satchel.venv()
        remote_url = files.file_url(remote.name)
        result = satchel.run(
            "install", "-p", venv,
            f"alpha @ {local.as_uri()}",
            f"gamma @ {remote_url}",
            "dist/" + bare.name,  # a local wheel path, relative to the working directory
            cwd=tmp_path,
        )  # fmt: skip
    for line in (" + alpha==1.0", " + beta==1.0", " + gamma==2.0", " + delta==3.0"):
        assert line in result.stderr, result
    assert run_python(venv, "import alpha, beta, gamma, delta; print(gamma.__version__)") == "2.0"

    for dist_info, url, wheel in (
        ("alpha-1.0.dist-info", local.as_uri(), local),
        ("gamma-2.0.dist-info", remote_url, remote),
        ("delta-3.0.dist-info", bare.resolve().as_uri(), bare),
    ):
        info = direct_url(venv, dist_info)
        assert info["url"] == url, info
        digest = sha256_file(wheel)
        assert info["archive_info"] == {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}
        assert (site_packages(venv) / dist_info / "REQUESTED").exists()
        assert "direct_url.json" in " ".join(record_paths(venv, dist_info))
        installed_files_match_record(venv, dist_info.split("-")[0])
    assert not (site_packages(venv) / "beta-1.0.dist-info" / "direct_url.json").exists()

    # freeze shows direct references as such, with their hashes (like pip freeze).
    frozen = satchel.run("freeze", "-p", venv).stdout.splitlines()
    assert f"alpha @ {local.as_uri()}#sha256={sha256_file(local)}" in frozen
    assert f"gamma @ {remote_url}#sha256={sha256_file(remote)}" in frozen
    assert "beta==1.0" in frozen
    # ... and a frozen line installs again: the same thing, so nothing to do.
    (tmp_path / "frozen.txt").write_text("\n".join(frozen) + "\n")
    assert "Nothing to do" in satchel.run("install", "-p", venv, "-r", tmp_path / "frozen.txt").stderr

    # Installing the same direct reference again changes nothing.
    again = satchel.run("install", "-p", venv, f"alpha @ {local.as_uri()}")
    assert "Nothing to do" in again.stderr

    # A #sha256= fragment that does not match the file is refused before anything is written.
    eps = build_wheel(WheelSpec("epsilon", "1.0"), tmp_path / "dist")
    result = satchel.run("install", "-p", venv, f"epsilon @ {eps.as_uri()}#sha256={'0' * 64}", check=False)
    assert_error(result, "epsilon", "0" * 64, sha256_file(eps))
    assert not list(site_packages(venv).glob("epsilon*"))

    # A local wheel that does not exist is a clear error.
    missing = tmp_path / "dist" / "nothere-1.0-py3-none-any.whl"
    assert_error(satchel.run("install", "-p", venv, str(missing), check=False), "nothere")


def test_find_links_without_index(satchel: Satchel, tmp_path: Path) -> None:
    links = tmp_path / "wheelhouse"
    for spec in (
        WheelSpec("alpha", "1.0", requires=["beta"]),
        WheelSpec("alpha", "2.0", requires=["beta"]),
        WheelSpec("beta", "1.0"),
    ):
        build_wheel(spec, links)
    venv = satchel.venv()
    # The default index (SATCHEL_INDEX_URL) is empty and must not be asked at all.
    result = satchel.run("install", "-p", venv, "--no-index", "--find-links", links, "alpha", "-v")
    assert " + alpha==2.0" in result.stderr and " + beta==1.0" in result.stderr
    assert "/simple/" not in result.stderr
    assert run_python(venv, "import alpha; print(alpha.__version__)") == "2.0"

    # In a requirements file, relative to it.
    (links / "reqs.txt").write_text("--no-index\n--find-links .\nalpha==1.0\n")
    result = satchel.run("install", "-p", venv, "-r", links / "reqs.txt")
    assert " - alpha==2.0" in result.stderr and " + alpha==1.0" in result.stderr

    # A find-links HTML page (over HTTP) works the same as a directory.
    with IndexServer(links) as pages:
        page = pages.add_page("/links/", pages.links_page())
        result = satchel.run("install", "-p", venv, "--no-index", "-f", page, "-U", "alpha")
        assert " - alpha==1.0" in result.stderr and " + alpha==2.0" in result.stderr
        # The page was read; the wheel itself is the one already in the cache (same sha256).
        assert pages.count("/links/") >= 1
        assert pages.count("/simple/") == 0

    # --no-index and nothing to find: a clear error.
    result = satchel.run("install", "-p", venv, "--no-index", "-f", links, "gamma", check=False)
    assert_error(result, "gamma")


def test_target_directory(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta"], console_scripts={"alpha-cli": "alpha:main"},
                  files={"alpha/__init__.py": "def main():\n    print('hi')\n"}),
        WheelSpec("beta", "1.0"),
    )  # fmt: skip
    target = tmp_path / "vendored"
    venv = satchel.venv()  # must not be touched
    result = satchel.run("install", "--target", target, "alpha", env={"VIRTUAL_ENV": str(venv)})
    assert " + alpha==1.0" in result.stderr and " + beta==1.0" in result.stderr
    assert (target / "alpha" / "__init__.py").exists()
    assert (target / "alpha-1.0.dist-info" / "RECORD").exists()
    assert (target / "bin" / "alpha-cli").exists()
    assert not (site_packages(venv) / "alpha").exists()
    out = subprocess.run(
        [sys.executable, "-c", "import alpha, beta; print(alpha.__file__)"],
        env={**os.environ, "PYTHONPATH": str(target)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == str(target / "alpha" / "__init__.py")


def test_link_modes_and_bytecode(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", files={"alpha/__init__.py": "X = 1\n", "alpha/sub/mod.py": "Y = 2\n"}),
    )
    hard = satchel.venv("hard")
    satchel.run("install", "-p", hard, "alpha")
    sp = site_packages(hard)
    assert (sp / "alpha" / "__init__.py").stat().st_nlink >= 2
    assert (sp / "alpha" / "sub" / "mod.py").stat().st_nlink >= 2
    assert (sp / "alpha-1.0.dist-info" / "RECORD").stat().st_nlink == 1
    assert not list(sp.rglob("*.pyc")), "no bytecode without --compile-bytecode"
    # Editing a hardlinked file in one environment must not be possible to leak back into
    # the cache unnoticed: the RECORD still describes the installed bytes.
    installed_files_match_record(hard, "alpha")

    copied = satchel.venv("copied")
    result = satchel.run("install", "-p", copied, "--link-mode", "copy", "--compile-bytecode", "alpha")
    assert result.warnings() == [], result
    sp = site_packages(copied)
    for path in (sp / "alpha" / "__init__.py", sp / "alpha" / "sub" / "mod.py"):
        assert path.stat().st_nlink == 1
    pycs = sorted(p.relative_to(sp).as_posix() for p in sp.rglob("*.pyc"))
    assert len(pycs) == 2 and all("__pycache__" in p for p in pycs), pycs
    recorded = record_paths(copied, "alpha-1.0.dist-info")
    assert set(pycs) <= set(recorded), (pycs, recorded)
    installed_files_match_record(copied, "alpha")
    # The compiled files are valid bytecode for the target.
    assert run_python(copied, "import alpha.sub.mod as m, sys; print(m.__cached__.endswith('.pyc'))") == "True"

    symlinked = satchel.venv("symlinked")
    satchel.run("install", "-p", symlinked, "--link-mode", "symlink", "alpha")
    assert run_python(symlinked, "import alpha; print(alpha.X)") == "1"
    assert (site_packages(symlinked) / "alpha-1.0.dist-info" / "RECORD").is_symlink() is False

    # uninstall of a bytecode-compiled install removes the .pyc files too.
    satchel.run("uninstall", "-p", copied, "alpha")
    assert not list(site_packages(copied).rglob("alpha*"))
