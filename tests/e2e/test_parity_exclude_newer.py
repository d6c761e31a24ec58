"""`--exclude-newer DATE|DURATION` (and pip's `--uploaded-prior-to`) against the local index's
PEP 700 upload times (issue 15)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from satchel.cache import buckets, replays
from tests.support.cache import bucket_dir
from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def _publish(index_server: IndexServer) -> None:
    index_server.mode = "json"
    publish(
        index_server,
        WheelSpec("alpha", "1.0"),
        WheelSpec("alpha", "2.0"),
        WheelSpec("alpha", "3.0"),
        WheelSpec("beta", "1.0"),
    )
    index_server.upload_times["alpha-1.0-py3-none-any.whl"] = "2023-06-01T00:00:00.123456789Z"
    index_server.upload_times["alpha-2.0-py3-none-any.whl"] = "2024-02-01T00:00:00Z"
    index_server.upload_times["alpha-3.0-py3-none-any.whl"] = None  # no upload time at all


def test_exclude_newer_date_and_alias(satchel: Satchel, index_server: IndexServer) -> None:
    _publish(index_server)
    venv = satchel.venv()
    # Without the flag: the newest.
    assert " + alpha==3.0" in satchel.run("install", "-p", venv, "--dry-run", "alpha").stderr
    # A date: alpha 2.0 was uploaded after it; 3.0 has no upload time and is excluded too.
    before = satchel.run("install", "-p", venv, "--dry-run", "--exclude-newer", "2024-01-01", "alpha", "-v")
    assert " + alpha==1.0" in before.stderr
    assert "ignoring alpha-3.0-py3-none-any.whl: the index gives no upload time" in before.stderr
    assert "ignoring alpha-2.0-py3-none-any.whl: uploaded 2024-02-01T00:00:00+00:00" in before.stderr
    # pip's spelling, with a timestamp.
    alias = satchel.run(
        "install", "-p", venv, "--dry-run", "--uploaded-prior-to", "2024-03-01T00:00:00Z", "alpha"
    )
    assert " + alpha==2.0" in alias.stderr
    # What resolves is what installs.
    satchel.run("install", "-p", venv, "--exclude-newer", "2024-01-01T00:00:00+00:00", "alpha")
    listed = json.loads(satchel.run("list", "-p", venv, "--format", "json").stdout)
    assert listed == [{"name": "alpha", "version": "1.0"}]
    # Nothing old enough: the resolver says so.
    result = satchel.run("install", "-p", venv, "--dry-run", "--exclude-newer", "2019-12-31", "beta", check=False)
    assert result.returncode == 1 and "beta" in result.stderr
    # A bad value is a one-line error with a hint.
    bad = satchel.run("install", "-p", venv, "--exclude-newer", "last tuesday", "alpha", check=False)
    assert_error(bad, "--exclude-newer 'last tuesday'", "hint:")


def test_exclude_newer_duration(satchel: Satchel, index_server: IndexServer) -> None:
    _publish(index_server)
    recent = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    index_server.upload_times["alpha-2.0-py3-none-any.whl"] = recent
    venv = satchel.venv()
    week = satchel.run("install", "-p", venv, "--dry-run", "--exclude-newer", "7 days", "alpha")
    assert " + alpha==1.0" in week.stderr
    day = satchel.run("install", "-p", venv, "--dry-run", "--exclude-newer", "P1D", "alpha")
    assert " + alpha==2.0" in day.stderr
    # list --outdated honours it too.
    satchel.run("install", "-p", venv, "--exclude-newer", "1 week", "alpha")
    out = satchel.run("list", "-p", venv, "--outdated", "--format", "json", "--exclude-newer", "1 day")
    assert json.loads(out.stdout)[0]["latest_version"] == "2.0"


@pytest.mark.parametrize("value", ["99999999 days", "P99999999D", "9999-12-31T23:59:59-05:00", "0001-01-01"])
def test_exclude_newer_out_of_range_is_an_error(satchel: Satchel, index_server: IndexServer, value: str) -> None:
    # (were OverflowError and ValueError tracebacks)
    _publish(index_server)
    venv = satchel.venv()
    bad = satchel.run("install", "-p", venv, "--dry-run", "--exclude-newer", value, "alpha", check=False)
    assert_error(bad, f"--exclude-newer {value!r}", "hint:")


def test_every_command_rejects_an_exclude_newer_out_of_range(satchel: Satchel, index_server: IndexServer) -> None:
    _publish(index_server)
    venv = satchel.venv()
    satchel.run("install", "-p", venv, "alpha")
    (satchel.tmp / "requirements.in").write_text("alpha\n")
    flag = ("--exclude-newer", "99999999 days")
    for command in (
        ("install", "-p", venv, "alpha", *flag),  # the no-op check's path
        ("download", "-d", satchel.tmp / "dl", "alpha", *flag),
        ("index", "versions", "alpha", "-p", venv, *flag),
        ("list", "-p", venv, "--outdated", *flag),
        ("compile", "requirements.in", *flag),
        # (checked also where the index is not read: without --outdated, without --seed)
        ("list", "-p", venv, *flag),
        ("tree", "-p", venv, *flag),
        ("tree", "-p", venv, "--outdated", *flag),
        ("venv", satchel.tmp / "never", *flag),
    ):
        assert_error(satchel.run(*command, check=False), "--exclude-newer '99999999 days'", "hint:")


def test_compile_applies_exclude_newer(satchel: Satchel, index_server: IndexServer) -> None:
    _publish(index_server)
    (satchel.tmp / "requirements.in").write_text("alpha\n")

    def pins(*options: str) -> list[str]:
        text = satchel.run("compile", "requirements.in", *options).stdout
        return [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]

    assert pins() == ["alpha==3.0"]
    # As install: the newer files are ignored (the resolution remembered without the cut-off
    # is not reused with it), under either name.
    assert pins("--exclude-newer", "2024-01-01") == ["alpha==1.0"]
    assert pins("--uploaded-prior-to", "2024-03-01T00:00:00Z") == ["alpha==2.0"]
    # Once what they read has settled, the run without the cut-off stores a replay; the run
    # with it never does (a duration is relative to now), and is not answered by the other's.
    for _ in range(2):
        time.sleep(replays.RACY_NS / 1e9 + 0.1)
        assert pins() == ["alpha==3.0"]
        assert pins("--exclude-newer", "2024-01-01") == ["alpha==1.0"]
    assert len(list(bucket_dir(satchel.cache_dir, buckets.REPLAYS).glob("*.rec"))) == 1
    # A bad value is an error, as for install.
    bad = satchel.run("compile", "requirements.in", "--exclude-newer", "last tuesday", check=False)
    assert_error(bad, "--exclude-newer 'last tuesday'", "hint:")


def test_venv_seed_applies_exclude_newer(satchel: Satchel, index_server: IndexServer) -> None:
    # was: `venv --seed --exclude-newer DATE` installed the newest pip, the cut-off unused
    from tests.support.cli import pyenv_python, site_packages

    base = pyenv_python("3.12")  # (pip alone is seeded from 3.12 on)
    if base is None:
        pytest.skip("no pyenv CPython 3.12")
    index_server.mode = "json"
    publish(index_server, WheelSpec("pip", "98.0"), WheelSpec("pip", "99.0"))
    index_server.upload_times["pip-98.0-py3-none-any.whl"] = "2023-06-01T00:00:00Z"
    index_server.upload_times["pip-99.0-py3-none-any.whl"] = "2024-02-01T00:00:00Z"

    def seeded(venv: Path) -> list[str]:
        return sorted(p.name for p in site_packages(venv).glob("*.dist-info"))

    old = satchel.tmp / "old"
    satchel.run("venv", old, "-p", base, "--seed", "--exclude-newer", "2024-01-01")
    assert seeded(old) == ["pip-98.0.dist-info"]
    new = satchel.tmp / "new"
    satchel.run("venv", new, "-p", base, "--seed")
    assert seeded(new) == ["pip-99.0.dist-info"]
    # A bad value is an error before anything is created, with --seed or without.
    for seed in ((), ("--seed",)):
        bad = satchel.run("venv", satchel.tmp / "never", "-p", base, *seed, "--exclude-newer", "last tuesday", check=False)
        assert_error(bad, "--exclude-newer 'last tuesday'", "hint:")
        assert not (satchel.tmp / "never").exists()
