"""A project name longer than a file name can be (PEP 508 sets no limit; most file systems stop
at 255 bytes) is a project nobody has: on a ``file:`` index it is missing like any other (not an
``OSError: File name too long``), as it is on an http index; in the cache it has no entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Satchel, assert_error
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

LONG = "a" * 300


@pytest.fixture
def file_index(tmp_path: Path) -> str:
    """A ``file:`` index with no projects."""
    simple = tmp_path / "simple"
    simple.mkdir()
    return simple.as_uri()


def _install(satchel: Satchel, index: str, *args: str) -> list[str]:
    venv = satchel.tmp / "venv"
    if not venv.exists():
        satchel.venv()
    result = satchel.run("install", "-p", venv, "-i", index, "--dry-run", *args, check=False)
    assert_error(result, "No package named")
    return result.stderr.splitlines()


def test_install_of_a_too_long_name_from_a_file_index_is_not_found(
    satchel: Satchel, file_index: str
) -> None:
    missing = _install(satchel, file_index, "nosuch")
    assert _install(satchel, file_index, LONG) == [line.replace("nosuch", LONG) for line in missing]
    reqs = satchel.tmp / "reqs.txt"
    reqs.write_text(f"{LONG}\n")
    assert _install(satchel, file_index, "-r", str(reqs)) == [
        line.replace("nosuch", LONG) for line in missing
    ]


def test_install_of_a_too_long_name_is_the_same_error_from_an_http_index(
    satchel: Satchel, file_index: str
) -> None:
    assert satchel.index_url is not None
    from_http = _install(satchel, satchel.index_url, LONG)
    assert _install(satchel, file_index, LONG) == from_http
    # (the cache had warned of a broken entry, then given up caching for the rest of the run:
    # the answer's record is not kept, and nothing else changes)
    assert not [line for line in from_http if line.startswith("warning:")], from_http
    assert satchel.run("cache", "verify").returncode == 0


def test_index_versions_of_a_too_long_name_from_a_file_index(
    satchel: Satchel, file_index: str
) -> None:
    result = satchel.run("index", "versions", "-i", file_index, LONG, check=False)
    assert_error(result, f"no matching distribution found for {LONG}")


def test_an_index_url_too_long_to_exist_is_a_missing_index(
    satchel: Satchel, tmp_path: Path
) -> None:
    index = (tmp_path / LONG).as_uri()
    result = satchel.run("index", "versions", "-i", index, "alpha", check=False)
    assert_error(result, f"index {index} does not exist", "hint:")


def test_cache_list_and_clean_of_a_too_long_name_find_nothing(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, WheelSpec("alpha", "1.0"))
    # (buckets to look the name up in: below a missing directory, it is ENOENT, not ENAMETOOLONG)
    satchel.run("install", "-p", satchel.venv(), "alpha")
    listed = satchel.run("cache", "list", LONG)
    assert listed.stdout == f"nothing cached for {LONG}\n" and listed.stderr == "", listed
    cleaned = satchel.run("cache", "clean", LONG)
    assert cleaned.stdout == f"Removed 0 entries for {LONG}\n", cleaned
    assert " alpha " in satchel.run("cache", "list", "alpha").stdout


def test_a_find_links_location_too_long_to_exist_is_missing(satchel: Satchel, tmp_path: Path) -> None:
    # (was an OSError traceback from is_dir())
    venv = satchel.venv()
    where = tmp_path / LONG
    result = satchel.run("install", "-p", venv, "--no-index", "-f", str(where), "alpha", check=False)
    assert_error(result, "No package named 'alpha'")
    assert f"warning: find-links location {where} does not exist; ignoring it" in result.stderr, result
