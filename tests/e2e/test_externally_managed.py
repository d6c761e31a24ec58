"""PEP 668: an interpreter whose packages the OS manages (its stdlib directory holds
EXTERNALLY-MANAGED) is not changed without --break-system-packages, as pip and uv refuse.

The real case is this machine's Debian /usr/bin/python3, which ships the marker. Every command
run against it here either is refused or is a --dry-run, and asks for a project the local index
does not have where it could otherwise go on: a broken check fails the test without touching the
system's packages.

Where a test must install into a managed interpreter (the no-op paths must refuse before they
say "nothing to do"), it uses a copy of a pyenv CPython with its own EXTERNALLY-MANAGED and
site-packages (``managed_copy``).
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

from satchel.python.cached import get_facts
from satchel.python.probe import probe_facts
from satchel.python.venv import create_venv
from tests.support.cli import Satchel, assert_error, installed_files_match_record, pyenv_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

SYSTEM = Path("/usr/bin/python3")


def _marker(python: Path) -> Path | None:
    import subprocess

    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True, text=True, check=True,
    )
    marker = Path(out.stdout.strip()) / "EXTERNALLY-MANAGED"
    return marker if marker.is_file() else None


MARKER = _marker(SYSTEM)
needs_managed = pytest.mark.skipif(
    MARKER is None, reason=f"{SYSTEM} is missing or has no EXTERNALLY-MANAGED marker (Debian's has one)"
)


@needs_managed
def test_the_probe_reports_the_marker_and_a_venv_of_it_is_not_managed(tmp_path: Path) -> None:
    facts = probe_facts(SYSTEM)
    assert facts.externally_managed is not None
    assert "apt install" in facts.externally_managed  # Debian's Error text
    venv_python = create_venv(tmp_path / "venv", SYSTEM)
    assert get_facts(venv_python, None).externally_managed is None
    ours = Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED"
    if not ours.exists():
        assert probe_facts(Path(__import__("sys").executable)).externally_managed is None


@needs_managed
def test_install_uninstall_and_sync_are_refused_with_one_line(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    absent = "satchel-test-no-such-project"
    install = satchel.run("install", "-p", SYSTEM, "--system", absent, check=False)
    line = assert_error(install, "hint:", "--break-system-packages", "satchel venv")
    assert line.startswith(f"error: {SYSTEM} is externally managed (PEP 668): To install Python packages system-wide, try apt install")
    uninstall = satchel.run("uninstall", "-p", SYSTEM, "--system", absent, check=False)
    assert_error(uninstall, "externally managed (PEP 668)")
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"{absent}==1.0\n")
    sync = satchel.run("sync", "-p", SYSTEM, "--system", lock, check=False)
    assert_error(sync, "externally managed (PEP 668)")
    report = tmp_path / "report.json"
    # as pip: a dry run asking for a report changes nothing, so it is not refused
    asked = satchel.run("install", "-p", SYSTEM, "--system", "--dry-run", "--report", report, absent, check=False)
    assert "externally managed" not in asked.stderr and absent in asked.stderr


@needs_managed
def test_break_system_packages_lets_a_dry_run_through(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("pep668demo", "1.0"))
    result = satchel.run("install", "-p", SYSTEM, "--system", "--break-system-packages", "--dry-run", "pep668demo")
    assert "Would install 1 package" in result.stderr and "pep668demo==1.0" in result.stderr
    uninstall = satchel.run(
        "uninstall", "-p", SYSTEM, "--system", "--break-system-packages", "satchel-test-no-such-project", check=False
    )
    assert_error(uninstall, "none of satchel-test-no-such-project is installed")


# -- a managed interpreter whose packages satchel may touch ------------------------------------------

MANAGED_TEXT = "Managed by the test: use a virtual environment."


def managed_copy(base: Path, where: Path) -> Path:
    """A CPython that is externally managed but belongs to the test: ``base``'s executable
    copied to ``where/bin``, its standard library linked entry by entry into ``where/lib``
    (``sys.prefix`` is found from the executable: ``where``), with its own EXTERNALLY-MANAGED
    and an empty site-packages. Nothing of ``base`` is changed."""
    version = base.resolve().name.removeprefix("python")  # "3.12"
    real_lib = base.resolve().parent.parent / "lib" / f"python{version}"
    lib = where / "lib" / f"python{version}"
    (lib / "site-packages").mkdir(parents=True)
    for item in real_lib.iterdir():
        if item.name != "site-packages":
            os.symlink(item, lib / item.name)
    (lib / "EXTERNALLY-MANAGED").write_text(f"[externally-managed]\nError = {MANAGED_TEXT}\n")
    (where / "bin").mkdir()
    python = where / "bin" / "python3"
    shutil.copy2(base.resolve(), python)
    return python


PYENV_BASE = next((p for v in ("3.12", "3.11", "3.13", "3.10") if (p := pyenv_python(v))), None)


@pytest.fixture
def managed(tmp_path: Path) -> Path:
    if PYENV_BASE is None:
        pytest.skip("no pyenv CPython 3.10-3.13 to copy into a managed interpreter")
    python = managed_copy(PYENV_BASE, tmp_path / "managed")
    assert probe_facts(python).externally_managed == MANAGED_TEXT
    return python


@pytest.mark.parametrize(
    "requirement",
    [
        "pep668kept",  # the narrow no-op path (no packaging)
        'pep668kept ; python_full_version >= "3"',  # the full no-op check (a marker it parses)
    ],
)
def test_nothing_to_do_is_still_refused_without_the_flag(
    satchel: Satchel, index_server: IndexServer, managed: Path, requirement: str
) -> None:
    """With everything asked for installed already, the no-op paths must not answer "nothing
    to do" for a managed interpreter: like pip, the refusal comes first."""
    publish(index_server, WheelSpec("pep668kept", "1.0"))
    satchel.run("install", "-p", managed, "--break-system-packages", "pep668kept")
    prefix = managed.parent.parent
    installed_files_match_record(prefix, "pep668kept")
    before = sorted(p.name for p in (prefix / "lib").glob("python3.*/site-packages/*"))
    refused = satchel.run("install", "-v", "-p", managed, requirement, check=False)
    line = assert_error(refused, "hint:", "--break-system-packages")
    assert f"is externally managed (PEP 668): {MANAGED_TEXT}" in line
    assert "Nothing to do" not in refused.stderr
    after = sorted(p.name for p in (prefix / "lib").glob("python3.*/site-packages/*"))
    assert after == before
    kept = satchel.run("install", "-p", managed, "--break-system-packages", requirement)
    assert "Nothing to do: 1 package already installed" in kept.stderr, kept
