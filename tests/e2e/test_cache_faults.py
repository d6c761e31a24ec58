"""The fault matrix (issue 3, acceptance 1): every kind of cache entry, broken every way.

For each (entry kind, fault) a cache populated by one install of ``alpha`` (which needs ``beta``)
is copied (it is made once per worker: populating it per cell would triple the run time), a fresh
venv is made, and one of alpha's entries is broken; then

(a) ``satchel cache verify`` reports that entry and exits 1, and
(b) an install of the same requirement into a *fresh* environment succeeds, prints exactly one
    warning line, naming the entry, installs the right bytes (checked against the wheel's RECORD
    hashes), refetches only what was broken (counted at the local index server), and leaves the
    entry healed: it exists again and ``cache verify`` exits 0.

Entry kinds: index page (index-v2), core metadata (metadata-v1), the url-digest record kept for a
file whose source gave no hash (metadata-v1), downloaded file (files-v1), unpacked wheel
(archives-v1), interpreter record (interpreters-v2), remembered resolution (resolutions-v3). Built wheels and prepared metadata (built-v1)
have their rows in test_seeds.py (report 003: a local directory package, every fault), and
replay records (replays-v1) theirs in test_replays.py.

Cells that cannot exist are left out, with the reason in ``NOT_APPLICABLE``. "Unreadable" is a
directory in place of the file (root reads through chmod 000); test_cache_readonly.py has the
real permission-denied case, run as user nobody.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from satchel.cache import buckets
from satchel.python.cached import cache_key
from tests.support.cache import (
    ALPHA_WHEEL,
    BETA_WHEEL,
    FAULTS,
    bucket_dir,
    entries_in,
    file_requests,
    files_in,
    flip_byte,
    flip_payload_bit,
    full_downloads,
    future_version,
    garbage,
    only,
    overwrite,
    page_requests,
    populate,
    replace_with_dir,
    truncate,
    valid_record_of_another_type,
)
from tests.support.cli import Satchel, installed_files_match_record, run_python
from tests.support.index_server import IndexServer

KINDS = ["index", "metadata", "url-digest", "files", "archives", "interpreters", "resolutions"]

RECORD_KINDS = ("index", "metadata", "url-digest", "interpreters", "resolutions")
NOT_APPLICABLE: dict[tuple[str, str], str] = {}
for _kind in RECORD_KINDS:
    NOT_APPLICABLE[(_kind, "missing-file")] = (
        "a record is one file: missing is a plain, silent miss"
    )
for _kind in ("index", "metadata", "interpreters"):
    NOT_APPLICABLE[(_kind, "dangling")] = "this record refers to no other cache entry"
NOT_APPLICABLE[("resolutions", "dangling")] = (
    "the records a remembered resolution read are what it depends on, not references: one gone "
    "or changed is a plain miss (tests/e2e/test_remembered_resolution.py)"
)
NOT_APPLICABLE[("files", "wrong-record-type")] = "a downloaded file is raw bytes, not a record"
NOT_APPLICABLE[("files", "future-version")] = (
    "a downloaded file has no header; another files-vN bucket is tested in test_seeds.py"
)
NOT_APPLICABLE[("files", "missing-file")] = "the file is the entry: missing is a plain, silent miss"
NOT_APPLICABLE[("files", "dangling")] = (
    "a downloaded file refers to nothing; references *to* it are the url-digest row"
)

CASES = [
    pytest.param(kind, fault, id=f"{kind}-{fault}")
    for kind in KINDS
    for fault in FAULTS
    if (kind, fault) not in NOT_APPLICABLE
]


# -- where each kind of entry lives ---------------------------------------------------------------


def alpha_sha(cache: Path) -> str:
    return only(entries_in(bucket_dir(cache, buckets.FILES) / "alpha"), "alpha file entry").name


def entry_of(kind: str, cache: Path, interpreter_record: Path) -> Path:
    """The path `cache verify` reports for the entry of ``kind`` (a file, or an entry directory)."""
    if kind == "index":
        return only(list((bucket_dir(cache, buckets.INDEX) / "alpha").glob("*.rec")), "alpha page")
    if kind == "metadata":
        return only(
            list((bucket_dir(cache, buckets.METADATA) / "alpha").glob("*.whl.*.rec")), "metadata"
        )
    if kind == "url-digest":
        return only(
            list((bucket_dir(cache, buckets.METADATA) / "alpha" / "by-url").glob("*.rec")),
            "url-digest",
        )
    if kind == "files":
        return bucket_dir(cache, buckets.FILES) / "alpha" / alpha_sha(cache)
    if kind == "archives":
        return bucket_dir(cache, buckets.ARCHIVES) / "alpha" / alpha_sha(cache)
    if kind == "interpreters":
        return interpreter_record
    if kind == "resolutions":
        return only(list(bucket_dir(cache, buckets.RESOLUTIONS).glob("*.rec")), "resolution")
    raise AssertionError(kind)


def remove(path: Path) -> None:
    path.chmod(0o644)
    path.unlink()


def break_entry(kind: str, fault: str, entry: Path, cache: Path) -> None:
    record_faults: dict[str, Callable[[Path], None]] = {
        "truncated": truncate,
        "zero-length": lambda p: truncate(p, 0),
        "bit-flip": flip_payload_bit,  # still valid JSON: only the checksum sees it
        "garbage": garbage,
        "future-version": future_version,
        "unreadable": replace_with_dir,
    }
    if kind in RECORD_KINDS:
        if fault == "wrong-record-type":
            rtype = entry.read_bytes()[8:32].rstrip(b"\0").decode()
            overwrite(entry, valid_record_of_another_type(rtype))
        elif fault == "dangling":
            assert kind == "url-digest"
            # The url-digest points at a downloaded file that is no longer cached.
            shutil.rmtree(bucket_dir(cache, buckets.FILES) / "alpha")
        else:
            record_faults[fault](entry)
        return
    if kind == "files":
        wheel = entry / ALPHA_WHEEL
        {
            "truncated": truncate,
            "zero-length": lambda p: truncate(p, 0),
            "bit-flip": flip_byte,
            "garbage": garbage,
            "unreadable": replace_with_dir,
        }[fault](wheel)
        # An install only reads the downloaded file when it has to unpack it: take the unpacked
        # tree away (a clean removal, as `cache prune --max-size` might do).
        shutil.rmtree(bucket_dir(cache, buckets.ARCHIVES) / "alpha" / entry.name)
        return
    if kind == "archives":
        module = entry / "tree" / "alpha" / "__init__.py"
        manifest = entry / "manifest"
        {
            "truncated": lambda: truncate(module),
            "zero-length": lambda: truncate(module, 0),
            # Flipped in place, as a write through a hardlink does: the size stays, the mtime moves.
            "bit-flip": lambda: flip_byte(module),
            "garbage": lambda: garbage(manifest),
            "wrong-record-type": lambda: overwrite(
                manifest, valid_record_of_another_type("tree-manifest")
            ),
            "future-version": lambda: future_version(manifest),
            "missing-file": lambda: remove(module),
            # The manifest lists files whose whole tree is gone.
            "dangling": lambda: shutil.rmtree(entry / "tree"),
            "unreadable": lambda: replace_with_dir(module),
        }[fault]()
        return
    raise AssertionError(kind)


def expected_requests(kind: str, server: IndexServer) -> None:
    """Only what was broken is fetched again; pages are fresh (default TTL) and files immutable."""
    if kind == "index":
        assert page_requests(server) == ["/simple/alpha/"], server.paths()
        assert file_requests(server) == [], server.paths()
    elif kind in ("url-digest", "files"):
        assert page_requests(server) == [], server.paths()
        assert full_downloads(server, ALPHA_WHEEL) == 1, server.paths()
        assert full_downloads(server, BETA_WHEEL) == 0, server.paths()
    else:  # metadata (read again from the cached wheel), archives (re-unpacked from it),
        # interpreters, resolutions (resolved again from the cached pages and metadata)
        assert server.paths() == [], server.paths()


# -- the matrix ---------------------------------------------------------------------------------


@dataclass
class Template:
    server: IndexServer
    caches: dict[bool, Path]  # direct_url -> a cache populated by one install


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """One index and one populated cache per worker, copied by each case: populating it anew for
    every cell would triple the matrix's run time for no extra coverage."""
    base = tmp_path_factory.mktemp("fault-template")
    with IndexServer(base / "index") as server:
        caches = {}
        for direct_url in (False, True):
            where = base / ("by-url" if direct_url else "by-index")
            where.mkdir()
            pop = populate(
                Satchel(where, where / "cache", index_url=server.index_url),
                server,
                direct_url=direct_url,
            )
            caches[direct_url] = pop.cache
        yield Template(server, caches)


