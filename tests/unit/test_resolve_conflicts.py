"""Conflict-driven skipping (resolve/conflicts.py): candidates that conflict with the roots are
learned once and dropped from every later answer, so backtracking skips whole ranges instead
of retrying them version by version. The results are those of plain resolvelib."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest
from resolvelib.resolvers.resolution import Resolution as Resolution_

from satchel.errors import ResolutionImpossible
from satchel.resolve import Resolution
from satchel.resolve.conflicts import ConflictLearner
from tests.support.resolve_fakes import FakeFinder, versions

Outcome = Resolution | str


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The candidates resolvelib tries to pin (each one merges its dependencies)."""
    tried: list[str] = []
    original = Resolution_._get_updated_criteria

    def counting(self: Resolution_, candidate: object) -> object:  # type: ignore[type-arg]
        tried.append(str(candidate))
        return original(self, candidate)

    monkeypatch.setattr(Resolution_, "_get_updated_criteria", counting)
    yield tried


def without_learning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain resolvelib: no conflict is ever learned, so nothing is filtered."""
    monkeypatch.setattr(ConflictLearner, "rejected", lambda self, candidate, identifier: None)


def outcome(resolve: Callable[[], Resolution]) -> Outcome:
    try:
        return resolve()
    except ResolutionImpossible as e:
        return f"{e.message} {e.hint}"


def assert_same(got: Outcome, want: Outcome) -> None:
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
        return
    assert {n: (p.version, p.file, p.extras, p.requires) for n, p in got.items()} == {
        n: (p.version, p.file, p.extras, p.requires) for n, p in want.items()
    }
    assert got.warnings == want.warnings


def boto3_shape(finder: FakeFinder, count: int = 120, good: int = 10, ranged: bool = False) -> None:
    """``parent`` 1..count, each needing ``child`` of its own version (``ranged``: that version
    and every later one of its series, as boto3 asks for botocore); every child above ``good``
    needs ``dep>=2``, which the root requirement ``dep<2`` forbids."""
    for v in range(1, count + 1):
        child = f"child>={v}.0,<{v // 10 + 1}0.0" if ranged else f"child=={v}.0"
        finder.add("parent", f"{v}.0", [child, "other"])
        finder.add("child", f"{v}.0", ["other>=1", "dep>=2"] if v > good else ["other>=1"])
    finder.add("dep", "1.0")
    finder.add("dep", "2.0")
    finder.add("other", "1.0")


@pytest.mark.parametrize("ranged", [False, True])
def test_a_range_that_conflicts_with_the_roots_is_skipped(
    ranged: bool, attempts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    learning = FakeFinder()
    boto3_shape(learning, ranged=ranged)
    got = learning.resolve("dep<2", "parent")
    tried_learning = len(attempts)

    attempts.clear()
    with monkeypatch.context() as m:
        without_learning(m)
        plain = FakeFinder()
        boto3_shape(plain, ranged=ranged)
        want = plain.resolve("dep<2", "parent")
    tried_plain = len(attempts)

    assert versions(got) == {"parent": "10.0", "child": "10.0", "dep": "1.0", "other": "1.0"}
    assert_same(got, want)
    # Plain resolvelib pins each of the 110 bad parents and tries children for each (all of
    # the series again and again when ranged); with learning, a parent whose children are all
    # known to conflict is never pinned.
    assert tried_plain > 220
    assert tried_learning < 40, attempts
    # Every version is read once either way (the candidate store keeps what it read), so the
    # metadata reads are not what grows: they stay at most what plain resolvelib reads.
    assert len(learning.called("get_metadata")) <= len(plain.called("get_metadata"))
    assert len(learning.called("get_metadata")) == len(set(learning.called("get_metadata")))


def test_the_learning_goes_through_extras_and_requires_python(
    attempts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def index() -> FakeFinder:
        finder = FakeFinder()
        for v in range(1, 60):
            finder.add("parent", f"{v}.0", [f"child[x]=={v}.0"])
            deps = ["dep>=2; extra == 'x'"] if v > 20 else ["dep<2; extra == 'x'"]
            # 6-20 need a newer Python than the target's 3.11 (said only in their metadata)
            requires_python = ">=3.12" if 5 < v <= 20 else None
            finder.add("child", f"{v}.0", deps, extras=["x"], requires_python=requires_python)
        finder.add("dep", "1.0")
        finder.add("dep", "2.0")
        return finder

    got = index().resolve("dep<2", "parent")
    tried_learning = len(attempts)
    attempts.clear()
    with monkeypatch.context() as m:
        without_learning(m)
        want = index().resolve("dep<2", "parent")
    assert versions(got) == {"parent": "5.0", "child": "5.0", "dep": "1.0"}
    assert_same(got, want)
    assert tried_learning * 3 < len(attempts), (tried_learning, len(attempts))


def test_no_conflict_with_the_roots_means_no_extra_reads() -> None:
    """A conflict between two dependencies (not with a root) is not learned: nothing is
    checked ahead, the resolver reads what it reads without the learner."""
    finder = FakeFinder()
    for v in range(1, 30):
        finder.add("a", f"{v}.0", [f"c=={v}.0"])
        finder.add("b", f"{v}.0", ["c<5"])
        finder.add("c", f"{v}.0")
    got = finder.resolve("a", "b")
    assert versions(got) == {"a": "4.0", "b": "29.0", "c": "4.0"}


def test_an_impossible_resolution_says_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    learning, plain = FakeFinder(), FakeFinder()
    for finder in (learning, plain):
        boto3_shape(finder, count=40, good=0)
    got = outcome(lambda: learning.resolve("dep<2", "parent"))
    with monkeypatch.context() as m:
        without_learning(m)
        want = outcome(lambda: plain.resolve("dep<2", "parent"))
    assert isinstance(want, str)
    assert_same(got, want)


def scenario(finder: FakeFinder, seed: int) -> list[str]:
    """A random index with ranges, pins, extras, markers and Requires-Python, and roots of
    which one or two restrict a version: conflicts with the roots at several depths."""
    rng = random.Random(seed)
    names = [f"p{i}" for i in range(7)]
    for i, name in enumerate(names):
        for v in range(1, rng.randint(3, 9)):
            deps = []
            for other in names[i + 1 :]:
                if rng.random() < 0.35:
                    op = rng.choice([">=", "<", "==", "!=", "<=", "~="])
                    dep = f"{other}{op}{rng.randint(1, 6)}.0"
                    if rng.random() < 0.15:
                        dep += "; sys_platform == 'win32'"
                    elif rng.random() < 0.2:
                        dep = f"{other}[x]{op}{rng.randint(1, 6)}.0"
                    deps.append(dep)
            extra_deps = [f"{rng.choice(names)}>={rng.randint(1, 3)}.0; extra == 'x'"]
            requires_python = ">=3.12" if rng.random() < 0.1 else None
            finder.add(name, f"{v}.0", deps + extra_deps, extras=["x"], requires_python=requires_python)
    roots = rng.sample(names[:3], 2)
    for name in rng.sample(names[2:], rng.randint(1, 2)):
        roots.append(f"{name}{rng.choice(['<', '<=', '>=', '!='])}{rng.randint(1, 5)}.0")
    return roots


def plainly(monkeypatch: pytest.MonkeyPatch, resolve: Callable[[], Resolution]) -> Outcome:
    with monkeypatch.context() as m:
        without_learning(m)
        return outcome(resolve)


@pytest.mark.parametrize("seed", range(200))
def test_resolutions_are_valid_and_never_fail_where_plain_resolvelib_succeeds(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    learning, plain = FakeFinder(), FakeFinder()
    roots = scenario(learning, seed)
    scenario(plain, seed)
    got = outcome(lambda: learning.resolve(*roots))
    want = plainly(monkeypatch, lambda: plain.resolve(*roots))
    if isinstance(want, str) or isinstance(got, str):
        assert got == want  # what fails is decided by plain resolvelib, message and all
        return
    if versions(got) != versions(want):
        # Another path through the versions (see resolve/conflicts.py): the result must be a
        # resolution plain resolvelib accepts when every package is pinned to it.
        pins = [
            f"{n}[{','.join(p.extras)}]=={p.version}" if p.extras else f"{n}=={p.version}"
            for n, p in got.items()
        ]
        check = FakeFinder()
        scenario(check, seed)
        pinned = plainly(monkeypatch, lambda: check.resolve(*roots, *pins))
        assert not isinstance(pinned, str), pinned
        assert versions(pinned) == versions(got)
        return
    assert_same(got, want)


@pytest.mark.parametrize("seed", [54, 163, 218, 234, 303])
def test_plain_resolvelib_decides_when_skipping_fails(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """These indexes resolve with plain resolvelib, but skipping the doomed candidates sends
    its (incomplete) backjumping to a dead end: the resolution is run again without skipping."""
    learning, plain = FakeFinder(), FakeFinder()
    roots = scenario(learning, seed)
    scenario(plain, seed)
    want = plainly(monkeypatch, lambda: plain.resolve(*roots))
    assert not isinstance(want, str)
    with monkeypatch.context() as m:
        runs: list[bool] = []
        original = ConflictLearner.__init__

        def init(self: ConflictLearner, *args: object, **kwargs: object) -> None:
            runs.append(bool(kwargs.get("enabled", True)))
            original(self, *args, **kwargs)  # type: ignore[arg-type]

        m.setattr(ConflictLearner, "__init__", init)
        got = learning.resolve(*roots)
    assert runs == [True, False]
    assert_same(got, want)
