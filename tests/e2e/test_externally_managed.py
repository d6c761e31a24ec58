"""PEP 668: an interpreter whose packages the OS manages (its stdlib directory holds
EXTERNALLY-MANAGED) is not changed without --break-system-packages, as pip and uv refuse.

The real case is this machine's Debian /usr/bin/python3, which ships the marker. Every command
run against it here either is refused or is a --dry-run, and asks for a project the local index
does not have where it could otherwise go on: a broken check fails the test without touching the
system's packages.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from satchel.python.cached import get_facts
from satchel.python.probe import probe_facts
from satchel.python.venv import create_venv
from tests.support.cli import Satchel, assert_error
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