@pytest.mark.parametrize(("kind", "fault"), CASES)
def test_broken_entry_is_reported_then_healed(
    kind: str, fault: str, template: Template, tmp_path: Path
) -> None:
    server = template.server
    direct_url = kind == "url-digest"
    satchel = Satchel(tmp_path, tmp_path / "cache", index_url=server.index_url)
    shutil.copytree(template.caches[direct_url], satchel.cache_dir)  # keeps mtimes (manifests)
    install_args = [f"alpha @ {server.file_url(ALPHA_WHEEL)}"] if direct_url else ["alpha"]
    fresh = satchel.venv("fresh")
    interpreter_record = (
        satchel.cache_dir / buckets.INTERPRETERS.dirname / cache_key(fresh / "bin" / "python")
    )
    if kind == "interpreters":
        # An install into `fresh` reads the record of its interpreter: have satchel write it
        # without installing anything (the environment stays fresh).
        satchel.run("list", "-p", fresh)
        assert interpreter_record.is_file()
    entry = entry_of(kind, satchel.cache_dir, interpreter_record)

    break_entry(kind, fault, entry, satchel.cache_dir)

    # (a) verify reports it, and only it, and exits 1.
    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 1, verify
    corrupt = [line for line in verify.stdout.splitlines() if line.startswith("corrupt:")]
    assert len(corrupt) == 1 and str(entry) in corrupt[0], verify

    # (b) an install into the fresh environment.
    server.reset_log()
    result = satchel.run("install", "-p", fresh, *install_args)
    assert " + alpha==1.0" in result.stderr and " + beta==1.0" in result.stderr, result
    assert len(result.warnings()) == 1, result
    warning = result.warnings()[0]
    assert str(entry) in warning and "broken cache entry" in warning, result
    installed_files_match_record(fresh, "alpha")
    installed_files_match_record(fresh, "beta")
    assert run_python(fresh, "import alpha; print(alpha.VALUE)") == "alpha one"
    expected_requests(kind, server)

    # Healed: the entry is there again, and sound.
    assert entry.exists(), f"{entry} was removed but not written again"
    if kind == "files":
        assert (entry / ALPHA_WHEEL).is_file()
    if kind == "archives":
        assert files_in(entry / "tree")
    after = satchel.run("cache", "verify", check=False)
    assert after.returncode == 0, after


