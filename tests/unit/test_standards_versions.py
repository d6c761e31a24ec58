"""The narrow PEP 440 versions and specifiers (``satchel.standards.versions``) against packaging:
wherever the narrow form answers, it answers what packaging does; where it declines (None),
packaging decides."""

from __future__ import annotations

import random

import pytest
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.standards.versions import (
    canonical_name,
    contains_all,
    parse_specifier,
    parse_specifiers,
    parse_version,
)

REAL_WORLD = [
    "1.0", "1.0.0", "2.31.0", "1.0.0rc9", "0.6", "2.0a0", "1.26.18", "3.11", "3.12.1", "3.13.0rc1",
    "1!2.0", "2024.8.30", "0", "0.0", "1.0.post1", "1.0.dev0", "1.0a1.dev2", "1.0rc1.post2.dev3",
    "1.0+ubuntu1", "1.0+local.7", "4.16.0", "26.2", "2.0a.0", "1.0-1", "v1.0", "1.0.RC1", "01.2",
    "1.0+01", "0!1.0", "1.0_post1", "1.0c1", "1.0alpha1", "1.0.a1", "1.0-dev", " 1.0", "1.0+UB",
]


def random_version(rng: random.Random) -> str:
    """Versions in and out of the normalized form."""
    parts = []
    if rng.random() < 0.1:
        parts.append(f"{rng.choice(['0', '1', '2', '01'])}!")
    n = rng.choice([1, 1, 2, 2, 2, 3, 3, 4])
    parts.append(".".join(rng.choice(["0", "1", "2", "3", "10", "00", "01"]) for _ in range(n)))
    if rng.random() < 0.35:
        parts.append(rng.choice(["a", "b", "rc", "c", ".a", "-rc", "alpha", "A", "a.", "_b-", "rc_"])
                     + rng.choice(["0", "1", "2", "", "01"]))
    if rng.random() < 0.25:
        parts.append(rng.choice([".post", "post", "-", ".POST", "_post"]) + rng.choice(["0", "1", "2", "01"]))
    if rng.random() < 0.25:
        parts.append(rng.choice([".dev", "dev", "-dev"]) + rng.choice(["0", "1", "", "01"]))
    if rng.random() < 0.15:
        parts.append("+" + rng.choice(["local", "1", "01", "a.1", "ubuntu-1", "A", "abc.0.x", "0"]))
    return "".join(parts)


def packaging_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def test_narrow_versions_are_packagings_normalized_versions() -> None:
    rng = random.Random(440)
    texts = REAL_WORLD + [random_version(rng) for _ in range(20000)]
    accepted = 0
    for text in texts:
        narrow = parse_version(text)
        full = packaging_version(text)
        if narrow is None:
            continue
        accepted += 1
        assert full is not None, text
        assert str(full) == text == str(narrow)
        assert narrow.is_prerelease == full.is_prerelease, text
    assert accepted > 3000


def test_narrow_version_order_is_packagings() -> None:
    rng = random.Random(7)
    versions = [v for v in (parse_version(random_version(rng)) for _ in range(3000)) if v is not None]
    versions += [v for v in map(parse_version, REAL_WORLD) if v is not None]
    for _ in range(40000):
        a, b = rng.choice(versions), rng.choice(versions)
        va, vb = Version(a.text), Version(b.text)
        assert (a.key < b.key) == (va < vb), (a, b)
        assert (a.key == b.key) == (va == vb), (a, b)
    ordered = sorted(versions, key=lambda v: v.key)
    assert [Version(v.text) for v in ordered] == sorted(Version(v.text) for v in ordered)


OPERATORS = ["==", "!=", "<=", ">=", "<", ">", "~=", "==="]


def random_specifier(rng: random.Random, near: list[str]) -> str:
    op = rng.choice(OPERATORS)
    version = rng.choice(near) if rng.random() < 0.6 else random_version(rng)
    if rng.random() < 0.2:
        version = ".".join(version.split("+")[0].split(".")[: rng.randint(1, 3)]) + ".*"
    blank = rng.choice(["", "", " ", "\t"])
    return f"{blank}{op}{rng.choice(['', ' '])}{version}{blank}"


