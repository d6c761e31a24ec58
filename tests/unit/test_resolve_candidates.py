"""Choosing one file per version, and reading core metadata."""

from __future__ import annotations

import pickle
import random

import pytest
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from satchel.index.models import IndexFile
from satchel.resolve.candidates import (
    EXCLUDED_BINARY_ONLY,
    EXCLUDED_HASH,
    EXCLUDED_INCOMPATIBLE_WHEEL,
    EXCLUDED_REQUIRES_PYTHON,
    ExtrasCandidate,
    FileParser,
    FilePolicy,
    IndexCandidate,
    make_identifier,
    select_files,
    split_identifier,
)
from satchel.resolve.finder import CoreMetadata
from satchel.resolve.matching import VersionIndex
from tests.support.resolve_fakes import PLATFORM_TAG, TAGS

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
    with pytest.raises(ValueError, match="no Name"):
        CoreMetadata.from_email("Version: 1.0\n")
    with pytest.raises(ValueError, match="invalid Version"):
        CoreMetadata.from_email("Name: a\nVersion: nope\n")


# -- parsing once per interpreter (FileParser) -------------------------------------------------


PARSER_FILENAMES = [
    "demo-1.0.tar.gz",
    "demo-1.0.zip",
    "Demo_Pkg-1.0.tar.gz",
    "demo-1.0.TAR.GZ",  # packaging rejects the suffix's case
    "demo-1.0-py3-none-any.whl",
    "demo-1.0-py2.py3-none-any.whl",
    "Demo-1.0-py3-none-any.whl",
    "demo-1.0-1-py3-none-any.whl",
    "demo-1.0-2b-py3-none-any.whl",
    "demo-1.0-x1-py3-none-any.whl",  # a build tag must start with a digit
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    f"demo-1.0-{PLATFORM_TAG.upper()}.whl",  # tags compare lowercased
    "demo-1.0-cp27-cp27m-win32.whl",
    "demo__x-1.0-py3-none-any.whl",  # "__" is not a valid escaped name
    "demo-x-1.0-py3-none-any.whl",  # unescaped dash: the parts shift
    "demo-1.0-py3-none.whl",
    "demo-1.0-1-2-py3-none-any.whl",
    "demo-notaversion-py3-none-any.whl",
    "demo-notaversion.tar.gz",
    "demo.tar.gz",
    "other-1.0.tar.gz",
    "other-1.0-py3-none-any.whl",
    "demo-1.0.exe",
]


def _reference_parse(name: str, filename: str) -> tuple[Version, bool, object, int | None] | None:
    """What packaging says, turned into what FileParser.parse returns."""
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    try:
        if filename.endswith(".whl"):
            wname, version, build, tags = parse_wheel_filename(filename)
            if wname != name:
                return None
            ranks = [RANKS[str(t)] for t in tags if str(t) in RANKS]
            return version, True, build, min(ranks) if ranks else None
        if filename.lower().endswith((".tar.gz", ".zip")):
            sname, version = parse_sdist_filename(filename)
            return (version, False, (), None) if sname == name else None
    except ValueError:
        return None
    return None


def test_parser_agrees_with_packaging() -> None:
    parser = FileParser(RANKS, Version("3.11.7"))
    for _ in range(2):  # the second time from its memo
        for filename in PARSER_FILENAMES:
            for name in ("demo", "demo-pkg", "other"):
                got = parser.parse(name, filename)
                expected = _reference_parse(name, filename)
                assert (tuple(got) if got else None) == expected, (name, filename)


