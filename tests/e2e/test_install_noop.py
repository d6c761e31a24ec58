"""The no-op install: when everything asked for is installed already, satchel answers from the
environment alone (no index, no resolver) and says exactly what the full install says; when
anything is missing or different it installs as usual."""

from __future__ import annotations

import re
from pathlib import Path

from satchel.cache import buckets
from tests.support.cli import Result, Satchel, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.readonly import immutable, needs_chattr
from tests.support.wheels import WheelSpec

FAST = "all requirements already satisfied by the installed packages"
FULL_PATH = {"SATCHEL_NO_FAST_PATH": "1"}


def summary(result: Result) -> str:
    """stderr without timings."""
    return re.sub(r" in \d+(\.\d+)?m?s$", " in T", result.stderr, flags=re.MULTILINE)


def installed_versions(venv: Path) -> dict[str, str]:
    out = {}
    for info in site_packages(venv).glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        out[name] = version
    return out


def setup(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> tuple[Path, Path, Path]:
    publish(
        index_server,
        WheelSpec(
            "Alpha",
            "1.0",
            requires=["beta>=1", "pywin32; sys_platform == 'win32'"],
            extras={"fast": ["gamma>=1"], "test": ["not-published"]},
        ),
        WheelSpec("beta", "1.0"),
        WheelSpec("gamma", "1.0"),
    )
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("alpha[fast]\n# a comment\nbeta>=0.5  # inline\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("gamma<2\nunrelated==3.0\n")
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "-r", reqs, "-c", constraints)
    assert installed_versions(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}
    index_server.reset_log()
    return venv, reqs, constraints


def test_nothing_to_do_skips_index_and_resolver(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    venv, reqs, constraints = setup(satchel, index_server, tmp_path)

    fast = satchel.run("install", "-p", venv, "-r", reqs, "-c", constraints)
    assert FAST not in fast.stderr  # not said without -v
    full = satchel.run("install", "-p", venv, "-r", reqs, "-c", constraints, env=FULL_PATH)
    assert summary(fast) == summary(full) == (
        f"Resolved 3 packages in T\nNothing to do: 3 packages already installed in {venv}\n"
    )

    verbose = satchel.run("install", "-v", "-p", venv, "-r", reqs, "-c", constraints)
    assert FAST in verbose.stderr
    assert "debug: satchel: gamma==1.0 is already installed; keeping it" in verbose.stderr
    verbose_full = satchel.run("install", "-v", "-p", venv, "-r", reqs, "-c", constraints, env=FULL_PATH)
    assert FAST not in verbose_full.stderr
    for line in summary(verbose_full).splitlines():
        if "satchel:" not in line or "keeping it" in line:
            assert line in summary(verbose).splitlines()

    # Requirements on the command line, and --dry-run, --no-deps, --pre: the same.
    for args in (["alpha", "gamma"], ["--dry-run", "alpha"], ["--no-deps", "alpha"], ["--pre", "beta"]):
        assert FAST in satchel.run("install", "-v", "-p", venv, *args).stderr
        assert summary(satchel.run("install", "-p", venv, *args)) == summary(
            satchel.run("install", "-p", venv, *args, env=FULL_PATH)
        )
    assert index_server.count() == 0, index_server.paths()
    assert installed_versions(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}


def test_missing_dependency_is_installed(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    venv, reqs, constraints = setup(satchel, index_server, tmp_path)
    satchel.run("uninstall", "-p", venv, "beta")

    result = satchel.run("install", "-v", "-p", venv, "-r", reqs, "-c", constraints)
    assert FAST not in result.stderr
    assert "no-op check: beta is not installed" in result.stderr
    assert " + beta==1.0" in result.stderr
    assert installed_versions(venv) == {"alpha": "1.0", "beta": "1.0", "gamma": "1.0"}

    # An extra's dependency that is missing is installed too.
    satchel.run("uninstall", "-p", venv, "gamma")
    result = satchel.run("install", "-v", "-p", venv, "alpha")
    assert FAST in result.stderr  # plain alpha does not need gamma
    result = satchel.run("install", "-v", "-p", venv, "alpha[fast]")
    assert FAST not in result.stderr and " + gamma==1.0" in result.stderr


def test_other_versions_are_resolved(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    venv, _, constraints = setup(satchel, index_server, tmp_path)
    publish(index_server, WheelSpec("beta", "2.0"))

    result = satchel.run("install", "-v", "--refresh", "-p", venv, "alpha", "beta>=2")
    assert FAST not in result.stderr
    assert "beta 1.0 does not satisfy beta>=2" in result.stderr
    assert " - beta==1.0" in result.stderr and " + beta==2.0" in result.stderr

    # A constraint the installed version breaks.
    constraints.write_text("beta<2\n")
    result = satchel.run("install", "-v", "-p", venv, "alpha", "-c", constraints)
    assert FAST not in result.stderr
    assert " + beta==1.0" in result.stderr
    assert installed_versions(venv)["beta"] == "1.0"


def test_options_it_does_not_model_take_the_full_path(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    venv, _, _ = setup(satchel, index_server, tmp_path)
    wheel = publish(index_server, WheelSpec("delta", "1.0"))[0]
    satchel.run("install", "-p", venv, wheel)
    for args in (
        ["-U", "alpha"],
        ["-P", "beta", "alpha"],
        ["--reinstall", "beta"],
        ["--require-hashes", "beta"],
        [f"delta @ {wheel.as_uri()}"],
        [str(wheel)],
        ["--target", str(tmp_path / "target"), "beta"],
        ["--config-settings", "nonsense", "beta"],
    ):
        result = satchel.run("install", "-v", "-p", venv, *args, check=False)
        assert FAST not in result.stderr, result
    hashed = tmp_path / "hashed.txt"
    hashed.write_text(f"beta==1.0 --hash=sha256:{'0' * 64}\n")
    result = satchel.run("install", "-v", "-p", venv, "-r", hashed, check=False)
    assert FAST not in result.stderr, result
    # Turned off: the full install says the same, without the debug line.
    result = satchel.run("install", "-v", "-p", venv, "alpha", env=FULL_PATH)
    assert FAST not in result.stderr and "Nothing to do: 2 packages" in result.stderr


# -- what the cache says along the way: said once, as the full install says it ---------------------


def interpreter_records(satchel: Satchel) -> list[Path]:
    return [p for p in (satchel.cache_dir / buckets.INTERPRETERS.dirname).rglob("*") if p.is_file()]


def test_a_broken_interpreter_record_is_one_warning(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    venv, _, _ = setup(satchel, index_server, tmp_path)
    (record,) = interpreter_records(satchel)
    record.write_bytes(b"garbage")
    result = satchel.run("install", "-v", "-p", venv, "alpha")
    assert FAST in result.stderr
    assert len(result.warnings()) == 1 and "ignoring broken cache entry" in result.warnings()[0], result
    assert "Nothing to do: 2 packages" in result.stderr
    assert satchel.run("install", "-p", venv, "alpha").warnings() == []  # healed


@needs_chattr
def test_a_read_only_cache_is_one_notice(satchel: Satchel, index_server: IndexServer, tmp_path: Path) -> None:
    venv, _, _ = setup(satchel, index_server, tmp_path)
    with immutable(satchel.cache_dir, recursive=True):
        result = satchel.run("install", "-p", venv, "alpha")
    assert len(result.warnings()) == 1 and "is not writable" in result.warnings()[0], result
    assert "Nothing to do: 2 packages" in result.stderr


@needs_chattr
def test_a_probe_the_cache_cannot_store_is_one_warning(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    venv, _, _ = setup(satchel, index_server, tmp_path)
    for record in interpreter_records(satchel):
        record.unlink()
    with immutable(satchel.cache_dir / buckets.INTERPRETERS.dirname, recursive=True):
        result = satchel.run("install", "-p", venv, "alpha")
    assert len(result.warnings()) == 1 and "cannot write to the cache" in result.warnings()[0], result
    assert "Nothing to do: 2 packages" in result.stderr


def test_a_marker_that_cannot_be_evaluated_is_warned_about_every_time(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    # satchel.standards.markers: a dependency whose marker cannot be evaluated is left out with a
    # warning, so the no-op check never hides that warning; `satchel check` does the same.
    publish(
        index_server,
        WheelSpec("alpha", "1.0", requires=['beta; python_version ~= "x"', "gamma"]),
        WheelSpec("beta", "1.0"),
        WheelSpec("gamma", "1.0"),
    )
    venv = satchel.venv()
    first = satchel.run("install", "-p", venv, "alpha")
    assert installed_versions(venv) == {"alpha": "1.0", "gamma": "1.0"}
    warning = "Ignoring dependency 'beta; python_version ~= \"x\"' of alpha 1.0"
    assert warning + ": cannot evaluate its marker" in first.stderr
    again = satchel.run("install", "-p", venv, "alpha")  # the full install says it again
    assert warning + " (installed): cannot evaluate its marker" in again.stderr
    assert "Nothing to do: 2 packages" in again.stderr
    checked = satchel.run("check", "-p", venv)
    assert "cannot evaluate its marker" in checked.stderr and "Traceback" not in checked.stderr
    assert checked.stdout.strip() == "No broken requirements found."
    # the user's own requirement with such a marker is an error naming it
    failed = satchel.run("install", "-p", venv, 'alpha; python_version ~= "x"', check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "cannot evaluate the marker of 'alpha; python_version ~= \"x\"' (command line)" in failed.stderr


def test_the_no_op_imports_no_full_install_nor_platformdirs(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    import subprocess
    import sys

    venv, reqs, constraints = setup(satchel, index_server, tmp_path)
    env = {k: v for k, v in satchel.base_env().items() if k != "SATCHEL_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")  # the default cache directory, found without platformdirs
    code = (
        "import sys; from satchel.cli.main import main; "
        f"rc = main(['install', '-p', {str(venv)!r}, '-r', {str(reqs)!r}, '-c', {str(constraints)!r}]); "
        "print(rc, sorted(m for m in ('platformdirs', 'tempfile', 'shutil', 'random', "
        "'satchel.commands.install', 'satchel.commands.sync', 'satchel.commands.sync_request', "
        "'satchel.python.run') if m in sys.modules))"
    )
    # The first run probes the interpreter into the new cache (satchel.python.run runs it) and,
    # while the probe runs, loads the full install (a target not seen before is most likely
    # about to be installed into); the second finds the probe's record there: nothing of either.
    for expected in ("0 ['satchel.commands.install', 'satchel.python.run']", "0 []"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                             cwd=tmp_path, check=True)
        assert "Nothing to do: 3 packages" in out.stderr, out.stderr
        assert out.stdout.strip() == expected, out.stdout
    assert (tmp_path / "xdg" / "satchel").is_dir()
    assert index_server.count() == 0


def test_the_no_op_imports_no_packaging_when_everything_is_in_the_narrow_form(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    """Requirement files, metadata and versions in the narrow form: the no-op decides without
    packaging, the request or the full check (and without subprocess); anything outside it goes
    the old way and says the same."""
    import subprocess
    import sys

    venv, reqs, constraints = setup(satchel, index_server, tmp_path)
    heavy = ("packaging", "satchel.commands.request", "satchel.requirements.files",
             "satchel.install.satisfied", "subprocess", "satchel.standards.markers",
             "hashlib")  # (OpenSSL: ~3-5 ms; the venv's pyvenv.cfg is hashed without it)
    code = (
        "import sys; from satchel.cli.main import main; "
        "rc = main(sys.argv[1:]); "
        f"print(rc, sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    env = satchel.base_env()
    satchel.run("install", "-p", venv, "-r", reqs, "-c", constraints)  # (the probe is cached)
    args = ["install", "-v", "-p", str(venv), "-r", str(reqs), "-c", str(constraints)]
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == "0 []", out.stdout
    full = satchel.run(*args[:1], *args[1:], env=FULL_PATH)
    assert [line for line in out.stderr.splitlines() if "Resolved" not in line and FAST not in line] == [
        line for line in full.stderr.splitlines() if "Resolved" not in line
    ]
    # Not in the narrow form (=== is left to packaging): decided the old way, with packaging.
    odd = tmp_path / "odd.txt"
    odd.write_text("alpha[fast]===1.0\n")
    out = subprocess.run([sys.executable, "-c", code, "install", "-p", str(venv), "-r", str(odd)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert "Nothing to do: 3 packages" in out.stderr, out.stderr
    assert "'packaging'" in out.stdout, out.stdout
