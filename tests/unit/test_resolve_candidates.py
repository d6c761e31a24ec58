"""Choosing one file per version, and reading core metadata."""

from __future__ import annotations

from packaging.version import Version

from satchel.index.models import IndexFile
from satchel.resolve.candidates import (
    EXCLUDED_BINARY_ONLY,
    EXCLUDED_HASH,
    EXCLUDED_INCOMPATIBLE_WHEEL,
    EXCLUDED_REQUIRES_PYTHON,
    FilePolicy,
    make_identifier,
    select_files,
    split_identifier,
)
from satchel.resolve.finder import CoreMetadata
from tests.unit.test_resolve_fakes import PLATFORM_TAG, TAGS

RANKS = {t: i for i, t in reversed(list(enumerate(TAGS)))}
POLICY = FilePolicy(tag_ranks=RANKS, python_version=Version("3.11.7"))


def f(filename: str, **kwargs: object) -> IndexFile:
    return IndexFile(filename=filename, url=f"https://files.invalid/{filename}", **kwargs)  # type: ignore[arg-type]


def test_versions_newest_first_and_best_file_per_version() -> None:
    files = [
        f("demo-1.0.tar.gz"),
        f("demo-1.0-py3-none-any.whl"),
        f(f"demo-1.0-{PLATFORM_TAG}.whl"),
        f("demo-2.0-py310-none-any.whl"),
        f("demo-2.0-py311-none-any.whl"),
        f("demo-1.5.zip"),
    ]
    project = select_files("demo", files, POLICY)
    assert [str(e.version) for e in project.entries] == ["2.0", "1.5", "1.0"]
    chosen = [e.file.filename if e.file else None for e in project.entries]
    assert chosen == ["demo-2.0-py311-none-any.whl", "demo-1.5.zip", f"demo-1.0-{PLATFORM_TAG}.whl"]
    assert project.file_count == 6


def test_exclusions_are_recorded() -> None:
    files = [
        f("demo-3.0-py3-none-any.whl", requires_python=">=3.12"),
        f("demo-2.0-cp27-cp27m-win32.whl"),
        f("demo-1.0.tar.gz"),
    ]
    policy = FilePolicy(tag_ranks=RANKS, python_version=Version("3.11.7"), allow_sdists=False)
    entries = select_files("demo", files, policy).entries
    assert [e.file for e in entries] == [None, None, None]
    assert [[x.kind for x in e.excluded] for e in entries] == [
        [EXCLUDED_REQUIRES_PYTHON],
        [EXCLUDED_INCOMPATIBLE_WHEEL],
        [EXCLUDED_BINARY_ONLY],
    ]


def test_yanked_files_kept_apart() -> None:
    files = [f("demo-1.0-py3-none-any.whl", yanked="bad"), f("demo-1.0.tar.gz")]
    (entry,) = select_files("demo", files, POLICY).entries
    assert entry.file is not None and entry.file.filename == "demo-1.0.tar.gz"
    assert entry.yanked_file is not None and entry.yanked_file.yanked == "bad"


def test_hash_policy() -> None:
    good = f("demo-1.0.tar.gz", hashes={"sha256": "aa"})
    bad = f("demo-1.0-py3-none-any.whl", hashes={"sha256": "bb"})
    unknown = f("demo-2.0.tar.gz", hashes={"md5": "cc"})
    policy = FilePolicy(
        tag_ranks=RANKS, python_version=Version("3.11.7"), hashes=frozenset({"sha256:aa"})
    )
    entries = select_files("demo", [bad, good, unknown], policy).entries
    assert [e.file for e in entries] == [unknown, good]
    assert [x.kind for x in entries[1].excluded] == [EXCLUDED_HASH]


def test_invalid_and_foreign_files_ignored() -> None:
    files = [
        f("demo-1.0.exe"),
        f("demo-notaversion.tar.gz"),
        f("other-1.0.tar.gz"),
        f("demo-1.0-py3-none-any.whl"),
        f("demo-1.0-py3-none-any.whl"),  # listed by a second index: first one wins
    ]
    project = select_files("demo", files, POLICY)
    assert len(project.entries) == 1 and project.entries[0].file is files[3]
    assert project.file_count == 4


def test_unparseable_requires_python_is_ignored() -> None:
    (entry,) = select_files("demo", [f("demo-1.0.tar.gz", requires_python=">=3.x")], POLICY).entries
    assert entry.file is not None


def test_identifiers_round_trip() -> None:
    assert make_identifier("a", []) == "a"
    assert make_identifier("a", {"y", "x"}) == "a[x,y]"
    assert split_identifier("a[x,y]") == ("a", frozenset({"x", "y"}))
    assert split_identifier("a") == ("a", frozenset())


def test_core_metadata_from_email() -> None:
    text = (
        b"Metadata-Version: 2.1\n"
        b"Name: Demo.Pkg\n"
        b"Version: 1.0rc1\n"
        b"Requires-Python: >=3.8\n"
        b"Requires-Dist: idna>=2\n"
        b"Requires-Dist: pysocks; extra == 'socks'\n"
        b"Provides-Extra: socks\n"
        b"\n"
        b"Long description with Requires-Dist: nothing\n"
    )
    meta = CoreMetadata.from_email(text)
    assert meta == CoreMetadata(
        name="demo-pkg",  # canonical: the index layer normalizes names
        version=Version("1.0rc1"),
        requires_dist=("idna>=2", "pysocks; extra == 'socks'"),
        requires_python=">=3.8",
        provides_extra=("socks",),
    )


def test_core_metadata_requires_name_and_version() -> None:
    import pytest

    with pytest.raises(ValueError, match="no Name"):
        CoreMetadata.from_email("Version: 1.0\n")
    with pytest.raises(ValueError, match="invalid Version"):
        CoreMetadata.from_email("Name: a\nVersion: nope\n")