IN_THE_WAY = [
    f"{buckets.INDEX.dirname}/alpha",
    f"{buckets.METADATA.dirname}/alpha",
    f"{buckets.FILES.dirname}/alpha",
    f"{buckets.ARCHIVES.dirname}/alpha",
    buckets.ARCHIVES.dirname,
]


@pytest.mark.parametrize("where", IN_THE_WAY)
def test_a_file_where_a_directory_belongs_is_reported_then_cleared(
    where: str, template: Template, tmp_path: Path
) -> None:
    """A file in place of a bucket's directory (or a project's in it) made every write below it
    fail with EEXIST or ENOTDIR, and `cache verify` saw nothing. Now verify reports it, and an
    install clears it with one warning naming it, and writes its entries there again."""
    satchel = Satchel(tmp_path, tmp_path / "cache", index_url=template.server.index_url)
    shutil.copytree(template.caches[False], satchel.cache_dir)
    blocked = satchel.cache_dir / where
    shutil.rmtree(blocked)
    if where.startswith(buckets.FILES.dirname):  # (else the unpacked tree needs no file)
        shutil.rmtree(satchel.cache_dir / buckets.ARCHIVES.dirname / "alpha")
    blocked.write_text("not a directory\n")

    verify = satchel.run("cache", "verify", check=False)
    assert verify.returncode == 1, verify
    corrupt = [line for line in verify.stdout.splitlines() if line.startswith("corrupt:")]
    assert len(corrupt) == 1 and f"{blocked}: not a directory" in corrupt[0], verify

    fresh = satchel.venv("fresh")
    result = satchel.run("install", "-p", fresh, "alpha")
    assert " + alpha==1.0" in result.stderr and " + beta==1.0" in result.stderr, result
    assert len(result.warnings()) == 1, result
    assert f"broken cache entry {blocked}: not a directory" in result.warnings()[0], result
    installed_files_match_record(fresh, "alpha")
    installed_files_match_record(fresh, "beta")
    assert blocked.is_dir() and any(blocked.iterdir()), f"nothing was written to {blocked} again"
    after = satchel.run("cache", "verify", check=False)
    assert after.returncode == 0, after


