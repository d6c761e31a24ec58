"""What the user sees: conflicts explained with their chains, clear errors for missing packages
and unreachable indexes (exit 1, one `error:` line, no traceback), and plain summaries when the
output is not a terminal (-q keeps the summary, -v logs requests)."""

from __future__ import annotations

import re

from tests.support.cli import Result, Satchel, run_python, site_packages
from tests.support.cli import assert_error as cli_assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

ESCAPE = re.compile(r"\x1b\[|\r")


def assert_error(result: Result, *needles: str) -> str:
    """The shared check, plus: errors carry no terminal escape codes when not on a terminal."""
    line = cli_assert_error(result, *needles)
    assert not ESCAPE.search(result.output), repr(result.output)
    return line


def test_conflicts_are_explained(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("alpha", "3.0"),
        WheelSpec("root", "1.0", requires=["middle", "leaf>=2"]),
        WheelSpec("middle", "1.0", requires=["leaf<2"]),
        WheelSpec("leaf", "1.0"),
        WheelSpec("leaf", "2.0"),
    )
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "alpha<2", "alpha>=3", check=False)
    assert_error(result, "alpha<2", "alpha>=3", "conflict", "1.0", "3.0")

    result = satchel.run("install", "-p", venv, "root", check=False)
    assert_error(result, "leaf>=2", "leaf<2", "conflict")
    # The chain through which each requirement came in.
    assert re.search(r"root .*-> .*middle 1\.0 -> leaf<2", result.stderr), result
    assert re.search(r"root .*-> root 1\.0 -> leaf>=2", result.stderr), result

    # From a requirements file: the conflicting lines are named by file:line.
    (satchel.tmp / "reqs.txt").write_text("alpha<2\n\nalpha>=3\n")
    result = satchel.run("install", "-p", venv, "-r", "reqs.txt", check=False)
    assert_error(result, "reqs.txt:1", "reqs.txt:3")
    assert not list(site_packages(venv).glob("*.dist-info"))


def test_missing_package_and_unreachable_index(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("alpha", "1.0", requires=["ghost"]))
    venv = satchel.venv()
    error = assert_error(satchel.run("install", "-p", venv, "nosuchpkg", check=False), "nosuchpkg")
    assert "hint:" in satchel.run("install", "-p", venv, "nosuchpkg", check=False).stderr
    assert "nosuchpkg" in error
    # A missing dependency names who wanted it.
    result = satchel.run("install", "-p", venv, "alpha", check=False)
    assert_error(result, "ghost", "alpha")

    result = satchel.run(
        "install", "-p", venv, "-i", "http://127.0.0.1:1/simple", "alpha", "--timeout", "2", check=False
    )
    error = assert_error(result, "127.0.0.1:1", "hint:")
    assert "connection refused" in error or "cannot reach" in error, error
    assert not list(site_packages(venv).glob("*.dist-info"))


def test_summary_quiet_and_verbose(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=["beta"]),
        WheelSpec("beta", "1.0"),
        WheelSpec("gamma", "1.0"),
    )
    venv = satchel.venv()
    result = satchel.run("install", "-p", venv, "alpha")
    assert not ESCAPE.search(result.output), repr(result.output)
    lines = result.stderr.splitlines()
    assert re.fullmatch(r"Resolved 2 packages in \d+(ms|\.\d+s)", lines[0]), lines
    assert any(re.fullmatch(r"Installed 2 packages in \d+(ms|\.\d+s)", x) for x in lines), lines
    assert lines[-2:] == [" + alpha==1.0", " + beta==1.0"]
    assert result.stdout == ""

    # -q: silent on success, as pip's and uv's -q are; the work is done all the same.
    publish(index_server, WheelSpec("alpha", "2.0", requires=["beta"]))
    result = satchel.run("install", "-p", venv, "-q", "-U", "alpha", "gamma")
    assert result.stderr == "" and result.stdout == "", result
    names = {p.name for p in site_packages(venv).iterdir()}
    assert {"alpha-2.0.dist-info", "gamma-1.0.dist-info"} <= names and "alpha-1.0.dist-info" not in names

    # Nothing to do says so, quickly.
    result = satchel.run("install", "-p", venv, "alpha", "gamma")
    assert "Nothing to do" in result.stderr
    assert "Installed" not in result.stderr

    # -v logs every request (with the index URL) and the decisions.
    result = satchel.run("install", "-p", venv, "-v", "--refresh", "--reinstall", "beta")
    debug = [line for line in result.stderr.splitlines() if line.startswith("debug:")]
    assert any(index_server.url in line and "/simple/beta/" in line for line in debug), debug
    # The wheel is not downloaded again: the cache hit is logged instead.
    assert any("beta-1.0-py3-none-any.whl" in line and "cache" in line for line in debug), debug
    assert not any("/files/beta" in line for line in debug), debug
    assert any("beta==1.0 is installed; replacing it" in line for line in debug), debug
    assert " - beta==1.0" in result.stderr and " + beta==1.0" in result.stderr
    assert not ESCAPE.search(result.output)
    result = satchel.run("install", "-p", venv, "-v", "alpha")
    assert "debug: satchel: alpha==2.0 is already installed; keeping it" in result.stderr