def test_parser_bound_to_another_interpreter_is_not_used() -> None:
    files = [
        f("demo-2.0-py3-none-any.whl", requires_python=">=3.8"),
        f(f"demo-1.0-{PLATFORM_TAG}.whl"),
    ]
    parser = FileParser(RANKS, Version("3.11.7"))
    assert [e.file is not None for e in select_files("demo", files, POLICY, parser).entries] == [
        True,
        True,
    ]
    # Same parser, another Python: 2.0 needs 3.8, and the memoized answer was for 3.11.
    old = FilePolicy(tag_ranks=RANKS, python_version=Version("3.7.9"))
    assert not parser.serves(old)
    entries = select_files("demo", files, old, parser).entries
    assert [x.kind for x in entries[0].excluded] == [EXCLUDED_REQUIRES_PYTHON]
    # Same parser, other tags: the platform wheel no longer fits.
    pure = FilePolicy(tag_ranks={"py3-none-any": 0}, python_version=Version("3.11.7"))
    assert not parser.serves(pure)
    entries = select_files("demo", files, pure, parser).entries
    assert entries[0].file is not None
    assert [x.kind for x in entries[1].excluded] == [EXCLUDED_INCOMPATIBLE_WHEEL]
    # Equal tag ranks (another dict) are served.
    assert parser.serves(FilePolicy(tag_ranks=dict(RANKS), python_version=Version("3.11.7")))


def test_parser_shared_between_projects() -> None:
    parser = FileParser(RANKS, Version("3.11.7"))
    listing = [f("demo-1.0.tar.gz"), f("other-1.0.tar.gz"), f("other-1.0-py3-none-any.whl")]
    demo = select_files("demo", listing, POLICY, parser)
    other = select_files("other", listing, POLICY, parser)
    assert [e.file.filename if e.file else None for e in demo.entries] == ["demo-1.0.tar.gz"]
    assert [e.file.filename if e.file else None for e in other.entries] == [
        "other-1.0-py3-none-any.whl"
    ]


def test_entries_are_chosen_once_per_version() -> None:
    files = [f("demo-1.0.tar.gz"), f("demo-2.0.tar.gz"), f("demo-2.0-py3-none-any.whl")]
    project = select_files("demo", files, POLICY)
    assert [str(v) for v in project.versions] == ["2.0", "1.0"]
    first = project.entry(0)
    assert project.entry(0) is first
    assert project.entries == (first, project.entry(1))
    assert first.file is not None and first.file.filename == "demo-2.0-py3-none-any.whl"


def test_equal_versions_share_one_entry() -> None:
    files = [f("demo-1.0.tar.gz"), f("demo-1.0.0-py3-none-any.whl")]
    (entry,) = select_files("demo", files, POLICY).entries
    assert str(entry.version) == "1.0"  # the first spelling listed
    assert entry.file is not None and entry.file.is_wheel


# -- which versions specifiers admit (VersionIndex) ------------------------------------------


def _random_version(rnd: random.Random) -> str:
    text = ".".join(str(rnd.choice([0, 1, 2])) for _ in range(rnd.choice([1, 2, 3])))
    if rnd.random() < 0.3:
        text += rnd.choice(["a0", "a1", "b2", "rc0", "rc1"])
    if rnd.random() < 0.3:
        text += f".post{rnd.choice([0, 1])}"
    if rnd.random() < 0.3:
        text += f".dev{rnd.choice([0, 3])}"
    if rnd.random() < 0.3:
        text += "+" + rnd.choice(["local", "abc.1", "1"])
    if rnd.random() < 0.03:
        text = "1!" + text
    return text


def _random_specifier(rnd: random.Random, versions: list[Version]) -> str:
    op = rnd.choice([">=", ">", "<", "<=", "==", "!=", "~=", "===", "==*", "!=*"])
    text = str(rnd.choice(versions)) if versions and rnd.random() < 0.6 else _random_version(rnd)
    if op.endswith("*"):
        return f"{op[:2]}{Version(text).base_version}.*"
    if op in (">=", ">", "<", "<=", "~="):
        text = text.split("+")[0]  # no local labels there
    return op + text