def test_verify_repair_removes_a_file_where_a_directory_belongs(template: Template, tmp_path: Path) -> None:
    satchel = Satchel(tmp_path, tmp_path / "cache", index_url=template.server.index_url)
    shutil.copytree(template.caches[False], satchel.cache_dir)
    blocked = satchel.cache_dir / buckets.METADATA.dirname / "alpha"
    shutil.rmtree(blocked)
    blocked.write_text("not a directory\n")
    repair = satchel.run("cache", "verify", "--repair", check=False)
    assert f"removed: {blocked}: not a directory" in repair.stdout, repair
    assert not blocked.exists()
    assert satchel.run("cache", "verify", check=False).returncode == 0


def test_template_cache_is_sound_and_warm(template: Template, tmp_path: Path) -> None:
    """The starting point of every cell: verify passes and a second install is silent."""
    for direct_url, cache in template.caches.items():
        satchel = Satchel(
            tmp_path, tmp_path / f"cache-{direct_url}", index_url=template.server.index_url
        )
        shutil.copytree(cache, satchel.cache_dir)
        assert satchel.run("cache", "verify").returncode == 0
        template.server.reset_log()
        args = [f"alpha @ {template.server.file_url(ALPHA_WHEEL)}"] if direct_url else ["alpha"]
        result = satchel.run("install", "-p", satchel.venv(f"v-{direct_url}"), *args)
        assert result.warnings() == [], result
        assert file_requests(template.server) == [] and page_requests(template.server) == []


def test_matrix_covers_every_bucket_that_has_entries() -> None:
    """Every bucket this satchel writes has a row. built-v1's rows (built wheel and prepared
    metadata, every fault) are test_seeds.py's report-003 tests, on a local directory package;
    replays-v1's are in test_replays.py (a replay needs a settled environment: one wait there
    serves every fault)."""
    from tests.e2e import test_replays, test_seeds

    covered = {"index", "metadata", "files", "archives", "interpreters", "resolutions"}
    assert {b.name for b in buckets.ALL} - covered == {"built", "replays"}
    assert test_seeds.test_report_003_local_directory_package_heals  # the built-v1 rows
    assert test_replays.test_replay_fault_rows_every_fault_is_reported_then_healed  # replays-v1


@pytest.mark.parametrize("kind", ["index", pytest.param("files", marks=pytest.mark.slow)])
def test_when_the_refetch_fails_too_the_error_names_the_network(
    kind: str, template: Template, tmp_path: Path
) -> None:
    """A broken entry is a miss; if fetching it again fails, that failure (not the cache) is the
    error, and the entry is not replaced by anything partial."""
    server = template.server
    satchel = Satchel(tmp_path, tmp_path / "cache", index_url=server.index_url)
    shutil.copytree(template.caches[False], satchel.cache_dir)
    entry = entry_of(kind, satchel.cache_dir, tmp_path / "unused")
    break_entry(kind, "truncated", entry, satchel.cache_dir)
    path = "/simple/alpha/" if kind == "index" else f"/files/{ALPHA_WHEEL}"
    server.fail_next(path, 503, times=20)
    try:
        result = satchel.run(
            "install", "-p", satchel.venv("fresh"), "alpha", "--timeout", "5", check=False
        )
    finally:
        server.clear_faults()
    assert result.returncode == 1, result
    assert len(result.warnings()) == 1 and str(entry) in result.warnings()[0], result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "503" in errors[0] and "cache" not in errors[0], result
    assert satchel.run("cache", "verify").returncode == 0, "nothing partial was left behind"
