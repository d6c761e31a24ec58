"""On a terminal, install shows progress bars (and still ends with the summary)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.support.cli import Satchel, site_packages
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _run_on_a_terminal(satchel: Satchel, *args: str) -> str:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "satchel", *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        env={**satchel.base_env(), "TERM": "xterm", "COLUMNS": "100"}, cwd=satchel.tmp,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def test_terminal_gets_progress_bars_and_summary(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, *[WheelSpec(f"pkg{i}", "1.0") for i in range(3)])
    venv = satchel.venv()
    out = _run_on_a_terminal(satchel, "install", "-p", str(venv), "pkg0", "pkg1", "pkg2")
    assert "Installing" in out and "Preparing" in out
    assert "\x1b[" in out  # drawn with terminal control sequences
    assert "Installed 3 packages" in out and " + pkg2==1.0" in out


def test_quiet_terminal_has_no_bars(satchel: Satchel, index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("pkg", "1.0"))
    venv = satchel.venv()
    out = _run_on_a_terminal(satchel, "install", "-q", "-p", str(venv), "pkg")
    assert "Preparing" not in out and "\x1b[" not in out
    assert "Installed" not in out and "pkg==1.0" not in out, out  # -q: no summary either (pip, uv)
    assert (site_packages(venv) / "pkg-1.0.dist-info").is_dir()


def test_pips_progress_bar_off_and_script_options(satchel: Satchel, index_server: IndexServer) -> None:
    """A Dockerfile's `pip install --no-cache-dir --progress-bar off --disable-pip-version-check
    --root-user-action ignore --no-input --no-warn-script-location --no-compile` works with
    satchel's name in front: no bars, the same summary, no cache written."""
    publish(index_server, WheelSpec("pkg", "1.0"))
    venv = satchel.venv()
    out = _run_on_a_terminal(
        satchel, "install", "-p", str(venv), "pkg", "--no-cache-dir", "--progress-bar", "off",
        "--disable-pip-version-check", "--root-user-action", "ignore", "--no-input",
        "--no-warn-script-location", "--no-compile",
    )  # fmt: skip
    assert "Preparing" not in out and "\x1b[" not in out and "Installed 1 package" in out, out
    assert not list(satchel.cache_dir.glob("files-v*/pkg"))  # (the venv command's interpreter record is all)
    assert not list(venv.glob("lib/python3.*/site-packages/pkg/__pycache__"))
    compiled = _run_on_a_terminal(satchel, "install", "-p", str(venv), "--compile", "--reinstall", "pkg")
    assert "Installed 1 package" in compiled
    assert list(venv.glob("lib/python3.*/site-packages/pkg/__pycache__/*.pyc"))


def test_terminal_shows_resolving_and_download_bytes(satchel: Satchel, index_server: IndexServer) -> None:
    """A resolving counter while pages are fetched, and a download bar in bytes with a rate.
    The server answers slowly so that the bars are drawn at least once (rich redraws 10 times
    a second)."""
    publish(index_server, WheelSpec("slowpage", "1.0", files={"slowpage/data.bin": "x" * 300_000}))
    index_server.stall("/simple/slowpage/", 0.5)
    index_server.stall("slowpage-1.0", 0.5)
    venv = satchel.venv()
    out = _run_on_a_terminal(satchel, "install", "-p", str(venv), "slowpage")
    assert "Resolving" in out and "Downloading" in out, out
    assert "KiB" in out, out
    assert "Installed 1 package" in out
