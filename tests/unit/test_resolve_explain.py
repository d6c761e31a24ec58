"""The messages users see when resolution fails."""

from __future__ import annotations

import pytest

from satchel.errors import ResolutionImpossible
from satchel.resolve import RootRequirement
from tests.support.resolve_fakes import FakeFinder


def fail(
    finder: FakeFinder, *requirements: str | RootRequirement, **kwargs: object
) -> ResolutionImpossible:
    with pytest.raises(ResolutionImpossible) as e:
        finder.resolve(*requirements, **kwargs)  # type: ignore[arg-type]
    return e.value


def test_root_conflict() -> None:
    finder = FakeFinder()
    for v in ["1.11", "2.0", "2.1", "2.2", "3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "5.0"]:
        finder.add("django", v)
    error = fail(finder, "django<2", "django>=4")
    lines = error.message.splitlines()
    assert lines[0] == "Cannot install django<2 and django>=4 because these requirements conflict."
    assert "  django<2 (command line)" in lines
    assert "  django>=4 (command line)" in lines
    assert (
        "  django: available versions 1.11, 2.0, ..., 4.0, 4.1, 4.2, 5.0; none satisfies both <2 and >=4"
        in lines
    )
    assert error.hint


def test_transitive_conflict_shows_chains() -> None:
    finder = FakeFinder()
    finder.add("top", "1.0", ["a", "c"])
    finder.add("a", "1.0", ["b<2"])
    finder.add("c", "1.0", ["d"])
    finder.add("d", "1.0", ["b>=3"])
    for v in ["1.0", "2.0", "3.0"]:
        finder.add("b", v)
    error = fail(finder, "top")
    lines = error.message.splitlines()
    assert lines[0] == "Cannot install b<2 and b>=3 because these requirements conflict."
    assert "  top (command line) -> top 1.0 -> a 1.0 -> b<2" in lines
    assert "  top (command line) -> top 1.0 -> c 1.0 -> d 1.0 -> b>=3" in lines
    assert "  b: available versions 1.0, 2.0, 3.0; none satisfies both <2 and >=3" in lines
    assert error.hint is not None and "a and d" in error.hint


def test_conflict_names_the_requirement_source() -> None:
    from tests.support.resolve_fakes import root

    finder = FakeFinder()
    finder.add("a", "1.0", ["b<2"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    error = fail(
        finder, root("a", source="requirements.txt:1"), root("b>=2", source="requirements.txt:2")
    )
    assert "  a (requirements.txt:1) -> a 1.0 -> b<2" in error.message.splitlines()
    assert "  b>=2 (requirements.txt:2)" in error.message.splitlines()


def test_missing_package() -> None:
    error = fail(FakeFinder(), "nope")
    assert error.message == "No package named 'nope' on the index."
    assert error.hint is not None and "--index-url" in error.hint


def test_missing_transitive_package() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", ["Nope>=1"])
    error = fail(finder, "a")
    lines = error.message.splitlines()
    assert lines[0] == "No package named 'Nope' on the index (required by a 1.0)."
    assert "  a (command line) -> a 1.0 -> Nope>=1" in lines


def test_no_matching_version_lists_versions_and_reasons() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0")
    finder.add("a", "2.0")
    finder.add("a", "3.0", file_requires_python=">=3.12")
    error = fail(finder, "a>=3")
    lines = error.message.splitlines()
    assert lines[0] == "No version of a satisfies a>=3."
    assert "    3.0: requires Python >=3.12" in lines
    assert "  newest versions of a: 2.0, 1.0" in lines
    assert error.hint is not None
    assert "requires Python >=3.12" in error.hint and "3.11.7" in error.hint


def test_no_matching_version_without_excluded_versions() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0")
    error = fail(finder, "a>=4")
    assert error.message.splitlines()[0] == "No version of a satisfies a>=4."
    assert error.hint is not None and "newest usable version of a is 1.0" in error.hint


def test_no_compatible_wheel() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", wheels=["cp311-cp311-win_amd64", "cp27-none-any"])
    error = fail(finder, "a")
    assert error.message.splitlines()[0] == "No version of a can be installed."
    assert "    1.0: no wheel for this interpreter" in error.message.splitlines()
    assert error.hint is not None and "no wheel for this interpreter" in error.hint


def test_only_binary_explained() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", wheels=[], sdist=True)
    error = fail(finder, "a", only_binary={":all:"})
    assert error.hint is not None and "--only-binary" in error.hint


def test_yanked_explained() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0")
    finder.add("a", "2.0", yanked="security issue")
    error = fail(finder, "a>=2")
    assert "    2.0: yanked (security issue)" in error.message.splitlines()
    assert error.hint is not None and "a==2.0" in error.hint


def test_metadata_requires_python_explained() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", requires_python=">=3.12")
    error = fail(finder, "a")
    lines = error.message.splitlines()
    assert lines[0] == (
        "Cannot install a 1.0 because it requires a different Python "
        "(the target interpreter is Python 3.11.7)."
    )
    assert "  a (command line) -> a 1.0 -> Python>=3.12" in lines


def test_constraint_conflict() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", ["b<2"])
    finder.add("b", "1.0")
    finder.add("b", "2.0")
    error = fail(finder, "a", constraints=["b>=2"])
    lines = error.message.splitlines()
    assert (
        lines[0]
        == "Cannot install b<2 (required by a 1.0) because it conflicts with the constraint b>=2."
    )
    assert "  constraint: b>=2 (constraints.txt)" in lines


def test_conflicting_urls() -> None:
    finder = FakeFinder()
    finder.add_direct("file:///x", "a", "1.0")
    finder.add_direct("file:///y", "a", "1.0")
    error = fail(finder, "a @ file:///x", "a @ file:///y")
    assert error.message.splitlines()[0] == (
        "Cannot install a @ file:///x and a @ file:///y because these requirements conflict."
    )
    assert (
        "  a: requested from 2 different URLs; only one can be installed"
        in error.message.splitlines()
    )


def test_exhausted_backtracking_lists_every_cause() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", ["b==1.0"])
    finder.add("a", "2.0", ["b==2.0"])
    finder.add("c", "1.0", ["b==3.0"])
    for v in ["1.0", "2.0", "3.0"]:
        finder.add("b", v)
    lines = fail(finder, "a", "c").message.splitlines()
    assert lines[0].startswith("Cannot install b==")
    assert "  c (command line) -> c 1.0 -> b==3.0" in lines
    assert "  a (command line) -> a 2.0 -> b==2.0" in lines
    assert "  a (command line) -> a 1.0 -> b==1.0" in lines
