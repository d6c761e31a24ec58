"""Read-only caches and failing writes (issue 3, contracts 3, 4 and 8).

The suite runs as root, and root ignores permission bits, so two honest ways to take write access
away are used:

* ``setpriv`` runs satchel as the user ``nobody`` against a cache root owns (a cache baked into an
  image, shared read-only): real EACCES on every write. The interpreter for those runs is the
  system ``/usr/bin/python3`` (``nobody`` cannot reach the pyenv interpreters under /root) with
  satchel and its dependencies on PYTHONPATH. Also the only way to test a truly unreadable entry
  (chmod 000) rather than the directory-in-place stand-in the fault matrix uses.
* ``chattr +i`` (immutable) makes directories unwritable even for root: EPERM on every write.

Each test skips, saying why, when its tool is not usable here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.cache import buckets
from tests.support.cache import (
    ALPHA,
    BETA,
    bucket_dir,
    file_requests,
    full_downloads,
    only,
    page_requests,
    replace_with_dir,
    snapshot,
)
from tests.support.cli import Satchel, installed_files_match_record
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.readonly import (
    NOBODY,
    NOBODY_UNUSABLE,
    SYSTEM_PYTHON,
    NobodySatchel,
    immutable,
    needs_chattr,
)
from tests.support.wheels import WheelSpec

needs_nobody = pytest.mark.skipif(NOBODY_UNUSABLE is not None, reason=str(NOBODY_UNUSABLE))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory outside pytest's root-only tmp tree (nobody must reach it); root owns it."""
    d = Path(tempfile.mkdtemp(prefix="satchel-ro-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        subprocess.run(["chattr", "-R", "-i", str(d)], capture_output=True, check=False)
        shutil.rmtree(d, ignore_errors=True)


def nobody_home(shared: Path) -> Path:
    home = shared / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    return home


# -- a cache nobody may write ---------------------------------------------------------------------


@needs_nobody
def test_cache_owned_by_another_user_is_read_with_one_notice(
    shared_dir: Path, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    cache = shared_dir / "cache"
    root = Satchel(shared_dir, cache, index_url=index_server.index_url)
    root.run("install", "-p", root.venv("root-venv"), "alpha")

    home = nobody_home(shared_dir)
    nobody = NobodySatchel(home, cache, index_url=index_server.index_url)
    venv = nobody.venv("v", python=SYSTEM_PYTHON)
    before = snapshot(cache)
    index_server.reset_log()
    result = nobody.run("install", "-p", venv, "alpha")
    notices = result.warnings()
    assert len(notices) == 1 and "is not writable" in notices[0] and str(cache) in notices[0], (
        result
    )
    assert index_server.paths() == [], "a warm read-only cache is read, not bypassed"
    installed_files_match_record(venv, "alpha")
    installed_files_match_record(venv, "beta")
    # What is missing goes through a temporary cache; the shared cache is never written.
    publish(index_server, WheelSpec("gamma", "1.0"))
    more = nobody.run("install", "-p", venv, "gamma")
    assert len(more.warnings()) == 1, more
    installed_files_match_record(venv, "gamma")
    assert snapshot(cache) == before


@needs_nobody
def test_permission_denied_entry_is_a_miss(shared_dir: Path, index_server: IndexServer) -> None:
    """The fault matrix's "unreadable" cell with real permissions: chmod 000, as user nobody."""
    publish(index_server, ALPHA, BETA)
    home = nobody_home(shared_dir)
    nobody = NobodySatchel(home, home / "cache", index_url=index_server.index_url)
    nobody.run("install", "-p", nobody.venv("a", python=SYSTEM_PYTHON), "alpha")
    page = only(list((bucket_dir(home / "cache", buckets.INDEX) / "alpha").glob("*.rec")), "page")
    os.chmod(page, 0)

    verify = nobody.run("cache", "verify", check=False)
    assert verify.returncode == 1 and f"corrupt: {page}: Permission denied" in verify.stdout, verify
    index_server.reset_log()
    fresh = nobody.venv("fresh", python=SYSTEM_PYTHON)
    result = nobody.run("install", "-p", fresh, "alpha")
    assert len(result.warnings()) == 1, result
    assert str(page) in result.warnings()[0] and "Permission denied" in result.warnings()[0]
    installed_files_match_record(fresh, "alpha")
    assert index_server.paths() == ["/simple/alpha/"]
    assert page.stat().st_mode & 0o444 and nobody.run("cache", "verify").returncode == 0


# -- immutable directories (root) -------------------------------------------------------------------


@needs_chattr
def test_immutable_cache_is_read_with_one_notice(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA, WheelSpec("gamma", "1.0"))
    satchel.run("install", "-p", satchel.venv("a"), "alpha")
    fresh = satchel.venv("fresh")
    before = snapshot(satchel.cache_dir)
    index_server.reset_log()
    with immutable(satchel.cache_dir, recursive=True):
        result = satchel.run("install", "-p", fresh, "alpha", "gamma")
    notices = result.warnings()
    assert len(notices) == 1 and "is not writable" in notices[0], result
    # Only what the read-only cache lacks is fetched (through the temporary cache).
    assert page_requests(index_server) == ["/simple/gamma/"], index_server.paths()
    assert all("gamma" in p for p in file_requests(index_server)), index_server.paths()
    assert full_downloads(index_server, "gamma-1.0-py3-none-any.whl") == 1
    installed_files_match_record(fresh, "alpha")
    installed_files_match_record(fresh, "gamma")
    assert snapshot(satchel.cache_dir) == before


@needs_chattr
@pytest.mark.parametrize(
    "bucket",
    [buckets.FILES, buckets.ARCHIVES, buckets.METADATA, buckets.INDEX],
    ids=lambda b: b.dirname,
)
def test_failing_writes_are_one_warning(
    satchel: Satchel, index_server: IndexServer, bucket: buckets.Bucket
) -> None:
    """The root is writable but one bucket is not (like a full disk there): one warning, the run
    continues uncached, and nothing partial is left behind."""
    publish(index_server, ALPHA, BETA)
    venv = satchel.venv("a")
    (satchel.cache_dir / bucket.dirname).mkdir(exist_ok=True)
    with immutable(satchel.cache_dir / bucket.dirname):
        result = satchel.run("install", "-p", venv, "alpha")
    assert len(result.warnings()) == 1, result
    assert "cannot write to the cache" in result.warnings()[0], result
    installed_files_match_record(venv, "alpha")
    installed_files_match_record(venv, "beta")
    assert satchel.run("cache", "verify").returncode == 0
    # Writable again: the next install fills the cache, silently.
    again = satchel.run("install", "-p", satchel.venv("b"), "alpha")
    assert again.warnings() == [], again
    assert any((satchel.cache_dir / bucket.dirname).iterdir())


def test_unreadable_stand_in_is_what_the_matrix_uses(tmp_path: Path) -> None:
    """replace_with_dir really makes reads fail for root (the premise of the matrix's cell)."""
    f = tmp_path / "entry.rec"
    f.write_bytes(b"x")
    replace_with_dir(f)
    with pytest.raises(IsADirectoryError):
        f.read_bytes()
