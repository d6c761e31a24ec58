"""Requirements and constraints files end to end: nesting, constraints, hashes, index options
inside files, and errors that name file:line."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Satchel, assert_error, run_python, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def installed_names(venv: Path) -> set[str]:
    return {p.name.split("-")[0] for p in site_packages(venv).glob("*.dist-info")}


def test_nested_requirements_and_constraints(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["gamma"]),
        WheelSpec("beta", "1.0"),
        WheelSpec("gamma", "1.0"),
        WheelSpec("gamma", "2.0"),
        WheelSpec("gamma", "3.0"),
    )
    reqs = satchel.tmp / "reqs"
    (reqs / "sub").mkdir(parents=True)
    (reqs / "requirements.txt").write_text(
        "# top level\n"
        "alpha  # trailing comment\n"
        "-r sub/more.txt\n"
        "-c constraints.txt\n"
    )
    (reqs / "sub" / "more.txt").write_text("be\\\nta>=1.0\n")  # a line continuation
    (reqs / "constraints.txt").write_text("gamma<3\nnot-required-anywhere==9\n")
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "-r", reqs / "requirements.txt", cwd=satchel.tmp)
    assert "Resolved 3 packages" in result.stderr
    for line in (" + alpha==1.0", " + beta==1.0", " + gamma==2.0"):
        assert line in result.stderr, result
    # A constraint alone installs nothing.
    assert installed_names(venv) == {"alpha", "beta", "gamma"}
    assert run_python(venv, "import gamma; print(gamma.__version__)") == "2.0"


def test_constraint_file_on_the_command_line_and_env_vars(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, WheelSpec("gamma", "1.0"), WheelSpec("gamma", "2.0"))
    (satchel.tmp / "c.txt").write_text("gamma==${GAMMA_VERSION}\n")
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "gamma", "-c", "c.txt", env={"GAMMA_VERSION": "1.0"})
    assert " + gamma==1.0" in result.stderr


def test_hashes(satchel: Satchel, index_server: IndexServer) -> None:
    whl, dep = publish(
        index_server, WheelSpec("alpha", "1.0", requires=["beta"]), WheelSpec("beta", "1.0")
    )
    good = index_server.sha256(whl.name)
    dep_hash = index_server.sha256(dep.name)
    bad = "0" * 64
    venv = satchel.venv()

    (satchel.tmp / "bad.txt").write_text(
        f"alpha==1.0 --hash=sha256:{bad}\nbeta==1.0 --hash=sha256:{dep_hash}\n"
    )
    result = satchel.run("install", "-p", venv, "-r", "bad.txt", check=False)
    assert_error(result, "alpha", bad, good)
    assert installed_names(venv) == set(), "nothing may be installed after a hash mismatch"

    # --require-hashes without a hash on every line.
    (satchel.tmp / "partial.txt").write_text(f"alpha==1.0 --hash=sha256:{good}\nbeta==1.0\n")
    result = satchel.run("install", "-p", venv, "--require-hashes", "-r", "partial.txt", check=False)
    assert_error(result, "beta")
    assert installed_names(venv) == set()

    # A hash on one line turns on hash checking for all (like pip): the unhashed dep is refused.
    result = satchel.run("install", "-p", venv, "-r", "partial.txt", check=False)
    assert_error(result, "beta")

    # Unpinned with --require-hashes.
    (satchel.tmp / "unpinned.txt").write_text(f"alpha --hash=sha256:{good}\n")
    result = satchel.run("install", "-p", venv, "--require-hashes", "-r", "unpinned.txt", check=False)
    assert_error(result, "alpha", "==")

    (satchel.tmp / "good.txt").write_text(
        f"alpha==1.0 \\\n    --hash=sha256:{bad} \\\n    --hash=sha256:{good}\n"
        f"beta==1.0 --hash=sha256:{dep_hash}\n"
    )
    result = satchel.run("install", "-p", venv, "-r", "good.txt")
    assert " + alpha==1.0" in result.stderr and " + beta==1.0" in result.stderr
    assert installed_names(venv) == {"alpha", "beta"}


def test_index_options_inside_files(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    publish(index_server, WheelSpec("alpha", "1.0", requires=["beta"]))
    with IndexServer(tmp_path / "second") as second, IndexServer(tmp_path / "third") as third:
        publish(second, WheelSpec("beta", "1.0"))
        publish(third, WheelSpec("gamma", "1.0"))
        venv = satchel.venv()
        # The default index (SATCHEL_INDEX_URL) has alpha; the file adds the second index.
        (satchel.tmp / "extra.txt").write_text(f"--extra-index-url {second.index_url}\nalpha\n")
        result = satchel.run("install", "-p", venv, "-r", "extra.txt")
        assert " + alpha==1.0" in result.stderr and " + beta==1.0" in result.stderr
        assert second.count("/simple/beta/") >= 1

        # -i in a file replaces the default index.
        (satchel.tmp / "index.txt").write_text(f"-i {third.index_url}\ngamma\n")
        index_server.reset_log()
        result = satchel.run("install", "-p", venv, "-r", "index.txt")
        assert " + gamma==1.0" in result.stderr
        assert third.count("/simple/gamma/") >= 1
        assert index_server.count("/simple/") == 0, index_server.paths()


def test_pre_inside_a_file(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"), WheelSpec("alpha", "2.0b1"))
    venv = satchel.venv()
    (satchel.tmp / "pre.txt").write_text("--pre\nalpha\n")
    result = satchel.run("install", "-p", venv, "-r", "pre.txt")
    assert " + alpha==2.0b1" in result.stderr


def test_malformed_lines_name_file_and_line(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"))
    venv = satchel.venv()
    (satchel.tmp / "sub").mkdir()
    (satchel.tmp / "top.txt").write_text("alpha\n-r sub/nested.txt\n")
    (satchel.tmp / "sub" / "nested.txt").write_text("# fine\n\nalpha>=1\nalpha >=< 2 !!\n")
    result = satchel.run("install", "-p", venv, "-r", "top.txt", check=False)
    error = assert_error(result, "nested.txt:4", "alpha >=< 2 !!")
    assert "nested.txt:4" in error

    (satchel.tmp / "opt.txt").write_text("alpha\n--frobnicate\n")
    result = satchel.run("install", "-p", venv, "-r", "opt.txt", check=False)
    assert_error(result, "opt.txt:2", "--frobnicate")

    (satchel.tmp / "hash.txt").write_text("alpha==1.0 --hash=sha256:nothex\n")
    result = satchel.run("install", "-p", venv, "-r", "hash.txt", check=False)
    assert_error(result, "hash.txt:1")

    result = satchel.run("install", "-p", venv, "-r", "missing.txt", check=False)
    assert_error(result, "missing.txt")

    result = satchel.run("install", "-p", venv, "alpha >=< 2", check=False)
    assert_error(result, "alpha >=< 2")
    assert installed_names(venv) == set()