def test_no_requirements_and_bad_flags(satchel: Satchel) -> None:
    venv = satchel.venv()
    assert_error(satchel.run("install", "-p", venv, check=False), "no requirements")
    result = satchel.run("install", "-p", venv, "-e", ".", check=False)
    assert_error(result, "'.'", "not a Python project")
    (satchel.tmp / "proj").mkdir()
    (satchel.tmp / "proj" / "pyproject.toml").write_text("[project]\nname = 'proj'\nversion = '1'\n")
    result = satchel.run("install", "-p", venv, "-e", "proj", check=False)
    assert_error(result, "editable", "proj")
    # argparse usage errors exit 2 with usage, like pip; never a traceback.
    result = satchel.run("install", "--link-mode", "teleport", "x", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert satchel.run("--version").stdout.startswith("satchel ")
    for command in ("install", "uninstall", "list", "freeze", "show", "check", "venv"):
        assert satchel.run(command, "--help").stdout.startswith("usage: satchel " + command)


def test_quiet_hides_every_commands_summary_but_not_its_result_warnings_or_errors(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """-q: warnings and errors only (pip's -q, uv's -q); -qq: errors only (pip's -qq). What a
    command writes to standard output (a lock) is its result and stays."""
    publish(index_server, WheelSpec("alpha", "1.0", requires=["beta"]), WheelSpec("beta", "1.0"))
    venv = satchel.tmp / "v"
    made = satchel.run("venv", "-q", venv)
    assert made.stderr == "" and (venv / "bin" / "python").exists(), made
    req = satchel.tmp / "req.in"
    req.write_text("alpha\n")
    lock = satchel.run("compile", "-q", req)
    assert lock.stderr == "" and "alpha==1.0" in lock.stdout and "beta==1.0" in lock.stdout, lock
    (satchel.tmp / "req.txt").write_text(lock.stdout)
    synced = satchel.run("sync", "-q", "-p", venv, satchel.tmp / "req.txt")
    assert synced.stderr == "", synced
    assert run_python(venv, "import alpha, beta; print('ok')") == "ok"
    again = satchel.run("install", "-q", "-p", venv, "alpha")  # nothing to do
    assert again.stderr == "", again
    saved = satchel.run("download", "-q", "-d", satchel.tmp / "dl", "--no-deps", "beta")
    assert saved.stderr == "" and (satchel.tmp / "dl" / "beta-1.0-py3-none-any.whl").is_file(), saved

    # A warning still shows with -q, not with -qq; an error always does.
    one = satchel.run("uninstall", "-q", "-p", venv, "beta", "nothere")
    assert one.stderr.splitlines() == [f"warning: nothere is not installed in {venv}"], one
    two = satchel.run("uninstall", "-qq", "-p", venv, "alpha", "nothere")
    assert two.stderr == "" and two.returncode == 0, two
    failed = satchel.run("uninstall", "-qq", "-p", venv, "nothere", check=False)
    assert failed.returncode == 1 and failed.stderr.startswith("error: none of nothere is installed"), failed
    # Without -q the same commands say what they did.
    loud = satchel.run("install", "-p", venv, "alpha")
    assert " + alpha==1.0" in loud.stderr and " + beta==1.0" in loud.stderr, loud
