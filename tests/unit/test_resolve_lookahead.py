"""Fetching ahead of the resolver: metadata of the next versions while it backtracks, and the
lookahead that walks the dependencies of the best candidates as pages and metadata arrive.
Both only change what is fetched when, never the result."""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable, Sequence

import pytest
from packaging.version import Version

from satchel.errors import ResolutionImpossible
from satchel.index.models import IndexFile
from satchel.resolve import CoreMetadata, Resolution
from satchel.resolve.finder import Lookahead
from satchel.resolve.lookahead import PREFETCH_AHEAD_MAX
from tests.support.resolve_fakes import FakeFinder, versions


class LookaheadFinder(FakeFinder):
    """A FakeFinder that offers the lookahead: ``then`` runs at once (``threaded=False``) or
    later in a worker thread, in random order (``threaded=True``)."""

    def __init__(self, *, threaded: bool = False, seed: int = 0) -> None:
        super().__init__()
        self.threaded = threaded
        self.done_called = 0
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(3)] if threaded else []
        for w in self._workers:
            w.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._rng.random() < 0.5:
                threading.Event().wait(0.0005)
            job()

    def _later(self, then: Callable[[], None]) -> None:
        if self.threaded:
            self._jobs.put(then)
        else:
            then()

    def stop(self) -> None:
        for _ in self._workers:
            self._jobs.put(None)
        for w in self._workers:
            w.join(5)

    def _log(self, *call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def prefetch_then(self, name: str, then: Callable[[], None]) -> None:
        self._log("ahead_page", name)
        self._later(then)

    def prefetch_metadata_then(
        self, name: str, version: Version, file: IndexFile, then: Callable[[], None]
    ) -> None:
        self._log("ahead_metadata", name, str(version))
        self._later(then)

    def prefetched_files(self, name: str) -> Sequence[IndexFile]:
        return list(self.files.get(name, ()))

    def prefetched_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        return self.metadata[file.filename]

    def over_network(self, name: str) -> bool:
        return name not in self.cached

    cached: frozenset[str] = frozenset()

    def resolution_done(self) -> None:
        self.done_called += 1


def first(calls: list[tuple[str, ...]], call: tuple[str, ...]) -> int:
    return calls.index(call)


# -- the lookahead ---------------------------------------------------------------------------------


def test_the_whole_tree_is_fetched_before_the_resolver_gets_there() -> None:
    finder = LookaheadFinder()
    finder.add("a", "1.0", ["b", "c>=2"])
    finder.add("b", "1.0", ["d"])
    finder.add("c", "1.0", ["e"])
    finder.add("c", "2.0", ["f"])
    finder.add("d", "1.0", ["g"])
    for name in "efg":
        finder.add(name, "1.0")
    assert versions(finder.resolve("a")) == {n: "1.0" for n in "abdfg"} | {"c": "2.0"}
    calls = finder.calls
    # Everything the resolution needs was asked for ahead, before the resolver read b's page.
    for name, version in [("d", "1.0"), ("g", "1.0"), ("f", "1.0"), ("c", "2.0")]:
        assert first(calls, ("ahead_metadata", name, version)) < first(calls, ("find_files", "b"))
    # The guess for c is its best version under c>=2; e (a dependency of c 1.0) is never fetched.
    assert ("ahead_metadata", "c", "1.0") not in calls
    assert ("ahead_page", "e") not in calls
    assert finder.done_called == 1


def test_markers_and_extras_are_followed() -> None:
    finder = LookaheadFinder()
    finder.add(
        "a",
        "1.0",
        ["b; sys_platform == 'win32'", "c; python_version >= '3'", "d[x]", "bad; python_version ~= 'x'"],
    )
    finder.add("b", "1.0")
    finder.add("c", "1.0")
    finder.add("d", "1.0", ["e; extra == 'x'", "f; extra == 'y'"], extras=["x", "y"])
    for name in "ef":
        finder.add(name, "1.0")
    resolution = finder.resolve("a")
    ahead = finder.called("ahead_page")
    assert ("b",) not in ahead and ("f",) not in ahead  # not for this platform; extra not asked
    assert ("c",) in ahead and ("e",) in ahead
    assert ("bad",) not in ahead
    (warning,) = resolution.warnings  # the resolver's own, once: a guess warns about nothing
    assert "cannot evaluate its marker" in warning


def test_sdists_and_installed_projects_are_not_guessed() -> None:
    finder = LookaheadFinder()
    finder.add("a", "1.0", ["b", "c"])
    finder.add("b", "1.0", ["x"], wheels=[], sdist=True)
    finder.add("c", "1.0")
    finder.add("x", "1.0")
    finder.install("c", "1.0")
    finder.resolve("a")
    assert ("ahead_metadata", "b", "1.0") not in finder.calls  # its metadata may need a build
    assert ("ahead_page", "c") not in finder.calls  # the installed one is kept


def test_the_walk_ends_at_cached_pages() -> None:
    finder = LookaheadFinder()
    finder.cached = frozenset({"b"})
    finder.add("a", "1.0", ["b", "c"])
    finder.add("b", "1.0", ["d"])
    finder.add("c", "1.0", ["e"])
    for name in "de":
        finder.add(name, "1.0")
    finder.resolve("a")
    assert ("ahead_metadata", "c", "1.0") in finder.calls and ("ahead_page", "e") in finder.calls
    assert ("ahead_metadata", "b", "1.0") not in finder.calls
    assert first(finder.calls, ("ahead_page", "d")) > first(finder.calls, ("get_metadata", "b", "1.0", "b-1.0-py3-none-any.whl"))


def test_no_lookahead_without_dependencies() -> None:
    finder = LookaheadFinder()
    finder.add("a", "1.0", ["b"])
    finder.add("b", "1.0")
    finder.resolve("a", no_deps=True)
    assert finder.called("ahead_page") == []


def test_the_lookahead_is_a_declared_capability() -> None:
    from satchel.commands.sources import SourceFinder

    assert issubclass(SourceFinder, Lookahead)  # the install's finder offers it
    assert isinstance(LookaheadFinder(), Lookahead)
    assert not isinstance(FakeFinder(), Lookahead)

    class Partial(FakeFinder):  # one method short of the capability: no lookahead at all
        def prefetch_then(self, name: str, then: Callable[[], None]) -> None:
            self.calls.append(("ahead_page", name))
            then()

    finder = Partial()
    assert not isinstance(finder, Lookahead)
    finder.add("a", "1.0", ["b"])
    finder.add("b", "1.0")
    assert versions(finder.resolve("a")) == {"a": "1.0", "b": "1.0"}
    assert finder.called("ahead_page") == []


def test_a_failing_guess_does_not_fail_the_resolution() -> None:
    class Broken(LookaheadFinder):
        def prefetched_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
            raise RuntimeError("network down")

    finder = Broken()
    finder.add("a", "1.0", ["b"])
    finder.add("b", "1.0")
    assert versions(finder.resolve("a")) == {"a": "1.0", "b": "1.0"}


def scenario(finder: FakeFinder, seed: int) -> list[str]:
    """A random little index with ranges, markers, extras and conflicts; the roots to resolve."""
    rng = random.Random(seed)
    names = [f"p{i}" for i in range(8)]
    for i, name in enumerate(names):
        for v in range(1, rng.randint(2, 5)):
            deps = []
            for other in names[i + 1 :]:
                if rng.random() < 0.3:
                    op = rng.choice([">=", "<", "==", "!="])
                    dep = f"{other}{op}{rng.randint(1, 4)}.0"
                    if rng.random() < 0.2:
                        dep += "; sys_platform == 'win32'"
                    elif rng.random() < 0.2:
                        dep = f"{other}[x]"
                    deps.append(dep)
            extra_deps = [f"{rng.choice(names)}>={rng.randint(1, 2)}.0; extra == 'x'"]
            finder.add(name, f"{v}.0", deps + extra_deps, extras=["x"])
    return rng.sample(names, 2)


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_resolutions_are_the_same_with_the_lookahead(seed: int, threaded: bool) -> None:
    plain, ahead = FakeFinder(), LookaheadFinder(threaded=threaded, seed=seed)
    roots = scenario(plain, seed)
    scenario(ahead, seed)

    def outcome(finder: FakeFinder) -> Resolution | str:
        try:
            return finder.resolve(*roots)
        except ResolutionImpossible as e:
            return f"{e.message} {e.hint}"

    try:
        want, got = outcome(plain), outcome(ahead)
    finally:
        ahead.stop()
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
    else:
        assert {n: (p.version, p.file, p.extras, p.requires) for n, p in got.items()} == {
            n: (p.version, p.file, p.extras, p.requires) for n, p in want.items()
        }
        assert got.warnings == want.warnings
    # The resolver asked for what it needed itself, as without the lookahead.
    assert [c for c in ahead.calls if c[0] in ("find_files", "get_metadata")] == [
        c for c in plain.calls if c[0] in ("find_files", "get_metadata")
    ]


# -- metadata ahead while backtracking --------------------------------------------------------------


def backtracking(finder: FakeFinder, count: int = 30, good: int = 5) -> None:
    """a 1..count, each needing b of its own version; b above ``good`` needs c>=2, which the
    root requirement c<2 forbids: the resolver walks a down from the top."""
    for v in range(1, count + 1):
        finder.add("a", f"{v}.0", [f"b=={v}.0"])
        finder.add("b", f"{v}.0", ["c>=2"] if v > good else [])
    finder.add("c", "1.0")
    finder.add("c", "2.0")


def test_backtracking_fetches_the_next_versions_metadata_ahead() -> None:
    finder = FakeFinder()
    backtracking(finder)
    assert versions(finder.resolve("a", "c<2")) == {"a": "5.0", "b": "5.0", "c": "1.0"}
    calls = finder.calls
    for name in ("a", "b"):
        for v in range(6, 29):  # every version tried after the first two was prefetched first
            asked = ("get_metadata", name, f"{v}.0", f"{name}-{v}.0-py3-none-any.whl")
            prefetched = ("prefetch_metadata", name, f"{v}.0", f"{name}-{v}.0-py3-none-any.whl")
            assert first(calls, prefetched) < first(calls, asked), (name, v)
    # ... including versions below the solution: the window runs ahead of the resolver.
    assert ("prefetch_metadata", "a", "3.0", "a-3.0-py3-none-any.whl") in calls
    meta = finder.called("prefetch_metadata")
    assert len(meta) == len(set(meta))  # never twice


def test_the_window_grows_with_the_backtracking_and_is_capped() -> None:
    finder = FakeFinder()
    backtracking(finder, count=200, good=1)
    finder.resolve("a", "c<2")
    calls = finder.calls
    # When the resolver asks for the third version of a, the prefetches reach 2 * 3 ahead of it
    # at most; when it asks for the 100th, at most PREFETCH_AHEAD_MAX ahead.
    for tried, limit in [(3, 2 * 3), (100, PREFETCH_AHEAD_MAX)]:
        version = 200 - tried + 1
        cut = first(calls, ("get_metadata", "a", f"{version}.0", f"a-{version}.0-py3-none-any.whl"))
        ahead = [int(c[2].split(".")[0]) for c in calls[: cut + 1] if c[:2] == ("prefetch_metadata", "a")]
        assert min(ahead) >= version - limit - 1
        assert min(ahead) <= version - 2


def test_no_metadata_ahead_without_backtracking() -> None:
    finder = FakeFinder()
    for v in range(1, 10):
        finder.add("a", f"{v}.0", ["b"])
    finder.add("b", "1.0")
    finder.resolve("a")
    # the best candidate's only: neither the runner-up nor the releases below it
    assert [c[1] for c in finder.called("prefetch_metadata") if c[0] == "a"] == ["9.0"]
