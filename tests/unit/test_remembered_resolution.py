"""The key of a remembered resolution and the journal that says whether it still holds
(satchel.resolve.remembered, satchel.cache.journal); the end-to-end rules are in
tests/e2e/test_remembered_resolution.py."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from satchel.cache import journal
from satchel.cache.store import Cache
from satchel.index.models import IndexFile
from satchel.index.records import CachedMetadata, CachedPage
from satchel.resolve.options import ResolveOptions
from satchel.resolve.remembered import ResolutionInputs, inputs_text
from satchel.resolve.requirements import RootRequirement
from tests.support.cache import flip_payload_bit, truncate
from tests.support.resolve_fakes import make_interpreter


def inputs(**changes: Any) -> ResolutionInputs:
    base = ResolutionInputs(
        roots=[RootRequirement(Requirement("alpha>=1"))],
        constraints=[],
        options=ResolveOptions(),
        interpreter=make_interpreter(),
        index={"index_urls": ["http://127.0.0.1:1/simple"], "find_links": [], "exclude_newer": None},
        installed=[],
    )
    return dataclasses.replace(base, **changes)


# A value other than the default for every field of ResolveOptions: a field added later without
# a line here fails test_every_option_is_part_of_the_key, so none can be left out of the key.
OTHER_OPTIONS: dict[str, Any] = {
    "pre": True,
    "upgrade": True,
    "upgrade_packages": frozenset({"beta"}),
    "installed": {"beta": Version("1.0")},
    "no_deps": True,
    "only_binary": frozenset({":all:"}),
    "no_binary": frozenset({"beta"}),
    "max_rounds": 7,
    "preferred": {"beta": Version("2.0")},
    "prefer_binary": True,
    "all_releases": frozenset({"beta"}),
    "only_final": frozenset({"beta"}),
}


def test_every_option_is_part_of_the_key() -> None:
    assert set(OTHER_OPTIONS) == {f.name for f in dataclasses.fields(ResolveOptions)}
    base = inputs_text(inputs())
    for name, value in OTHER_OPTIONS.items():
        changed = inputs_text(inputs(options=ResolveOptions(**{name: value})))
        assert changed != base, name


@pytest.mark.parametrize(
    "change",
    [
        {"roots": [RootRequirement(Requirement("alpha>=2"))]},
        {"roots": [RootRequirement(Requirement("alpha>=1"), hashes=("sha256:" + "0" * 64,))]},
        {"constraints": [RootRequirement(Requirement("beta<2"))]},
        {"interpreter": dataclasses.replace(make_interpreter(), markers={**make_interpreter().markers, "sys_platform": "win32"})},
        {"interpreter": dataclasses.replace(make_interpreter(), tags=make_interpreter().tags[1:])},
        {"interpreter": dataclasses.replace(make_interpreter(), version=(3, 12, 0))},
        {"index": {"index_urls": ["http://127.0.0.1:2/simple"], "find_links": [], "exclude_newer": None}},
        {"index": {"index_urls": ["http://127.0.0.1:1/simple"], "find_links": [], "exclude_newer": "2026-01-01T00:00:00+00:00"}},
        {"installed": [["beta", "1.0", "[]", "", "[]"]]},
        {"installed": [["beta", "1.0", '["gamma"]', "", "[]"]]},
    ],
    ids=["root", "hashes", "constraint", "markers", "tags", "python", "index", "exclude-newer", "installed", "installed-metadata"],
)
def test_each_input_is_part_of_the_key(change: dict[str, Any]) -> None:
    assert inputs_text(inputs(**change)) != inputs_text(inputs())


def test_the_key_does_not_depend_on_where_a_requirement_was_written() -> None:
    a = inputs(roots=[RootRequirement(Requirement("alpha>=1"), source="a.txt:1")])
    b = inputs(roots=[RootRequirement(Requirement("alpha>=1"), source="b.txt:7")])
    assert inputs_text(a) == inputs_text(b)


def test_rememberable_only_without_direct_references_find_links_or_local_indexes() -> None:
    assert inputs().rememberable
    assert not inputs(roots=[RootRequirement(Requirement("alpha @ https://example.invalid/a.whl"))]).rememberable
    assert not inputs(constraints=[RootRequirement(Requirement("alpha"), url="file:///x/a.whl")]).rememberable
    assert not inputs(index={"index_urls": [], "find_links": ["/wheels"]}).rememberable
    assert not inputs(index={"index_urls": ["file:///srv/simple"], "find_links": []}).rememberable


# -- the journal ----------------------------------------------------------------------------------

PAGE = CachedPage("http://127.0.0.1:1/simple/beta/", 1.0, 2.0, None, None, True,
                  [IndexFile("beta-1.0-py3-none-any.whl", "http://127.0.0.1:1/b.whl")])
META = CachedMetadata("beta-1.0-py3-none-any.whl", "a" * 64, "beta", "1.0", [], None, [])
META_KEY = f"beta/beta-1.0-py3-none-any.whl.{'a' * 64}.rec"


def journaled(tmp_path: Path) -> tuple[Cache, list[Any]]:
    cache = Cache(tmp_path / "cache", fsync=False)
    cache.write("beta/page.rec", PAGE)
    journal = cache.start_journal()
    assert cache.read(CachedPage, "beta/page.rec") == PAGE
    cache.write(META_KEY, META)
    return cache, journal.close()


def test_the_journal_notes_reads_and_writes_with_their_checksums(tmp_path: Path) -> None:
    cache, noted = journaled(tmp_path)
    # Written or modified moments ago: no identity is trusted yet, the check hashes them.
    assert [n.identity for n in noted] == [None, None]
    assert [(n.bucket, n.key, n.record_type) for n in noted] == [
        ("index-v2", "beta/page.rec", "index-page"),
        ("metadata-v1", META_KEY, "core-metadata"),
    ]
    assert noted[0].address is None and noted[1].address == "a" * 64  # metadata: fixed by its file
    assert cache.unchanged(noted).unchanged
    # closed: nothing more is noted
    cache.write("beta/other.rec", PAGE)
    assert cache.unchanged(noted).unchanged


@pytest.mark.parametrize("fault", ["rewritten", "bit-flip", "truncated", "missing", "directory"])
def test_any_change_to_a_noted_record_is_a_change(tmp_path: Path, fault: str) -> None:
    cache, noted = journaled(tmp_path)
    path = cache.root / "index-v2" / "beta" / "page.rec"
    if fault == "rewritten":  # a whole, sound record, but another one (a refetched page)
        cache.write("beta/page.rec", dataclasses.replace(PAGE, fetched_at=3.0))
    elif fault == "bit-flip":  # the header's checksum is unchanged: only hashing the payload sees it
        flip_payload_bit(path)
    elif fault == "truncated":
        truncate(path)
    elif fault == "missing":
        path.unlink()
    else:
        path.unlink()
        path.mkdir()
    assert not cache.unchanged(noted).unchanged


def test_the_last_note_of_an_entry_wins(tmp_path: Path) -> None:
    """A stale page read, then refetched and written: the written one is what was used."""
    cache = Cache(tmp_path / "cache", fsync=False)
    cache.write("beta/page.rec", PAGE)
    journal = cache.start_journal()
    cache.read(CachedPage, "beta/page.rec")
    cache.write("beta/page.rec", dataclasses.replace(PAGE, fetched_at=5.0))
    noted = journal.close()
    assert len(noted) == 1 and cache.unchanged(noted).unchanged


def test_unsafe_keys_in_a_journal_are_a_change(tmp_path: Path) -> None:
    cache, noted = journaled(tmp_path)
    bad = [dataclasses.replace(noted[0], key="../../etc/passwd")]
    assert not cache.unchanged(bad).unchanged
    assert not cache.unchanged([dataclasses.replace(noted[0], bucket="nonsense-v9")]).unchanged


def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust every file's identity at once (no wait for its ctime to be RACY_NS old)."""
    monkeypatch.setattr(journal, "RACY_NS", 0)


