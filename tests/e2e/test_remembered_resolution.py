"""Remembered resolutions (issue 13): a resolution is reused only while it is exactly the answer
resolving again would give.

Each test resolves once (which remembers the answer), then changes one thing the answer depends
on and checks that the next run resolves again and answers the new question, or changes nothing
and checks the answer is reused without reading a page (the local index counts every request).
The fault matrix (test_cache_faults.py) has the rows for a damaged remembered resolution.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from satchel.cache import buckets, journal
from satchel.cache.store import Cache
from satchel.index.records import CachedPage
from satchel.resolve.remembered import RememberedResolution
from tests.support.builds import intree_sdist
from tests.support.cache import ALPHA, BETA, bucket_dir, only
from tests.support.cli import Result, Satchel, run_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

REMEMBERED = "resolution: remembered from the cache"
BETA2 = WheelSpec("beta", "2.0")


def remembered(result: Result) -> bool:
    return REMEMBERED in result.stderr


def resolutions(satchel: Satchel) -> list[Path]:
    where = bucket_dir(satchel.cache_dir, buckets.RESOLUTIONS)
    return sorted(where.glob("*.rec")) if where.is_dir() else []


def version_of(venv: Path, name: str) -> str:
    return run_python(venv, f"import importlib.metadata as m; print(m.version({name!r}))")


def install(satchel: Satchel, venv: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return satchel.run("install", "-v", "-p", satchel.venv(venv), *args, env=env)


def test_the_same_question_is_answered_from_the_cache_without_reading_a_page(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA, BETA2)
    first = install(satchel, "one", "alpha")
    assert not remembered(first), first
    assert len(resolutions(satchel)) == 1

    index_server.reset_log()
    second = install(satchel, "two", "alpha")
    assert remembered(second), second
    assert index_server.paths() == [], "pages are fresh and files cached: no request at all"
    assert " + alpha==1.0" in second.stderr and " + beta==2.0" in second.stderr, second
    assert version_of(satchel.tmp / "two", "beta") == "2.0"
    assert second.warnings() == []

    # --offline answers from it too, and so does compile (the same question: nothing installed)
    assert remembered(install(satchel, "three", "alpha", "--offline"))
    req = satchel.tmp / "req.in"
    req.write_text("alpha\n")
    compiled = satchel.run("compile", "-v", req, "-p", satchel.tmp / "three")
    assert remembered(compiled) and "beta==2.0" in compiled.stdout, compiled


def test_a_changed_index_page_is_a_new_question(satchel: Satchel, index_server: IndexServer) -> None:
    """A cached page that is not the one the resolution read (here: beta 2.0 taken off it, as a
    refetch after a yank or a deletion would) means resolving again, and the new answer."""
    publish(index_server, ALPHA, BETA, BETA2)
    install(satchel, "one", "alpha")
    cache = Cache(satchel.cache_dir)
    key = only(list((bucket_dir(satchel.cache_dir, buckets.INDEX) / "beta").glob("*.rec")), "page")
    page_key = f"beta/{key.name}"
    page = cache.read(CachedPage, page_key)
    assert page is not None
    files = [f for f in page.files if "2.0" not in f.filename]
    cache.write(page_key, dataclasses.replace(page, files=files))
    cache.close()

    again = install(satchel, "two", "alpha")
    assert not remembered(again), again
    assert " + beta==1.0" in again.stderr, again
    # ... and that answer is remembered in its turn
    assert remembered(install(satchel, "three", "alpha"))


def test_refresh_and_upgrade_and_stale_pages_resolve_again(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA)
    install(satchel, "one", "alpha")
    publish(index_server, BETA2)  # the index changes; the cached pages are still fresh

    kept = install(satchel, "two", "alpha")
    assert remembered(kept) and " + beta==1.0" in kept.stderr, kept  # what resolving would say

    # --refresh NAME: that project's page is revalidated, so the remembered answer is not used
    # (the page is fetched with a TTL of 0 here: stale from the moment it is stored)
    ttl0 = {"SATCHEL_INDEX_TTL": "0"}
    refreshed = install(satchel, "three", "alpha", "--refresh-package", "beta", env=ttl0)
    assert not remembered(refreshed) and " + beta==2.0" in refreshed.stderr, refreshed

    # a page past its freshness is not trusted without asking the index
    publish(index_server, WheelSpec("beta", "3.0"))
    stale = install(satchel, "four", "alpha", env=ttl0)
    assert not remembered(stale) and " + beta==3.0" in stale.stderr, stale

    # ... but offline, the cached pages are what any resolution would read
    offline = install(satchel, "five", "alpha", "--offline", env={"SATCHEL_INDEX_TTL": "0"})
    assert remembered(offline) and " + beta==3.0" in offline.stderr, offline


def test_what_is_installed_is_part_of_the_question(satchel: Satchel, index_server: IndexServer) -> None:
    """pip's "only if needed": an installed beta 1.0 is kept. A resolution remembered for an
    empty environment (beta 2.0) must not be the answer there."""
    publish(index_server, ALPHA, BETA, BETA2)
    install(satchel, "empty", "alpha")
    venv = satchel.venv("has-beta")
    satchel.run("install", "-p", venv, "beta==1.0")
    result = satchel.run("install", "-v", "-p", venv, "alpha")
    assert not remembered(result), result
    assert version_of(venv, "beta") == "1.0"
    assert " + alpha==1.0" in result.stderr and " + beta" not in result.stderr, result
    assert len(resolutions(satchel)) == 3  # empty env, the beta==1.0 install, alpha over beta 1.0


def test_options_and_requirements_are_part_of_the_question(
    satchel: Satchel, index_server: IndexServer
) -> None:
    publish(index_server, ALPHA, BETA, BETA2, WheelSpec("beta", "3.0a1"))
    install(satchel, "one", "alpha")
    pre = install(satchel, "two", "alpha", "--pre")
    assert not remembered(pre) and " + beta==3.0a1" in pre.stderr, pre
    capped = install(satchel, "three", "alpha", "beta<2")
    assert not remembered(capped) and " + beta==1.0" in capped.stderr, capped
    assert remembered(install(satchel, "four", "alpha", "--pre"))


def test_sources_direct_references_and_local_indexes_are_not_remembered(
    satchel: Satchel, index_server: IndexServer, tmp_path: Path
) -> None:
    # an sdist-only project: its metadata comes from a build, which is not a record
    intree_sdist(index_server.directory, "gamma")
    install(satchel, "one", "gamma")
    assert resolutions(satchel) == []
    assert not remembered(install(satchel, "two", "gamma"))

    # a direct reference
    wheel = publish(index_server, BETA)[0]
    install(satchel, "three", f"beta @ {index_server.file_url(wheel.name)}")
    # a find-links directory, and a file: index (read as they are, never cached)
    links = tmp_path / "links"
    links.mkdir()
    shutil.copy(wheel, links)
    install(satchel, "four", "beta", "--no-index", "-f", str(links))
    assert resolutions(satchel) == []


def test_once_its_records_are_settled_the_resolution_notes_their_files(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """Records written moments before are checked in full (their files' times are too recent to
    trust); once they are older than journal.RACY_NS, a remembered run notes their files'
    identities in the resolution, and from then on checks their headers only: the next run
    leaves the resolution as it is."""
    publish(index_server, ALPHA, BETA, BETA2)
    install(satchel, "one", "alpha")
    rec = only(resolutions(satchel), "resolution")
    cache = Cache(satchel.cache_dir)
    stored = cache.read(RememberedResolution, rec.name)
    assert stored is not None and stored.records
    assert all(n.identity is None for n in stored.records), stored.records
    time.sleep(journal.RACY_NS / 1e9 + 0.2)

    assert remembered(install(satchel, "two", "alpha"))
    noted = cache.read(RememberedResolution, rec.name)
    assert noted is not None and all(n.identity is not None for n in noted.records), noted.records
    assert [dataclasses.replace(n, identity=None) for n in noted.records] == stored.records
    before = rec.stat()

    assert remembered(install(satchel, "three", "alpha"))
    after = rec.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "rewritten again"


def test_a_remembered_resolution_does_not_import_the_resolver(
    satchel: Satchel, index_server: IndexServer
) -> None:
    """The resolver, its provider, candidates and resolvelib are imported only to resolve
    (satchel.resolve), and the index client's fetching parts (the page loader and its HTML
    parser, the worker pool, record writers, downloads) and prepare's thread pool only to fetch:
    a run that recalls its resolution and finds its wheels unpacked leaves them out (~15 ms of
    class definitions, and ~4 ms of modules, on a warm install), and one that resolves imports
    them when it needs them."""
    publish(index_server, ALPHA, BETA, BETA2)
    probe = (
        "import sys\n"
        "from satchel.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print(sorted(m for m in sys.modules if m in {'resolvelib', 'satchel.resolve.resolver',"
        " 'satchel.resolve.candidates', 'satchel.resolve.provider', 'satchel.index.pages',"
        " 'satchel.index.pool', 'satchel.index.writes', 'satchel.index.downloads',"
        " 'satchel.index.metadata_fetch', 'concurrent.futures'}))\n"
        "sys.exit(code)\n"
    )

    def loaded(venv: str) -> tuple[str, str]:
        path = satchel.venv(venv)
        proc = subprocess.run(
            [sys.executable, "-c", probe, "install", "-v", "-p", str(path), "alpha"],
            capture_output=True, text=True, env=satchel.base_env(), cwd=satchel.tmp, timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip().splitlines()[-1], proc.stderr

    modules, stderr = loaded("one")
    assert REMEMBERED not in stderr
    assert "satchel.resolve.resolver" in modules and "resolvelib" in modules, modules
    assert "satchel.index.pages" in modules and "satchel.index.downloads" in modules, modules
    assert "concurrent.futures" in modules, modules
    modules, stderr = loaded("two")
    assert REMEMBERED in stderr, stderr
    # (concurrent.futures: only for prepare's fetch pool, and for linking on more than 2 cores)
    assert modules == ("[]" if (os.cpu_count() or 1) <= 2 else "['concurrent.futures']"), modules
