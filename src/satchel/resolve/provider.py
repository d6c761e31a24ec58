"""The resolvelib provider: candidates, dependencies and preferences for satchel's resolver."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib.providers import AbstractProvider
from resolvelib.structs import RequirementInformation

from satchel.resolve.candidates import (
    PYTHON_IDENTIFIER,
    BaseCandidate,
    Candidate,
    DirectCandidate,
    ExtrasCandidate,
    IndexCandidate,
    ProjectFiles,
    PythonCandidate,
    base_of,
    split_identifier,
)
from satchel.resolve.conflicts import ConflictLearner
from satchel.resolve.dependencies import MetadataReader
from satchel.resolve.finder import CoreMetadata, Finder, Lookahead
from satchel.resolve.lookahead import FetchAhead
from satchel.resolve.options import ResolveOptions
from satchel.resolve.requirements import (
    Constraint,
    ExplicitRequirement,
    RequiresPythonRequirement,
    ResolverRequirement,
    RootRequirement,
    SpecifierRequirement,
    SpecKey,
    specifier_key,
)
from satchel.resolve.store import CandidateStore, without
from satchel.standards.extras import (
    extra_dependencies,
    missing_extras,
    needed_without_extras,
    normalize_extras,
)

if TYPE_CHECKING:
    from satchel.python.interpreter import Interpreter

    Info = RequirementInformation[ResolverRequirement, Candidate]

_T = TypeVar("_T")


class SatchelProvider(AbstractProvider[ResolverRequirement, Candidate, str]):
    """Answers resolvelib's questions from a :class:`Finder`, for one resolution.

    Identifiers are normalized names, ``name[extra,...]`` for extras candidates, and
    :data:`PYTHON_IDENTIFIER`. All lookups are cached for the provider's lifetime; the
    caches depend on the interpreter, the options and what the finder returns, all fixed for
    one provider (so a provider must not be reused for another resolution). Files and
    candidates live in a :class:`~satchel.resolve.store.CandidateStore`; what is fetched
    ahead of the resolver (and the lookahead's worker threads, when the finder offers
    :class:`Lookahead`) in a :class:`~satchel.resolve.lookahead.FetchAhead`. The provider
    keeps the resolvelib interface, the dependencies and what the error explainer asks.
    """

    def __init__(
        self,
        *,
        finder: Finder,
        interpreter: Interpreter,
        options: ResolveOptions,
        constraints: Mapping[str, Constraint],
        direct_urls: Mapping[str, str],
        root_names: AbstractSet[str],
        hashes: Mapping[str, frozenset[str]],
        learn: bool = True,
    ) -> None:
        self._interpreter = interpreter
        self._options = options
        self._constraints = constraints
        self._direct_urls = direct_urls
        self._hashes = hashes
        self._store = store = CandidateStore(
            finder=finder, interpreter=interpreter, options=options, root_names=root_names, hashes=hashes
        )
        self.python_version = store.python_version
        self._python = PythonCandidate(self.python_version)
        self._read = MetadataReader(interpreter.markers, self.python_version, self.warn)
        lookahead = None if options.no_deps or not isinstance(finder, Lookahead) else finder
        self._ahead = FetchAhead(
            store=store,
            lookahead=lookahead,
            constraints=constraints,
            direct_urls=direct_urls,
            requirement=self._read.requirement,
            marker_holds=lambda req, extra: self._read.marker(None, req, extra),
        )
        # the store's and the lookahead's, bound for find_matches (a hot path)
        self._installed_versions = store.installed_versions
        self._wrapped = store.wrapped
        self._prefetch_done = self._ahead.done

        self._constraint_keys: dict[str, SpecKey] = {}
        self._identifiers: dict[str, tuple[str, frozenset[str]]] = {}
        self._counts: dict[str, int] = {}
        self._satisfied: dict[tuple[ResolverRequirement, Candidate], bool] = {}
        self._deps: dict[Candidate, tuple[ResolverRequirement, ...]] = {}
        self._requested_by: dict[str, list[Info]] = {}
        self._warnings: dict[str, None] = {}
        self._roots: dict[str, list[ResolverRequirement]] = {}
        self.conflicts = ConflictLearner(self.get_dependencies, self._matches_alone, enabled=learn)

    # -- information for the resolver front end and the error explainer ----------------------

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings)

    @property
    def asked_sources(self) -> bool:
        """Whether metadata was asked of an sdist or a direct reference (which may be built)."""
        return self._store.asked_sources

    @property
    def pre(self) -> bool:
        return self._options.pre

    @property
    def best_tag(self) -> str:
        return self._interpreter.tags[0] if self._interpreter.tags else "none"

    def warn(self, message: str) -> None:
        self._warnings.setdefault(message, None)

    def constraint(self, name: str) -> Constraint | None:
        return self._constraints.get(name)

    def direct_url(self, name: str) -> str | None:
        return self._direct_urls.get(name)

    def hashes_for(self, name: str) -> frozenset[str]:
        return self._hashes.get(name, frozenset())

    def is_installed(self, name: str) -> bool:
        return self._store.installed_candidate(name) is not None

    def requested_by(self, identifier: str) -> Sequence[Info]:
        """Every (requirement, parent) ever produced for ``identifier`` (parent None: root)."""
        return self._requested_by.get(identifier, ())

    def project_files(self, name: str) -> ProjectFiles:
        return self._store.project_files(name)

    def prefetch_project(self, name: str) -> None:
        """Ask the finder to start loading ``name``'s page unless it will not be needed."""
        self._ahead.prefetch_project(name)

    def root_requirement(self, root: RootRequirement) -> ResolverRequirement:
        """The resolver requirement for a (marker-applicable) root requirement."""
        name = root.name
        extras = normalize_extras(root.requirement.extras)
        url = root.direct_url
        req: ResolverRequirement
        if url:
            candidate = self._store.with_extras(self.direct_candidate(name, url), extras)
            req = ExplicitRequirement(candidate, root.requirement, root)
        else:
            req = SpecifierRequirement(
                name, extras, root.requirement.specifier, root.requirement, root
            )
            self._ahead.walk(name, extras, root.requirement.specifier)
        self._requested_by.setdefault(req.identifier, []).append(RequirementInformation(req, None))
        self._roots.setdefault(req.identifier, []).append(req)
        return req

    def index_versions(self, name: str, specifier: SpecifierSet) -> list[Version]:
        """Versions the index offers for ``name`` under ``specifier`` (same rules as matching)."""
        return [c.version for c in self._store.index_candidates(name, (specifier,))]

    def has_matches(self, requirement: ResolverRequirement) -> bool:
        """Whether ``requirement`` alone (with the constraints) has any candidate."""
        identifier = requirement.identifier
        matches = self._find_matches(identifier, {identifier: iter([requirement])}, {})
        found = matches() if callable(matches) else matches
        return next(iter(found), None) is not None

    # -- resolvelib provider interface ------------------------------------------------------

    def identify(self, requirement_or_candidate: ResolverRequirement | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Info]],
        backtrack_causes: Sequence[Info],
    ) -> tuple[bool, bool, bool, int, str]:
        """Smaller is resolved first: pins and direct URLs, root requirements, fewest
        candidates, then by identifier. (Backtrack causes are preferred before this is even
        consulted, by :meth:`narrow_requirement_selection`.)"""
        infos = list(information[identifier])
        name, _ = split_identifier(identifier)
        direct = name in self._direct_urls
        pinned = False
        for info in infos:
            req = info.requirement
            if isinstance(req, ExplicitRequirement):
                pinned = True
                direct = direct or isinstance(base_of(req.candidate), DirectCandidate)
            elif isinstance(req, SpecifierRequirement) and req.is_pinned:
                pinned = True
        from_root = any(info.parent is None for info in infos)
        count = self._counts.get(identifier, sys.maxsize)
        return (
            identifier != PYTHON_IDENTIFIER,
            not (pinned or direct),
            not from_root,
            count,
            identifier,
        )

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Info]],
        backtrack_causes: Sequence[Info],
    ) -> Iterable[str]:
        """Requires-Python first (free to check); else only the names that made the
        resolver backtrack most recently, if any is unresolved (as pip does)."""
        causes: set[str] = set()
        for info in backtrack_causes:
            causes.add(info.requirement.identifier)
            if info.parent is not None:
                causes.add(info.parent.identifier)
        identifiers = list(identifiers)
        if PYTHON_IDENTIFIER in identifiers:
            return [PYTHON_IDENTIFIER]
        narrowed = [i for i in identifiers if i in causes]
        return narrowed or identifiers

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[ResolverRequirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Sequence[Candidate] | Callable[[], Iterator[Candidate]]:
        found = self._find_matches(identifier, requirements, incompatibilities)
        learner = self.conflicts
        if learner.conflicted:
            # Drop, lazily, the candidates no resolution can contain (resolve/conflicts.py);
            # lazily also because what is known grows while resolvelib walks the answer. The
            # count for the preferences stays that of all candidates, as before.
            if callable(found):
                factory = found
                return lambda: learner.filter(identifier, factory())
            return lambda: learner.filter(identifier, found)
        return found

    def _matches_alone(self, requirement: ResolverRequirement) -> Iterable[Candidate]:
        """The candidates for ``requirement`` with only the root requirements on its name."""
        identifier = requirement.identifier
        reqs = {identifier: [requirement, *self._roots.get(identifier, ())]}
        if identifier != PYTHON_IDENTIFIER:
            name, extras = split_identifier(identifier)
            if extras:
                reqs[name] = list(self._roots.get(name, ()))
        count = self._counts.get(identifier)
        found = self.find_matches(identifier, {k: iter(v) for k, v in reqs.items()}, {})
        if count is None:  # the preferences count what the resolver asked, not this
            self._counts.pop(identifier, None)
        else:
            self._counts[identifier] = count
        return found() if callable(found) else found

    def _find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[ResolverRequirement]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Sequence[Candidate] | Callable[[], Iterator[Candidate]]:
        # resolvelib calls this for every requirement it adds and after every backjump
        # (225,000 times for urllib3<1.25.4 + boto3), mostly with a question asked before:
        # the common case below is a few dictionary lookups.
        reqs = _get_list(requirements, identifier)
        if identifier == PYTHON_IDENTIFIER:
            ok = all(self.is_satisfied_by(r, self._python) for r in reqs)
            return [self._python] if ok else []
        split = self._identifiers.get(identifier)
        if split is None:
            split = self._identifiers[identifier] = split_identifier(identifier)
        name, extras = split
        if extras:
            # name[extra] must also satisfy what is asked of plain name.
            reqs.extend(_get_list(requirements, name))
        # Every candidate rejected so far (hundreds while backtracking through boto3).
        rejected = _get_list(incompatibilities, identifier)
        constraint = self._constraints.get(name)
        keys = [r.key for r in reqs if isinstance(r, SpecifierRequirement)]
        if (
            len(keys) == len(reqs)
            and name not in self._direct_urls
            and (name not in self._installed_versions or self._store.installed_candidate(name) is None)
        ):
            # Only specifiers: an index candidate is acceptable exactly when it matches all
            # of them and the constraint's (which is how _index_candidates picks them) and
            # was not rejected. (Explicit requirements, direct URLs, URL constraints
            # included, and what is installed take the general path.)
            if constraint is not None:
                keys.append(self._constraint_key(constraint))
            key = (identifier, frozenset(keys))
            cached = self._wrapped.get(key)
            if cached is None:
                specifiers = [r.specifier for r in reqs if isinstance(r, SpecifierRequirement)]
                if constraint is not None:
                    specifiers.append(constraint.specifier)
                cached = self._store.wrapped_candidates(identifier, name, extras, specifiers, key[1])
            candidates, positions = cached
            found = without(candidates, positions, rejected) if rejected else candidates
            if found and not (
                found[0] in self._prefetch_done
                and (len(found) == 1 or found[1] in self._prefetch_done)
            ):
                self._ahead.prefetch_metadata(found)
            self._counts[identifier] = len(found)
            return found
        return self._find_matches_general(identifier, name, extras, reqs, set(rejected))

    def _find_matches_general(
        self,
        identifier: str,
        name: str,
        extras: frozenset[str],
        reqs: Sequence[ResolverRequirement],
        bad: AbstractSet[Candidate],
    ) -> Sequence[Candidate] | Callable[[], Iterator[Candidate]]:
        constraint = self._constraints.get(name)

        def acceptable(candidate: Candidate) -> bool:
            return (
                candidate not in bad
                and _constraint_allows(constraint, candidate)
                and all(self.is_satisfied_by(r, candidate) for r in reqs)
            )

        explicit = [
            self._store.with_extras(base_of(r.candidate), extras)
            for r in reqs
            if isinstance(r, ExplicitRequirement)
        ]
        if not explicit and name in self._direct_urls:
            explicit = [
                self._store.with_extras(self.direct_candidate(name, self._direct_urls[name]), extras)
            ]
        if explicit:
            chosen = [c for c in dict.fromkeys(explicit) if acceptable(c)]
            self._counts[identifier] = len(chosen)
            return chosen

        # Only specifier requirements from here on: see find_matches.
        specifiers = [r.specifier for r in reqs if isinstance(r, SpecifierRequirement)]
        if constraint is not None:
            specifiers.append(constraint.specifier)
        installed = self._store.installed_candidate(name)
        if installed is not None:
            wrapped = self._store.with_extras(installed, extras)
            if not acceptable(wrapped):
                installed = None
            elif self._store.prefers_installed(name):
                # Keep what is installed; only look at the index if it gets rejected.
                self._counts[identifier] = 1

                def installed_first() -> Iterator[Candidate]:
                    yield wrapped
                    for c in self._store.index_candidates(name, specifiers):
                        if c.version != wrapped.version:
                            candidate = self._store.with_extras(c, extras)
                            if candidate not in bad:
                                yield candidate

                return installed_first

        found: Sequence[Candidate]
        if installed is not None:
            # Reuse the installed distribution where its version would be picked anyway.
            bases: list[BaseCandidate] = [
                c
                for c in self._store.index_candidates(name, specifiers)
                if c.version != installed.version
            ]
            position = next(
                (i for i, c in enumerate(bases) if c.version < installed.version), len(bases)
            )
            bases.insert(position, installed)
            found = [c for c in (self._store.with_extras(b, extras) for b in bases) if c not in bad]
        else:
            candidates, positions = self._store.wrapped_candidates(identifier, name, extras, specifiers)
            found = without(candidates, positions, bad)
        self._ahead.prefetch_metadata(found)
        self._counts[identifier] = len(found)
        return found

    def is_satisfied_by(self, requirement: ResolverRequirement, candidate: Candidate) -> bool:
        if isinstance(requirement, ExplicitRequirement):
            return base_of(candidate) == base_of(requirement.candidate)
        # resolvelib re-checks every pin against every requirement each round. Requirements
        # hash by identity and live as long as the provider, so the key stays valid.
        key = (requirement, candidate)
        satisfied = self._satisfied.get(key)
        if satisfied is None:
            satisfied = requirement.specifier.contains(candidate.version, prereleases=True)
            self._satisfied[key] = satisfied
        return satisfied

    def get_dependencies(self, candidate: Candidate) -> tuple[ResolverRequirement, ...]:
        deps = self._deps.get(candidate)
        if deps is None:
            deps = tuple(self._compute_dependencies(candidate))
            self._deps[candidate] = deps
            for req in deps:
                info: Info = RequirementInformation(req, candidate)
                self._requested_by.setdefault(req.identifier, []).append(info)
                if isinstance(req, SpecifierRequirement):
                    self._ahead.prefetch_project(req.name)
                    self._ahead.walk(req.name, req.extras, req.specifier)
        return deps

    # -- candidates and the end ----------------------------------------------------------

    def direct_candidate(self, name: str, url: str) -> DirectCandidate:
        return self._store.direct_candidate(name, url)

    def _constraint_key(self, constraint: Constraint) -> SpecKey:
        key = self._constraint_keys.get(constraint.name)
        if key is None:
            key = self._constraint_keys[constraint.name] = specifier_key(constraint.specifier)
        return key

    def finish(self) -> None:
        """The resolution is over (or failed): guess no more, and drop what is still queued."""
        self._ahead.finish()

    # -- metadata and dependencies -----------------------------------------------------------

    def metadata(self, candidate: BaseCandidate) -> CoreMetadata:
        meta = self._store.metadata.get(candidate)
        if meta is None:
            assert isinstance(candidate, IndexCandidate)  # the others are stored on creation
            meta = self._store.fetch_metadata(candidate)
            self._ahead.metadata_asked(candidate)
        return meta

    def _compute_dependencies(self, candidate: Candidate) -> list[ResolverRequirement]:
        if isinstance(candidate, PythonCandidate):
            return []
        if isinstance(candidate, ExtrasCandidate):
            return self._extras_dependencies(candidate)
        if self._options.no_deps:
            return []
        meta = self.metadata(candidate)
        deps: list[ResolverRequirement] = []
        if meta.requires_python:
            spec, ok = self._read.requires_python(meta.requires_python)
            if not ok:
                deps.append(RequiresPythonRequirement(spec))
        holds = partial(self._read.marker, candidate)
        for req in self._read.requires(candidate, meta):
            if needed_without_extras(req, holds):
                deps.append(self._dependency(req))
        return deps

    def _extras_dependencies(self, candidate: ExtrasCandidate) -> list[ResolverRequirement]:
        base = candidate.base
        deps: list[ResolverRequirement] = [ExplicitRequirement(base)]
        if self._options.no_deps:
            return deps
        meta = self.metadata(base)
        added, used = extra_dependencies(
            self._read.requires(base, meta), candidate.extras, partial(self._read.marker, base)
        )
        deps.extend(self._dependency(req) for req in added)
        for extra in missing_extras(candidate.extras, meta.provides_extra, used):
            self.warn(f"{base} does not provide the extra '{extra}'")
        return deps

    def _dependency(self, req: Requirement) -> ResolverRequirement:
        name = canonicalize_name(req.name)
        extras = normalize_extras(req.extras)
        if req.url:
            return ExplicitRequirement(
                self._store.with_extras(self.direct_candidate(name, req.url), extras), req
            )
        return SpecifierRequirement(name, extras, req.specifier, req)


def _constraint_allows(constraint: Constraint | None, candidate: Candidate) -> bool:
    if constraint is None:
        return True
    if constraint.url is not None:
        base = base_of(candidate)
        if not (isinstance(base, DirectCandidate) and base.url == constraint.url):
            return False
    return constraint.specifier.contains(candidate.version, prereleases=True)


def _get_list(mapping: Mapping[str, Iterator[_T]], key: str) -> list[_T]:
    """``list(mapping.get(key, ()))``, minus the generic ``Mapping.get`` (a hot path)."""
    try:
        return list(mapping[key])
    except KeyError:
        return []

