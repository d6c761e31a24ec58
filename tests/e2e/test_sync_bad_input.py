"""Malformed lock files: one clear error line naming the file, no traceback, nothing changed."""

from __future__ import annotations

import pytest

from tests.support.cli import Satchel, assert_error

GOOD_WHEEL = '{ url = "http://127.0.0.1:9/files/app-1.0-py3-none-any.whl", hashes = { sha256 = "' + "a" * 64 + '" } }'
HEAD = 'lock-version = "1.0"\ncreated-by = "tests"\n'

CASES = [
    ("not TOML", b"lock-version = \n", "not valid TOML"),
    ("not UTF-8", b"\xff\xfe lock", "not UTF-8"),
    ("no packages", HEAD.encode(), "Missing required value in 'packages'"),
    ("no lock-version", b'created-by = "x"\npackages = []\n', "Missing required value in 'lock-version'"),
    ("bad lock-version", b'lock-version = "one"\ncreated-by = "x"\npackages = []\n', "lock-version"),
    ("name not normalized", (HEAD + f'[[packages]]\nname = "App_X"\nwheels = [{GOOD_WHEEL}]\n').encode(), "is not normalized"),
    ("wheel without hashes", (HEAD + '[[packages]]\nname = "app"\nwheels = [{ url = "http://h/app-1.0-py3-none-any.whl" }]\n').encode(), "hashes"),
    ("wheels and directory", (HEAD + f'[[packages]]\nname = "app"\nwheels = [{GOOD_WHEEL}]\ndirectory = {{ path = "." }}\n').encode(), "None of vcs, directory, archive"),
    ("bad marker", (HEAD + f'[[packages]]\nname = "app"\nmarker = "python_version >>> 3"\nwheels = [{GOOD_WHEEL}]\n').encode(), "packages[0].marker"),
    ("wheel of another project", (HEAD + f'[[packages]]\nname = "other"\nwheels = [{GOOD_WHEEL}]\n').encode(), "not consistent with package name"),
    ("unknown hash algorithm", (HEAD + '[[packages]]\nname = "app"\nversion = "1.0"\nwheels = [{ url = "http://h/app-1.0-py3-none-any.whl", hashes = { nohash = "00" } }]\n').encode(), "none of the hash algorithms"),
    ("hg repository", (HEAD + '[[packages]]\nname = "app"\nvcs = { type = "hg", url = "https://h/r", commit-id = "abc" }\n').encode(), "hg repositories are not supported"),
    ("digest too short", (HEAD + '[[packages]]\nname = "app"\nversion = "1.0"\nwheels = [{ url = "http://h/app-1.0-py3-none-any.whl", hashes = { sha256 = "abc" } }]\n').encode(), "packages[0] (app): malformed sha256 digest 'abc' of app-1.0-py3-none-any.whl (expected 64 hex digits)"),
    ("digest not hex", (HEAD + '[[packages]]\nname = "app"\nversion = "1.0"\nwheels = [{ url = "http://h/app-1.0-py3-none-any.whl", hashes = { sha256 = "' + "z" * 64 + '" } }]\n').encode(), "malformed sha256 digest 'zzzz"),
    ("sdist digest malformed", (HEAD + f'[[packages]]\nname = "app"\nversion = "1.0"\nwheels = [{GOOD_WHEEL}]\nsdist = {{ url = "http://h/app-1.0.tar.gz", hashes = {{ sha512 = "' + "a" * 64 + '" } }\n').encode(), "of app-1.0.tar.gz (expected 128 hex digits)"),
    ("nested too deeply", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid TOML: arrays or inline tables nested too deeply"),
    ("missing path", (HEAD + '[[packages]]\nname = "app"\nversion = "1.0"\nwheels = [{ path = "nowhere/app-1.0-py3-none-any.whl", hashes = { sha256 = "' + "a" * 64 + '" } }]\n').encode(), "does not exist"),
]


@pytest.mark.parametrize(("data", "needle"), [pytest.param(d, n, id=i) for i, d, n in CASES])
def test_malformed_pylock(satchel: Satchel, data: bytes, needle: str) -> None:
    venv = satchel.venv()
    lock = satchel.tmp / "pylock.toml"
    lock.write_bytes(data)
    result = satchel.run("sync", "-p", venv, lock, check=False)
    line = assert_error(result, "pylock.toml", needle)
    assert len(line) < 600, line
    install = satchel.run("install", "-p", venv, "-r", lock, check=False)
    assert_error(install, "pylock.toml", needle)


def test_missing_lock_file(satchel: Satchel) -> None:
    venv = satchel.venv()
    result = satchel.run("sync", "-p", venv, "pylock.toml", check=False)
    assert_error(result, "cannot read pylock.toml", "No such file")
    other = satchel.run("sync", "-p", venv, "deps.toml", check=False)
    assert_error(other, "deps.toml: not a lock file satchel reads", "hint:")
