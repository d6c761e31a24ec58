"""Fetching ahead of the resolver: what it will most likely ask for next, in the background.

Two kinds of guesses, both only guesses (the resolver asks for everything it uses as before,
so the result is the same whatever they fetch):

* prefetching (any finder): the page of every project the resolver will look at, the metadata
  of the best candidate when the resolver lists the candidates of a name, and, once it
  backtracks through the versions of a project, the metadata of the next releases it will try
  (:meth:`FetchAhead.metadata_asked`);
* the walk (a finder that offers :class:`~satchel.resolve.finder.Lookahead`): every requirement
  the resolver sees -- roots, and dependencies of what it pins -- and, transitively, the
  dependencies of the best candidate for it, have their pages and metadata fetched in worker
  threads as soon as what leads to them arrives, instead of when the resolver gets there (a cold
  jupyter resolution spent three quarters of its time waiting for pages asked one after the
  other). The walk goes on only through pages fetched over the network.

The walk shares the :class:`~satchel.resolve.store.CandidateStore`'s caches of files and
candidates (under its lock) and the provider's parsed requirements and markers, so the resolver
does not redo that work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from satchel.resolve.candidates import Candidate, IndexCandidate, base_of
from satchel.resolve.finder import Lookahead
from satchel.resolve.requirements import Constraint, SpecKey, specifier_key
from satchel.resolve.store import CandidateStore
from satchel.standards.extras import normalize_extras

log = logging.getLogger("satchel.resolve")

#: How many of the best candidates of a name get their metadata prefetched. Only the best: the
#: runner-up is needed only once the resolver backtracks through that project, which
#: :meth:`FetchAhead.metadata_asked` follows anyway, and on a cold cache its range reads (one
#: or two per project, every one of them a request to the index) compete with the pages and
#: metadata the resolver waits for: with 2, a cold trio resolution took ~15% longer (0.78 s
#: against 0.68 s) and a cold jupyter one ~13% (1.77 s against 1.56 s); boto3's, which
#: backtracks, took the same.
PREFETCH_METADATA_COUNT = 1
#: The lookahead guesses a project's candidate from the first this many different specifiers
#: it sees for it. More mean the resolver is backtracking through its dependents (boto3:
#: a new botocore range for each of 1,500 versions), which the guesses cannot follow anyway:
#: the prefetching of the next releases (:meth:`FetchAhead.metadata_asked`) does.
LOOKAHEAD_SPECIFIERS = 3
#: Once the resolver asks for the metadata of a second version of a project (it is
#: backtracking through its versions), the metadata of the next ``2 * versions asked``
#: releases, at most this many, is fetched ahead: urllib3<1.25.4 + boto3 reads ~3,000 versions
#: of boto3 and botocore one after the other, each of which would otherwise wait for its own
#: round trips.
PREFETCH_AHEAD_MAX = 64


class FetchAhead:
    """The prefetching and the walk of one resolution (see the module docstring).

    ``lookahead`` is the finder's :class:`Lookahead` capability (None: no walk).
    ``requirement`` parses a Requires-Dist line (None when invalid); ``marker_holds`` says
    whether a requirement's marker holds for an extra ("" for none), without warning.
    """

    def __init__(
        self,
        *,
        store: CandidateStore,
        lookahead: Lookahead | None,
        constraints: Mapping[str, Constraint],
        direct_urls: Mapping[str, str],
        requirement: Callable[[str], Requirement | None],
        marker_holds: Callable[[Requirement, str], bool],
    ) -> None:
        self._store = store
        self._finder = store.finder
        self._lookahead = lookahead
        self._constraints = constraints
        self._direct_urls = direct_urls
        self._requirement = requirement
        self._marker_holds = marker_holds
        self._prefetched: set[str] = set()
        self._prefetched_metadata: set[tuple[str, str]] = set()
        #: candidates whose metadata needs no prefetch (any more), for :meth:`prefetch_metadata`
        #: (read directly by the provider's hot path)
        self.done: set[Candidate] = set()
        self._versions_tried: dict[str, int] = {}  # name -> index candidates whose metadata was asked for
        # name -> positions in its releases whose metadata _prefetch_ahead asked for, [low, high)
        self._ahead_range: dict[str, tuple[int, int]] = {}
        # the walk's state, under the store's lock
        self._walk_specs: dict[str, dict[SpecKey, SpecifierSet]] = {}  # name -> specifiers seen
        self._walk_extras: dict[str, frozenset[str]] = {}  # name -> extras seen
        self._walk_guess: dict[str, tuple[IndexCandidate, frozenset[str]]] = {}  # + extras walked

    # -- prefetching -----------------------------------------------------------------------

    def prefetch_project(self, name: str) -> None:
        """Ask the finder to start loading ``name``'s page unless it will not be needed."""
        if name in self._prefetched:
            return
        self._prefetched.add(name)
        if name in self._direct_urls or self._store.prefers_installed(name):
            return
        self._finder.prefetch(name)

    def prefetch_metadata(self, found: Sequence[Candidate]) -> None:
        """Start fetching metadata of the best :data:`PREFETCH_METADATA_COUNT` candidates; past
        the first, only of wheels (cheap to read; an sdist may need a build, which is not worth
        a guess)."""
        done = self.done
        known = self._store.metadata
        for position, candidate in enumerate(found[:PREFETCH_METADATA_COUNT]):
            if candidate in done:
                continue
            base = base_of(candidate)
            if not isinstance(base, IndexCandidate) or base in known:
                done.add(candidate)
                continue
            if position > 0 and not base.file.is_wheel:
                break
            done.add(candidate)
            key = (base.name, base.file.url)
            if key not in self._prefetched_metadata:
                self._prefetched_metadata.add(key)
                self._finder.prefetch_metadata(base.name, base.version, base.file)

    def metadata_asked(self, candidate: IndexCandidate) -> None:
        """The resolver asked for the metadata of ``candidate`` (the first time): from the
        second version of a project on, it is backtracking through them."""
        tried = self._versions_tried[candidate.name] = self._versions_tried.get(candidate.name, 0) + 1
        if tried > 1:
            self._prefetch_ahead(candidate, tried)

    def _prefetch_ahead(self, candidate: IndexCandidate, tried: int) -> None:
        """The resolver wants the metadata of ``candidate``, the ``tried``-th version of its
        project it asks about: from the second on it is backtracking through them. Fetch the
        metadata of the releases it will try next, in its order (best first, below this one),
        more of them the longer it goes on."""
        name = candidate.name
        depth = min(PREFETCH_AHEAD_MAX, 2 * tried)
        releases, positions = self._store.wrapped_candidates(name, name, frozenset(), ())
        position = positions.get(candidate)
        if position is None:
            return
        start, stop = position + 1, position + 1 + depth
        low, high = self._ahead_range.get(name, (0, 0))
        if low <= start <= high:  # the usual case: going on from the last window
            start = max(start, high)
            self._ahead_range[name] = (low, max(high, stop))
        else:
            self._ahead_range[name] = (start, stop)
        known = self._store.metadata
        for base in releases[start:stop]:
            if not isinstance(base, IndexCandidate) or not base.file.is_wheel or base in known:
                continue
            key = (base.name, base.file.url)
            if key not in self._prefetched_metadata:
                self._prefetched_metadata.add(key)
                self._finder.prefetch_metadata(base.name, base.version, base.file)

    # -- the walk --------------------------------------------------------------------------

    def finish(self) -> None:
        """The resolution is over (or failed): guess no more, and drop what is still queued."""
        lookahead, self._lookahead = self._lookahead, None
        if lookahead is not None:
            lookahead.resolution_done()

    def walk(self, name: str, extras: frozenset[str], specifier: SpecifierSet) -> None:
        """Someone requires ``name[extras] specifier``: fetch its page, then the metadata of its
        best candidate under every specifier seen for it, then the same for that candidate's
        dependencies, and so on (each step in a worker thread, when the previous one is in)."""
        lookahead = self._lookahead
        if lookahead is None or name in self._direct_urls or self._store.prefers_installed(name):
            return
        key = specifier_key(specifier)
        with self._store.lock:
            specs = self._walk_specs.setdefault(name, {})
            seen = self._walk_extras.get(name, frozenset())
            new_spec = key not in specs and len(specs) < LOOKAHEAD_SPECIFIERS
            if not new_spec and extras <= seen:
                return
            if new_spec:
                specs[key] = specifier
            self._walk_extras[name] = seen | extras
        self._guard(
            lambda: lookahead.prefetch_then(name, lambda: self._guard(lambda: self._walk_page(name)))
        )

    def _walk_page(self, name: str) -> None:
        """``name``'s page is in: guess the candidate and fetch its metadata -- unless the page
        came from the cache. Then the walk ends here: what lies beyond is most likely cached
        too, and guessing in threads beside a resolver that finds everything at hand only
        costs it time (a warm jupyter resolution took a quarter longer)."""
        lookahead = self._lookahead
        if lookahead is None or not lookahead.over_network(name):
            return
        with self._store.lock:
            specifiers = list(self._walk_specs[name].values())
            constraint = self._constraints.get(name)
            if constraint is not None:
                specifiers.append(constraint.specifier)
            # (the page is in already: prefetched_files does not block)
            chosen = self._store.prefetched_candidates(
                name, specifiers, lambda: lookahead.prefetched_files(name)
            )
            if not chosen or not chosen[0].file.is_wheel:
                return  # nothing, or an sdist (its metadata may need a build: not for a guess)
            best = chosen[0]
            guessed = self._walk_guess.get(name)
            if guessed is not None and guessed[0] == best:
                if guessed[1] >= self._walk_extras[name]:
                    return
            else:
                self._walk_guess[name] = (best, frozenset())
            self._prefetched_metadata.add((name, best.file.url))
        self._guard(
            lambda: lookahead.prefetch_metadata_then(
                name, best.version, best.file, lambda: self._guard(lambda: self._walk_metadata(best))
            )
        )

    def _walk_metadata(self, candidate: IndexCandidate) -> None:
        """The metadata of a guessed candidate is in: walk its dependencies."""
        lookahead = self._lookahead
        if lookahead is None:
            return
        name = candidate.name
        meta = lookahead.prefetched_metadata(name, candidate.version, candidate.file)
        with self._store.lock:
            guessed = self._walk_guess.get(name)
            if guessed is None or guessed[0] != candidate:
                return  # a later specifier changed the guess
            extras = self._walk_extras.get(name, frozenset())
            self._walk_guess[name] = (candidate, extras)
        wanted: list[tuple[str, frozenset[str], SpecifierSet]] = []
        for text in meta.requires_dist:
            req = self._requirement(text)
            if req is None or req.url:
                continue
            if req.marker is not None and not (
                self._marker_holds(req, "") or any(self._marker_holds(req, e) for e in extras)
            ):
                continue
            wanted.append((canonicalize_name(req.name), normalize_extras(req.extras), req.specifier))
        for dep, dep_extras, specifier in wanted:
            self.walk(dep, dep_extras, specifier)

    def _guard(self, step: Callable[[], None]) -> None:
        """Run a lookahead step; a failure only ends the guessing there (the resolver asks
        for everything it needs itself, and reports what fails)."""
        try:
            step()
        except Exception as exc:
            log.debug("lookahead stopped: %s", exc)
