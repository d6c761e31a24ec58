"""Requires-Python admission (satchel.standards.requires_python) against packaging, and the
places that apply it: index files, release metadata, the no-op check and the error messages."""

from __future__ import annotations

import random

import pytest
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from satchel.errors import ResolutionImpossible
from satchel.standards.requires_python import admits, excluding_operators, parse_requires_python
from tests.support.resolve_fakes import FakeFinder
from tests.support.satisfied import Dist, assert_not_satisfied, assert_satisfied

_PYTHONS = ["3.8.0", "3.10.12", "3.11.7", "3.12.0", "3.13.0rc1", "3.13.0", "3.14.0a3", "4.0"]
_OPS = ["==", "!=", ">=", "<=", ">", "<", "~=", "==="]
_VERSIONS = ["3", "3.8", "3.11", "3.11.7", "3.12", "3.13.0rc1", "3.13", "3.*", "3.11.*", "4", "x", ""]


def _text(rng: random.Random) -> str:
    clauses = [f"{rng.choice(_OPS)}{rng.choice(_VERSIONS)}" for _ in range(rng.randint(0, 3))]
    return rng.choice([",", ", ", " ,"]).join(clauses)


def test_admits_is_packagings_answer_and_ignores_what_does_not_parse() -> None:
    rng = random.Random(5)
    parsed = unparsed = 0
    for _ in range(3000):
        text = _text(rng)
        for python in _PYTHONS:
            version = Version(python)
            try:
                want = SpecifierSet(text).contains(version, prereleases=True)
                parsed += 1
            except InvalidSpecifier:
                want = True  # ignored, as pip does
                unparsed += 1
            assert admits(text, version) == want, (text, python)
            assert parse_requires_python(text).contains(version, prereleases=True) == want
    assert parsed > 5000 and unparsed > 1000


def test_prerelease_interpreters_count_like_any_version() -> None:
    assert admits(">=3.12", Version("3.13.0rc1"))
    assert not admits("<3.13", Version("3.13.0rc1"))
    assert admits("nonsense", Version("3.11.7"))


@pytest.mark.parametrize(
    ("text", "python", "expected"),
    [
        (">=3.12", "3.11.7", {">="}),
        ("<3.11,>=3.8", "3.11.7", {"<"}),
        (">=3.8,<4", "3.11.7", set()),
        ("==3.10.*", "3.11.7", {"=="}),
        ("nonsense", "3.11.7", None),
    ],
)
def test_excluding_operators(text: str, python: str, expected: set[str] | None) -> None:
    found = excluding_operators(text, Version(python))
    assert (None if found is None else set(found)) == expected


def test_the_resolver_and_the_no_op_check_agree() -> None:
    # index files (data-requires-python), release metadata, installed releases
    finder = FakeFinder()
    finder.add("a", "3.0", requires_python=">=3.12")  # in the metadata only
    finder.add("a", "2.0", file_requires_python=">=3.12")  # on the index page
    finder.add("a", "1.0", requires_python="nonsense", file_requires_python="nonsense")
    assert str(finder.resolve("a")["a"].version) == "1.0"
    assert_not_satisfied([Dist("a", "1.0", requires_python=">=3.12")], ["a"], "requires Python")
    assert_satisfied([Dist("a", "1.0", requires_python="nonsense")], ["a"], ("a",))
    assert_satisfied([Dist("a", "1.0", requires_python=">=3.11.7")], ["a"], ("a",))


def test_the_message_says_which_way_the_interpreter_is_wrong() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", requires_python=">=3.12")  # in the metadata
    finder.add("b", "1.0", requires_python="<3.10")
    finder.add("c", "1.0", file_requires_python=">=3.12")  # on the index page
    hints = []
    for name in "abc":
        with pytest.raises(ResolutionImpossible) as e:
            finder.resolve(name)
        hints.append(e.value.hint or "")
    assert "Use a newer interpreter" in hints[0]
    assert "Use an older interpreter" in hints[1]
    assert "use a newer Python" in hints[2]
