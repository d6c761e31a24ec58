"""Conflict-driven skipping: candidates that no resolution can contain, learned from conflicts.

resolvelib tries a project's versions one by one and forgets, at every backjump, why a version
failed. With ``urllib3<1.25.4`` and ``boto3``, each of ~1,470 boto3 versions is pinned and then
every botocore version its ``botocore>=1.x.y,<1.(x+1)`` range admits is tried again, each
failing on the same ``urllib3>=1.25.4``: ~75,000 attempts for a result that only needed to skip
two ranges.

A candidate is *doomed* when one of its dependencies, together with the root requirements on
that name (and the constraints, which the provider always applies), leaves no candidate that is
not doomed itself. Root requirements are part of every state of the resolution, and adding
requirements only narrows what ``find_matches`` returns, so a doomed candidate cannot be part of
any resolution: dropping it from ``find_matches`` only spares resolvelib the attempt (the way
PubGrub learns an incompatibility once and skips every version it covers).

Checking a candidate needs its dependencies (its metadata), so nothing is checked until the
resolver has seen a conflict of that kind: a rejection whose requirements came only from the
roots and the rejected candidate nominates the name it conflicted on (``conflicted``) and the
rejected candidate's name (``suspects``). Then the candidates of a suspect name are checked,
lazily and in order, against their dependencies on conflicted names; a name with a doomed
candidate becomes conflicted itself (a requirement on it may now be unsatisfiable), so the
knowledge climbs from urllib3 to botocore to boto3. The verdict is the provider's own proof
(``alone``), never the nomination's: a wrong nomination only costs a metadata read.

What this changes: resolvelib no longer pins a doomed candidate and backjumps from it, so the
causes it backjumps on, and thus its path, can differ. Its backjumping is not complete, so a
different path can end in ``ResolutionImpossible`` where the plain one finds a resolution:
:func:`satchel.resolve.resolver.resolve` then runs plain resolvelib (``enabled=False``), which
decides every failure and its message. Where both succeed the result is nearly always the same;
in 6 of 400 random test indexes it was another valid resolution, older in 4 of them
(docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from satchel.resolve.candidates import Candidate
from satchel.resolve.requirements import ResolverRequirement


class ConflictLearner:
    """Which candidates are doomed, for one resolution (see the module docstring).

    ``dependencies``: the provider's ``get_dependencies``. ``alone``: the candidates acceptable
    for one requirement together with the root requirements on its name (the provider's
    ``find_matches``, already filtered through :meth:`filter` where that applies).
    ``enabled=False``: nothing is ever learned (plain resolvelib).
    """

    def __init__(
        self,
        dependencies: Callable[[Candidate], Sequence[ResolverRequirement]],
        alone: Callable[[ResolverRequirement], Iterable[Candidate]],
        *,
        enabled: bool = True,
    ) -> None:
        self._enabled = enabled
        self._dependencies = dependencies
        self._alone = alone
        self.conflicted: set[str] = set()
        self.suspects: set[str] = set()
        self.skipped = 0  # candidates dropped from find_matches answers (for tests and profiles)
        self._doomed: set[Candidate] = set()
        self._viable: dict[Candidate, int] = {}  # candidate -> generation it was found viable in
        self._generation = 0  # grows with ``conflicted``: a viable verdict may not hold any more
        self._checking: set[Candidate] = set()

    def rejected(self, candidate: Candidate, identifier: str) -> None:
        """resolvelib rejected ``candidate`` because of its requirement on ``identifier``,
        whose other requirements all came from the roots."""
        if not self._enabled:
            return
        self.suspects.add(candidate.identifier)
        self._conflict(identifier)
        self.doomed(candidate)  # if it is, requirements on its name are conflicted too

    def filter(self, identifier: str, candidates: Iterable[Candidate]) -> Iterator[Candidate]:
        """``candidates`` for ``identifier``, minus the doomed ones if it is a suspect, checked
        as they are reached."""
        for candidate in candidates:
            if identifier in self.suspects and self.doomed(candidate):
                self.skipped += 1
            else:
                yield candidate

    def doomed(self, candidate: Candidate) -> bool:
        if candidate in self._doomed:
            return True
        if self._viable.get(candidate) == self._generation or candidate in self._checking:
            return False  # a cycle back to a candidate under check: assume it can work
        self._checking.add(candidate)
        try:
            doomed = any(
                req.identifier in self.conflicted and _empty(self._alone(req))
                for req in self._dependencies(candidate)
            )
        finally:
            self._checking.discard(candidate)
        if doomed:
            self._doomed.add(candidate)
            self._conflict(candidate.identifier)
        else:
            self._viable[candidate] = self._generation
        return doomed

    def _conflict(self, identifier: str) -> None:
        if identifier not in self.conflicted:
            self.conflicted.add(identifier)
            self._generation += 1


def _empty(candidates: Iterable[Candidate]) -> bool:
    return next(iter(candidates), None) is None
