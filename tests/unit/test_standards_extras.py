"""Extras (satchel.standards.extras): which dependencies ``name[extras]`` adds, the same for the
resolver and the no-op check."""

from __future__ import annotations

from packaging.requirements import Requirement

from satchel.standards.extras import (
    extra_dependencies,
    missing_extras,
    needed_without_extras,
    normalize_extras,
)
from satchel.standards.markers import marker_holds
from tests.support.resolve_fakes import MARKERS, FakeFinder, versions
from tests.support.satisfied import Dist, assert_not_satisfied, assert_satisfied

LINES = [
    "plain",
    'test-only; extra == "test"',
    'Docs_Only; extra == "Docs"',  # PEP 685: matched normalized
    'both; extra == "test" or extra == "docs"',
    'win-test; extra == "test" and sys_platform == "win32"',
    'always; python_version >= "3" or extra == "test"',  # holds without an extra: the release's
]


def holds(req: Requirement, extra: str) -> bool:
    assert req.marker is not None
    return marker_holds(req.marker, MARKERS, extra)


def test_what_each_extra_adds() -> None:
    reqs = [Requirement(t) for t in LINES]
    assert [r.name for r in reqs if needed_without_extras(r, holds)] == ["plain", "always"]
    added, used = extra_dependencies(reqs, normalize_extras(["TEST"]), holds)
    assert [r.name for r in added] == ["test-only", "both"] and used == {"test"}
    added, used = extra_dependencies(reqs, normalize_extras(["docs", "nope"]), holds)
    assert [r.name for r in added] == ["Docs_Only", "both"] and used == {"docs"}
    assert missing_extras(normalize_extras(["docs", "nope", "Declared"]), ["declared"], used) == ["nope"]


def test_the_resolver_and_the_no_op_check_agree() -> None:
    finder = FakeFinder()
    finder.add("a", "1.0", LINES, extras=["test", "docs"])
    for name in ["plain", "test-only", "docs-only", "both", "win-test", "always"]:
        finder.add(name, "1.0")
    assert set(versions(finder.resolve("a[test]"))) == {"a", "plain", "test-only", "both", "always"}
    a = Dist("a", "1.0", LINES, provides_extra=["test", "docs"])
    deps = [Dist(n, "1.0") for n in ["plain", "test-only", "both", "always"]]
    assert_satisfied([a, *deps], ["a[test]"], ("a", "always", "both", "plain", "test-only"))
    assert_not_satisfied([a, *deps], ["a[docs]"], "docs-only is not installed")
    assert_not_satisfied([a, *deps, Dist("docs-only", "1.0")], ["a[nope]"], "does not provide the extra 'nope'")