def packaging_specifier(text: str) -> Specifier | None:
    try:
        return Specifier(text.strip())
    except InvalidSpecifier:
        return None


@pytest.mark.parametrize("seed", range(4))
def test_narrow_specifiers_contain_what_packaging_contains(seed: int) -> None:
    rng = random.Random(seed)
    pool = [random_version(rng) for _ in range(400)] + REAL_WORLD
    narrow_pool = [(t, parse_version(t)) for t in pool]
    candidates = [(t, v) for t, v in narrow_pool if v is not None]
    answered = 0
    for _ in range(5000):
        text = random_specifier(rng, pool)
        narrow = parse_specifier(text)
        full = packaging_specifier(text)
        if narrow is None:
            continue
        assert full is not None, text
        assert "===" not in text
        for vtext, v in rng.sample(candidates, 25):
            answered += 1
            assert narrow.contains(v) == full.contains(Version(vtext), prereleases=True), (text, vtext)
    assert answered > 15000


def test_narrow_specifier_sets_contain_what_packaging_contains() -> None:
    rng = random.Random(99)
    pool = [random_version(rng) for _ in range(300)] + REAL_WORLD
    candidates = [(t, v) for t, v in ((t, parse_version(t)) for t in pool) if v is not None]
    answered = 0
    for _ in range(3000):
        text = ",".join(random_specifier(rng, pool) for _ in range(rng.randint(0, 3)))
        narrow = parse_specifiers(text)
        if narrow is None:
            continue
        full = SpecifierSet(text)  # accepted by the narrow form: valid for packaging too
        for vtext, v in rng.sample(candidates, 10):
            answered += 1
            assert contains_all(narrow, v) == full.contains(Version(vtext), prereleases=True), (text, vtext)
    assert answered > 5000


def test_edge_cases_by_hand() -> None:
    cases = [
        ("<1.0", "1.0rc1"), ("<1.0", "0.9rc1"), ("<1.0.post1", "1.0.post1.dev0"), ("<1.0rc1", "1.0a1"),
        (">1.0", "1.0.post1"), (">1.0.post1", "1.0.post2"), (">1.0", "1.0+local"), (">1.0a1", "1.0a1+x"),
        (">1.0a1", "1.0a1.post1"), ("==1.0", "1.0+local"), ("==1.0+local", "1.0"), ("!=1.0", "1.0+x"),
        ("==1.0.*", "1"), ("==1.*", "1.0rc1"), ("==1.0.*", "1.0.dev0"), ("==1!1.*", "1.5"),
        ("~=1.4.5", "1.4.6"), ("~=1.4.5", "1.5"), ("~=1.4", "1.9rc1"), ("~=2.2.post3", "2.3"),
        ("<=1.0", "1.0+x"), (">=1.0", "1.0.dev0"), ("<2", "2.0.dev0"), ("==0", "0.0"), ("<0", "0.dev0"),
        (">1.0.dev0", "1.0.dev1"), (">1.0.dev0", "1.0a0"), ("<1.0.dev5", "1.0.dev2"),
    ]
    for spec, version in cases:
        narrow = parse_specifier(spec)
        v = parse_version(version)
        assert narrow is not None and v is not None, (spec, version)
        assert narrow.contains(v) == Specifier(spec).contains(Version(version), prereleases=True), (spec, version)


def test_declined_forms() -> None:
    for text in ["===1.0", ">=1.0+local", "<1.0.*", "~=1", "~=1.*", "==1.0a1.*", ">=2.0alpha0", ">= ", ""]:
        assert parse_specifier(text) is None, text
    assert parse_specifiers("") == []
    assert parse_specifiers(">=1,,<2") is None


def test_canonical_name_is_packagings() -> None:
    rng = random.Random(503)
    alphabet = "aAbZz09._-"
    names = ["Foo_Bar", "foo.bar", "FOO--bar", "a", "Django", "zope.interface", "ruamel.yaml.clib", "typing_extensions"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(5000)]
    for name in names:
        assert canonical_name(name) == canonicalize_name(name), name