HAND_PICKED = [
    (["1.0", "1.1a1", "1.1.dev0", "1.1", "1.1.post1", "1.1+local", "1.2rc1", "2.0"], "<1.2"),
    (["1.0", "1.1a1", "1.1.dev0", "1.1", "1.1.post1", "1.1+local", "1.2rc1", "2.0"], ">1.1"),
    (["1.0", "1.1a1", "1.1", "1.1.post1", "1.1+local", "1.1+other", "2.0"], "==1.1+local"),
    (["1.0", "1.1a1", "1.1", "1.1.0.post1", "1.1+local", "2.0"], "==1.1.0"),
    (["1.0", "1.1a1", "1.1", "1.1.post1", "1.1+local", "2.0"], "<=1.1,>=1.1"),
    (["1.0", "1.4.5", "1.4.9", "1.5", "2.0"], "~=1.4.5"),
    (["1.0", "1.4.5", "1.4.9", "1.5", "2.0"], "==1.4.*,!=1.4.9"),
    (["1.0", "1.4.5", "1.5", "2.0"], "===1.4.5"),
    (["1.0", "1.1a1", "1.1rc1", "1.2"], "<1.1rc1"),
    (["1!0.5", "1.0", "2.0"], ">=1.5"),
]


def test_version_index_hand_picked() -> None:
    for texts, spec in HAND_PICKED:
        ordered = sorted((Version(t) for t in texts), reverse=True)
        index = VersionIndex(ordered)
        specifiers = [SpecifierSet(spec)]
        expected = [i for i, v in enumerate(ordered) if specifiers[0].contains(v, prereleases=True)]
        assert index.matching(specifiers) == expected, spec


def test_version_index_agrees_with_packaging() -> None:
    rnd = random.Random(20261121)
    checked = 0
    for _ in range(400):
        unique: dict[Version, None] = {}
        for _ in range(rnd.randint(0, 50)):
            unique.setdefault(Version(_random_version(rnd)), None)
        ordered = sorted(unique, reverse=True)
        index = VersionIndex(ordered)
        for _ in range(8):
            specifiers = []
            for _ in range(rnd.randint(0, 3)):
                texts = [_random_specifier(rnd, ordered) for _ in range(rnd.randint(1, 2))]
                try:
                    specifiers.append(SpecifierSet(",".join(texts)))
                except InvalidSpecifier:
                    continue
            expected = [
                i
                for i, v in enumerate(ordered)
                if all(s.contains(v, prereleases=True) for s in specifiers)
            ]
            assert index.matching(specifiers) == expected, ([str(s) for s in specifiers], ordered)
            checked += bool(expected)
    assert checked > 500  # the test exercises matches, not only empty answers


def test_version_index_needs_sorted_distinct_versions() -> None:
    with pytest.raises(ValueError):
        VersionIndex([Version("1.0"), Version("2.0")])
    with pytest.raises(ValueError):
        VersionIndex([Version("1.0"), Version("1.0.0")])


# -- candidates ----------------------------------------------------------------------------------


def test_candidates_compare_and_hash_by_value() -> None:
    one = IndexCandidate("demo", Version("1.0"), f("demo-1.0.tar.gz"))
    same = IndexCandidate("demo", Version("1.0"), f("demo-1.0.tar.gz"))
    other = IndexCandidate("demo", Version("1.0"), f("demo-1.0.zip"))
    assert one == same and hash(one) == hash(same) and one != other
    extras = ExtrasCandidate(one, frozenset({"x"}))
    assert extras == ExtrasCandidate(same, frozenset({"x"}))
    assert hash(extras) == hash(ExtrasCandidate(same, frozenset({"x"})))
    assert len({one, same, other, extras}) == 3
    # The cached hash is recomputed on unpickling (string hashes differ between processes).
    assert pickle.loads(pickle.dumps(extras)) == extras
    assert one.__reduce__() == (IndexCandidate, ("demo", Version("1.0"), one.file))
    assert "_hash=" not in repr(one)