def test_the_file_noted_is_checked_by_its_header_alone(tmp_path: Path) -> None:
    """A record whose file has the noted identity is the file that was read: its header is
    enough. Proof: a payload bit flipped behind the identity's back (the identity taken after
    the flip, the checksum from before) passes on the header; without the identity the payload
    is hashed and the flip found."""
    cache, noted = journaled(tmp_path)
    path = cache.root / "index-v2" / "beta" / "page.rec"
    flip_payload_bit(path)
    st = os.stat(path)
    same_file = dataclasses.replace(noted[0], identity=[st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns])
    assert cache.unchanged([same_file]).unchanged
    assert not cache.unchanged([dataclasses.replace(same_file, identity=None)]).unchanged
    other_file = dataclasses.replace(same_file, identity=[*same_file.identity[:4], st.st_ctime_ns + 1])
    assert not cache.unchanged([other_file]).unchanged


@pytest.mark.parametrize("fault", ["rewritten", "truncated", "missing", "directory", "garbage-header"])
def test_any_change_to_the_noted_file_is_a_change(
    tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    trusting(monkeypatch)
    cache, noted = journaled(tmp_path)
    assert noted[0].identity is not None and cache.unchanged(noted).identities is None
    path = cache.root / "index-v2" / "beta" / "page.rec"
    if fault == "rewritten":
        cache.write("beta/page.rec", dataclasses.replace(PAGE, fetched_at=3.0))
    elif fault == "truncated":
        truncate(path)
    elif fault == "missing":
        path.unlink()
    elif fault == "directory":
        path.unlink()
        path.mkdir()
    else:
        with open(path, "r+b") as fh:
            fh.write(b"NOTSATCH")
    assert not cache.unchanged(noted).unchanged


def test_a_copied_cache_is_hashed_once_then_checked_by_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other files (a cache copied or restored elsewhere) are checked in full; the check hands
    back their identities as they are now, and with those the next check reads headers only."""
    trusting(monkeypatch)
    cache, noted = journaled(tmp_path / "a")
    shutil.copytree(cache.root, tmp_path / "b")
    copy = Cache(tmp_path / "b", fsync=False)
    first = copy.unchanged(noted)
    assert first.unchanged and first.identities is not None
    assert [n.identity for n in first.identities] != [n.identity for n in noted]
    assert [dataclasses.replace(n, identity=None) for n in first.identities] == [
        dataclasses.replace(n, identity=None) for n in noted
    ]
    again = copy.unchanged(first.identities)
    assert again.unchanged and again.identities is None
