"""The environment commands end to end: uninstall, list, freeze, show, check, venv; and how the
target environment is chosen ($VIRTUAL_ENV, ./.venv, else an error)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.cli import Satchel, assert_error, run_python, site_packages, venv_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def test_list_freeze_show_check_uninstall(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("Alpha_Pkg", "1.0", requires=["beta>=1", 'gamma; extra == "x"'],
                  console_scripts={"alpha": "alpha_pkg:main"}),
        WheelSpec("beta", "1.5"),
    )  # fmt: skip
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha-pkg")
    sp = site_packages(venv)

    cols = satchel.run("list", "-p", venv).stdout.splitlines()
    assert cols[0].split() == ["Package", "Version"]
    assert set(cols[1]) <= {"-", " "}
    assert [line.split() for line in cols[2:]] == [["Alpha_Pkg", "1.0"], ["beta", "1.5"]]

    as_json = json.loads(satchel.run("list", "-p", venv, "--format", "json").stdout)
    assert as_json == [{"name": "Alpha_Pkg", "version": "1.0"}, {"name": "beta", "version": "1.5"}]
    frozen = satchel.run("list", "-p", venv, "--format", "freeze").stdout
    assert frozen == "Alpha_Pkg==1.0\nbeta==1.5\n"
    assert satchel.run("freeze", "-p", venv).stdout == frozen

    show = satchel.run("show", "-p", venv, "beta", "ALPHA-PKG", "--files").stdout
    beta_part, alpha_part = show.split("---\n")
    assert "Name: beta\nVersion: 1.5\n" in beta_part
    assert "Required-by: Alpha_Pkg" in beta_part
    assert "Installer: satchel" in beta_part
    assert f"Location: {sp}" in beta_part
    assert "Requires: beta\n" in alpha_part  # the extra's gamma is not a plain requirement
    assert "alpha_pkg/__init__.py" in alpha_part and "Files:" in alpha_part
    assert_error(satchel.run("show", "-p", venv, "nope", check=False), "nope")

    assert satchel.run("check", "-p", venv).stdout.strip() == "No broken requirements found."

    result = satchel.run("uninstall", "-p", venv, "beta")
    assert " - beta==1.5" in result.stderr and "Uninstalled 1 package" in result.stderr
    assert not (sp / "beta").exists() and not list(sp.glob("beta-*.dist-info"))
    broken = satchel.run("check", "-p", venv, check=False)
    assert broken.returncode == 1, broken
    assert "Alpha_Pkg 1.0 requires beta, which is not installed." in broken.stdout
    assert "Traceback" not in broken.stderr

    # An incompatible version is reported too.
    publish(index_server, WheelSpec("beta", "0.5"))
    satchel.run("install", "-p", venv, "--refresh", "--no-deps", "beta==0.5")
    broken = satchel.run("check", "-p", venv, check=False)
    assert broken.returncode == 1
    assert "Alpha_Pkg 1.0 has requirement beta>=1, but you have beta 0.5." in broken.stdout

    result = satchel.run("uninstall", "-p", venv, "alpha_pkg", "beta", "-y")
    assert "Uninstalled 2 packages" in result.stderr
    assert not (venv / "bin" / "alpha").exists()
    assert [p.name for p in sp.iterdir() if not p.name.startswith("_")] == [], list(sp.iterdir())
    assert_error(satchel.run("uninstall", "-p", venv, "alpha_pkg", check=False), "alpha_pkg")
    assert satchel.run("list", "-p", venv, "--format", "json").stdout.strip() == "[]"


def test_uninstall_without_record_is_refused(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha")
    (site_packages(venv) / "alpha-1.0.dist-info" / "RECORD").unlink()
    result = satchel.run("uninstall", "-p", venv, "alpha", check=False)
    assert_error(result, "alpha", "RECORD")
    assert "hint:" in result.stderr
    assert (site_packages(venv) / "alpha" / "__init__.py").exists()


def test_show_files_without_record_says_they_are_unknown(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """``show -f`` of a distribution without a RECORD (removed, or a .dist-info holding only
    METADATA) says the files are unknown, as pip's "Cannot locate RECORD", and exits 0; the
    other packages shown still list theirs."""
    publish(index_server, WheelSpec("alpha", "1.0"), WheelSpec("beta", "2.0"))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "beta")
    sp = site_packages(venv)
    record = sp / "beta-2.0.dist-info" / "RECORD"
    record.unlink()
    lone = sp / "gamma-3.0.dist-info"
    lone.mkdir()
    (lone / "METADATA").write_text("Metadata-Version: 2.1\nName: gamma\nVersion: 3.0\n")

    result = satchel.run("show", "-p", venv, "beta", "alpha", "gamma", "-f")
    assert result.returncode == 0 and result.stderr == "", result
    beta_part, alpha_part, gamma_part = result.stdout.split("---\n")
    assert "Name: beta\nVersion: 2.0\n" in beta_part
    assert beta_part.endswith(
        f"Files:\nCannot locate RECORD: {record} is missing, so the installed files are unknown\n"
    ), beta_part
    assert "Files:\n  alpha/__init__.py\n" in alpha_part
    assert "Name: gamma\nVersion: 3.0\n" in gamma_part
    assert gamma_part.endswith(
        f"Files:\nCannot locate RECORD: {lone / 'RECORD'} is missing, so the installed files are unknown\n"
    ), gamma_part
    # Unreadable or malformed: the same kind of line, saying why.
    record.mkdir()
    shown = satchel.run("show", "-p", venv, "beta", "-f").stdout
    assert shown.endswith(f"Files:\nCannot read RECORD: {record} (Is a directory), so the installed files are unknown\n")
    record.rmdir()
    record.write_text("a,b,c,d\n")
    shown = satchel.run("show", "-p", venv, "beta", "--files").stdout
    assert f"Files:\nCannot read RECORD: {record} (line 1: " in shown, shown


def test_uninstall_from_requirement_files(satchel: Satchel, index_server: IndexServer) -> None:
    """``uninstall -r FILE`` (pip's and uv's): the names the file lists, whatever their
    versions, markers or URLs; a line naming no project is an error naming its line."""
    publish(index_server, WheelSpec("alpha", "1.0"), WheelSpec("beta", "1.0"), WheelSpec("gamma", "1.0"))
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha", "beta", "gamma")
    reqs = satchel.tmp / "reqs.txt"
    reqs.write_text(f'Alpha>=0.5 ; python_version > "3"\n--index-url {index_server.index_url}\nbeta @ {index_server.url}/x.whl\n')
    result = satchel.run("uninstall", "-p", venv, "-r", reqs, "alpha")
    assert result.stderr == " - alpha==1.0\n - beta==1.0\nUninstalled 2 packages\n", result
    assert sorted(d.name for d in site_packages(venv).glob("*.dist-info")) == ["gamma-1.0.dist-info"]
    unnamed = satchel.tmp / "paths.txt"
    unnamed.write_text("gamma\n./not/here.whl\n")
    (satchel.tmp / "not").mkdir()
    (satchel.tmp / "not" / "here.whl").write_bytes(b"")
    bad = satchel.run("uninstall", "-p", venv, "-r", unnamed, check=False)
    assert_error(bad, f"{unnamed}:2:")
    assert (site_packages(venv) / "gamma-1.0.dist-info").is_dir()  # nothing was removed
    # a wheel's file name names its project (as pip reads it): no need to open the file
    by_file = satchel.tmp / "wheels.txt"
    by_file.write_text("./not/gamma-1.0-py3-none-any.whl\n")
    (satchel.tmp / "not" / "gamma-1.0-py3-none-any.whl").write_bytes(b"")
    satchel.run("uninstall", "-p", venv, "-r", by_file)
    assert not (site_packages(venv) / "gamma-1.0.dist-info").exists()
    none = satchel.run("uninstall", "-p", venv, check=False)
    assert_error(none, "nothing to uninstall", "hint:")


def test_venv_system_site_packages(satchel: Satchel, index_server: IndexServer) -> None:
    """``venv --system-site-packages`` sees the base interpreter's packages (pip, which pyenv's
    CPython ships); a plain venv does not; satchel installs into the venv's own site-packages."""
    import pytest

    from tests.support.cli import pyenv_python

    base = pyenv_python("3.11")
    if base is None or not list((base.parent.parent / "lib" / "python3.11" / "site-packages").glob("pip")):
        pytest.skip("no pyenv CPython 3.11 with pip in its site-packages")
    publish(index_server, WheelSpec("alpha", "1.0"))
    shared = satchel.tmp / "shared"
    satchel.run("venv", shared, "-p", base, "--system-site-packages")
    assert "include-system-site-packages = true" in (shared / "pyvenv.cfg").read_text()
    where = run_python(shared, "import pip, os; print(os.path.dirname(os.path.dirname(pip.__file__)))")
    assert Path(where) == base.resolve().parent.parent / "lib" / "python3.11" / "site-packages"
    satchel.run("install", "-p", shared, "alpha")
    assert (site_packages(shared) / "alpha" / "__init__.py").exists()
    own = satchel.venv("own", python=base)
    assert "include-system-site-packages = false" in (own / "pyvenv.cfg").read_text()
    missing = subprocess.run([str(venv_python(own)), "-c", "import pip"], capture_output=True, text=True)
    assert missing.returncode == 1 and "No module named 'pip'" in missing.stderr


