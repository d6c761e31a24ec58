"""Settings: every SATCHEL_* variable is parsed and checked in satchel/settings.py, and only there
(issue 11); the layers below get the values as parameters."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from satchel.cache import atomic
from satchel.cache.store import Cache
from satchel.commands.common import open_cache
from satchel.errors import SatchelError
from satchel.settings import (
    REMOTE_VARIABLES,
    VARIABLES,
    Settings,
    SettingsError,
    remote_config,
    url_problem,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "satchel"


@pytest.mark.parametrize(
    ("environ", "field", "value"),
    [
        ({}, "lock_timeout", 600.0),
        ({"SATCHEL_LOCK_TIMEOUT": "2.5"}, "lock_timeout", 2.5),
        ({"SATCHEL_LOCK_TIMEOUT": "0"}, "lock_timeout", 0.0),
        ({"SATCHEL_GIT_TIMEOUT": " 30 "}, "git_timeout", 30.0),
        ({"SATCHEL_INDEX_TTL": "0"}, "index_ttl", 0.0),
        ({"SATCHEL_INDEX_TTL": ""}, "index_ttl", 600.0),  # empty is unset
        ({"SATCHEL_INDEX_URL": "http://127.0.0.1:1/simple"}, "index_url", "http://127.0.0.1:1/simple"),
        ({"SATCHEL_INDEX_URL": "file:///srv/simple"}, "index_url", "file:///srv/simple"),
        ({"SATCHEL_CACHE_DIR": "/tmp/c"}, "cache_dir", Path("/tmp/c")),
        ({"SATCHEL_LINK_MODE": "copy"}, "link_mode", "copy"),
        ({"SATCHEL_NO_FAST_PATH": "1"}, "fast_path", False),
        ({"SATCHEL_NO_FAST_PATH": "no"}, "fast_path", True),
        ({"SATCHEL_UNSAFE_NO_FSYNC": "TRUE"}, "fsync", False),
        ({"SATCHEL_UNSAFE_NO_FSYNC": "0"}, "fsync", True),
        ({"SATCHEL_NO_LINK_WORKER": "1"}, "link_worker", False),
        ({"SATCHEL_NO_LINK_WORKER": "off"}, "link_worker", True),
    ],
)
def test_good_values(environ: dict[str, str], field: str, value: object) -> None:
    assert getattr(Settings.from_environ(environ), field) == value


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("SATCHEL_LOCK_TIMEOUT", "abc", "a number of seconds, 0 or more"),
        ("SATCHEL_LOCK_TIMEOUT", "-1", "a number of seconds, 0 or more"),
        ("SATCHEL_LOCK_TIMEOUT", "inf", "a number of seconds, 0 or more"),
        ("SATCHEL_GIT_TIMEOUT", "0", "a number of seconds, more than 0"),
        ("SATCHEL_GIT_TIMEOUT", "10m", "a number of seconds, more than 0"),
        ("SATCHEL_INDEX_TTL", "nan", "a number of seconds, 0 or more"),
        ("SATCHEL_INDEX_URL", "not a url", "an index URL (it contains white space)"),
        ("SATCHEL_INDEX_URL", "127.0.0.1/simple", "an index URL (no scheme such as https://)"),
        ("SATCHEL_INDEX_URL", "https:///simple", "an index URL (no host name)"),
        ("SATCHEL_LINK_MODE", "reflink", "one of hardlink, copy, symlink, clone"),
        ("SATCHEL_NO_FAST_PATH", "maybe", "1 or 0 (or true/false, yes/no, on/off)"),
        ("SATCHEL_UNSAFE_NO_FSYNC", "2", "1 or 0 (or true/false, yes/no, on/off)"),
        ("SATCHEL_NO_LINK_WORKER", "later", "1 or 0 (or true/false, yes/no, on/off)"),
    ],
)
def test_bad_values_name_the_variable_the_value_and_what_is_expected(name: str, raw: str, expected: str) -> None:
    with pytest.raises(SettingsError) as exc:
        Settings.from_environ({name: raw})
    assert exc.value.message == f"environment variable {name}={raw!r}: expected {expected}"
    assert exc.value.hint and name in exc.value.hint


def test_the_command_line_beats_the_environment() -> None:
    environ = {"SATCHEL_CACHE_DIR": "/env/cache"}
    assert Settings.from_environ(environ, cache_dir=None).cache_dir == Path("/env/cache")
    assert Settings.from_environ(environ, cache_dir=Path("/cli")).cache_dir == Path("/cli")
    assert Settings.from_environ({}, quiet=True, timeout=3.0).timeout == 3.0


def test_every_variable_satchel_reads_is_parsed_here_and_nowhere_else() -> None:
    # (SATCHEL_LOCK_TIMEOUT and SATCHEL_GIT_TIMEOUT were read with float() at import, issue 11)
    # One exception: the replay reader, which runs before the settings are parsed, looks where
    # the cache is (an absolute SATCHEL_CACHE_DIR as it is; test_replays.py compares the two).
    mentioned: set[str] = set()
    readers = []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        mentioned |= set(re.findall(r"\bSATCHEL_[A-Z_]+\b", text))
        reads = set(re.findall(r"(?:\.get\(|getenv\(|\[)\s*[\"'](SATCHEL_[A-Z_]*)", text))
        if path.name != "settings.py" and reads:
            readers.append((path.relative_to(SRC).as_posix(), sorted(reads)))
    assert readers == [("cache/replays.py", ["SATCHEL_CACHE_DIR"])]
    known = set(VARIABLES) | set(REMOTE_VARIABLES) | {"SATCHEL_REMOTE_", "SATCHEL_REMOTE_CACHE_"}
    assert mentioned <= known, mentioned - known
    assert set(VARIABLES) <= mentioned | {"SATCHEL_"}


def test_the_cache_gets_its_settings_as_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic, "_FSYNC", True)
    settings = Settings.from_environ(
        {"SATCHEL_LOCK_TIMEOUT": "7", "SATCHEL_CACHE_DIR": str(tmp_path / "c"), "SATCHEL_UNSAFE_NO_FSYNC": "0"}
    )
    cache = open_cache(settings)
    assert (cache.root, cache.lock_timeout) == (tmp_path / "c", 7.0)
    assert atomic._FSYNC
    Cache(tmp_path / "d", fsync=False)
    assert not atomic._FSYNC


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://host/simple", None),
        ("http://127.0.0.1:8080/simple/", None),
        ("file:///srv/index", None),
        ("file:/srv/index", None),
        ("not a url", "it contains white space"),
        ("host/simple", "no scheme such as https://"),
        ("localhost:8080/simple", "no scheme such as https://"),
        ("ftp://host/simple", "scheme 'ftp' is not one of http://, https://, file://"),
        ("https://", "no host name"),
        ("http://host:99999/", "Port out of range 0-65535"),
        ("http://[::1/", "Invalid IPv6 URL"),
        ("file://", "no path"),
    ],
)
def test_url_problems(url: str, problem: str | None) -> None:
    assert url_problem(url) == problem


def test_settings_stay_cheap_to_import() -> None:
    # Every command (the no-op install too) loads it: nothing beyond what dataclasses and
    # pathlib load already, but math and satchel's own errors.
    code = (
        "import sys, dataclasses, pathlib; before = set(sys.modules); import satchel.settings; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC.parent)})
    loaded = set(out.stdout.strip()[2:-2].split("', '"))
    assert loaded <= {"__future__", "math", "satchel", "satchel.errors", "satchel.settings"}, loaded


@pytest.mark.parametrize(
    ("mode", "upload_wait", "environ", "message"),
    [
        ("bogus", None, {}, "--remote-cache-mode: invalid mode 'bogus'"),
        ("", None, {}, "--remote-cache-mode: invalid mode ''"),
        (None, "-3", {}, "--remote-upload-wait: invalid number of seconds '-3'"),
        (None, "", {}, "--remote-upload-wait: invalid number of seconds ''"),
        (None, None, {"SATCHEL_REMOTE_CACHE_MODE": "write"}, "SATCHEL_REMOTE_CACHE_MODE: invalid mode 'write'"),
        (None, None, {"SATCHEL_REMOTE_CONNECT_TIMEOUT": "abc"}, "SATCHEL_REMOTE_CONNECT_TIMEOUT: invalid number of seconds 'abc'"),
        (None, None, {"SATCHEL_REMOTE_READ_TIMEOUT": "nan"}, "SATCHEL_REMOTE_READ_TIMEOUT: invalid number of seconds 'nan'"),
        (None, None, {"SATCHEL_REMOTE_UPLOAD_WAIT": "-1"}, "SATCHEL_REMOTE_UPLOAD_WAIT: invalid number of seconds '-1'"),
    ],
)
def test_remote_settings_are_checked_without_a_remote_cache(
    mode: str | None, upload_wait: str | None, environ: dict[str, str], message: str
) -> None:
    # (they were checked only once SATCHEL_REMOTE_CACHE or --remote-cache named a remote)
    with pytest.raises(SatchelError) as exc:
        remote_config(None, mode, upload_wait, environ)
    assert exc.value.message == message and exc.value.hint


def test_good_remote_settings_without_a_remote_cache_configure_none() -> None:
    assert remote_config(None, None, None, {}) is None
    good = {"SATCHEL_REMOTE_CACHE_MODE": "read-write", "SATCHEL_REMOTE_CONNECT_TIMEOUT": "3", "SATCHEL_REMOTE_READ_TIMEOUT": ""}
    assert remote_config(None, "read", "0", good) is None
    assert remote_config(None, None, None, {**good, "SATCHEL_REMOTE_CACHE": ""}) is None
    configured = remote_config("s3://bucket/prefix", None, "1.5", good)
    assert configured is not None and configured.mode == "read-write"
    assert (configured.connect_timeout, configured.upload_wait) == (3.0, 1.5)