def test_venv_seed(satchel: Satchel, index_server: IndexServer) -> None:
    """``venv --seed`` (uv's): pip from the index into the new environment, with setuptools and
    wheel before Python 3.12; a bad index URL is an error before anything is created."""
    import pytest

    from tests.support.cli import pyenv_python

    publish(index_server, WheelSpec("pip", "99.0"), WheelSpec("setuptools", "99.0"), WheelSpec("wheel", "99.0"))
    for version, expected in (("3.11", ["pip", "setuptools", "wheel"]), ("3.12", ["pip"])):
        base = pyenv_python(version)
        if base is None:
            pytest.skip(f"no pyenv CPython {version}")
        venv = satchel.tmp / f"seeded-{version}"
        result = satchel.run("venv", venv, "-p", base, "--seed")
        assert sorted(p.name.split("-")[0] for p in site_packages(venv).glob("*.dist-info")) == expected, result
        assert "Activate with:" in result.stderr.splitlines()[-1], result
    bad = satchel.run("venv", satchel.tmp / "never", "--seed", "-i", "not a url", check=False)
    assert_error(bad, "--index-url")
    assert not (satchel.tmp / "never").exists()


def test_hash_prints_what_pip_hash_prints(satchel: Satchel, tmp_path: Path) -> None:
    import sys

    from tests.support.wheels import build_wheel

    wheel = build_wheel(WheelSpec("alpha", "1.0"), tmp_path / "dist")
    other = tmp_path / "notes.txt"
    other.write_bytes(b"x" * 3_000_000)  # (more than one read)
    for algorithm in ("sha256", "sha512"):
        args = [str(wheel), str(other), "-a", algorithm]
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "hash", *args, "--disable-pip-version-check"],
            capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )  # fmt: skip
        assert satchel.run("hash", *args).stdout == pip.stdout, algorithm
    missing = satchel.run("hash", tmp_path / "nope.whl", check=False)
    assert_error(missing, f"cannot read {tmp_path / 'nope.whl'}: No such file or directory")


def test_venv_command(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"))
    venv = satchel.venv("env")
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "home = " in cfg
    out = run_python(venv, "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix]))")
    prefix, base = json.loads(out)
    assert Path(prefix) == venv and prefix != base
    assert not list(site_packages(venv).glob("pip*")), "satchel venv installs no pip"
    assert (venv / "bin" / "activate").exists()
    # Activating it works in a real shell.
    shell = subprocess.run(
        ["bash", "-c", f"source {venv}/bin/activate && echo $VIRTUAL_ENV && command -v python"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shell.stdout.split() == [str(venv), str(venv / "bin" / "python")]

    # An existing venv is replaced only with --clear (as uv 0.13), and its packages are gone then.
    satchel.run("install", "-p", venv, "alpha")
    assert (site_packages(venv) / "alpha").exists()
    kept = satchel.run("venv", venv, check=False)
    assert_error(kept, f"{venv} is a virtual environment already", "--clear")
    assert (site_packages(venv) / "alpha").exists()
    satchel.run("venv", venv, "--clear")
    assert not (site_packages(venv) / "alpha").exists()
    assert run_python(venv, "import sys; print(sys.prefix != sys.base_prefix)") == "True"

    # A directory with other things in it is only emptied with --clear --force.
    other = satchel.tmp / "notavenv"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    result = satchel.run("venv", other, check=False)
    assert_error(result, str(other), "not a virtual environment")
    assert "--clear --force" in result.stderr
    assert (other / "precious.txt").exists()
    # --clear alone empties only a virtual environment (uv's rule); --force as well empties this
    result = satchel.run("venv", other, "--clear", check=False)
    assert_error(result, str(other), "not a virtual environment (no pyvenv.cfg)")
    assert "--force" in result.stderr
    assert (other / "precious.txt").exists()
    satchel.run("venv", other, "--clear", "--force")
    assert not (other / "precious.txt").exists()
    assert run_python(other, "import sys; print(sys.prefix != sys.base_prefix)") == "True"


def test_target_selection(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"), WheelSpec("beta", "1.0"))
    project = tmp_path / "project"
    project.mkdir()
    dotvenv = satchel.venv("project/.venv")
    other = satchel.venv("other")

    # ./.venv in the working directory (and its parents).
    (project / "sub").mkdir()
    result = satchel.run("install", "alpha", cwd=project / "sub")
    assert " + alpha==1.0" in result.stderr
    assert (site_packages(dotvenv) / "alpha").exists()

    # $VIRTUAL_ENV wins over ./.venv.
    result = satchel.run("install", "beta", cwd=project, env={"VIRTUAL_ENV": str(other)})
    assert (site_packages(other) / "beta").exists()
    assert not (site_packages(dotvenv) / "beta").exists()
    listed = satchel.run("list", "--format", "freeze", env={"VIRTUAL_ENV": str(other)}).stdout
    assert listed == "beta==1.0\n"

    # -p wins over both; a venv directory is accepted as well as its python.
    satchel.run("install", "-p", venv_python(other), "alpha", cwd=project)
    assert (site_packages(other) / "alpha").exists()

    # No venv anywhere: a clear error with a hint, and nothing installed into any Python.
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    for args in (["install", "alpha"], ["list"], ["uninstall", "alpha"]):
        result = satchel.run(*args, cwd=nowhere, check=False)
        assert_error(result, "no virtual environment")
        assert "hint:" in result.stderr and "satchel venv" in result.stderr
