"""The resolvelib provider: candidates, dependencies and preferences for satchel's resolver."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib.providers import AbstractProvider
from resolvelib.structs import RequirementInformation

from satchel.errors import ResolutionImpossible
from satchel.index.models import IndexFile
from satchel.resolve.candidates import (
    PYTHON_IDENTIFIER,
    BaseCandidate,
    Candidate,
    DirectCandidate,
    ExtrasCandidate,
    FileParser,
    FilePolicy,
    IndexCandidate,
    InstalledCandidate,
    ProjectFiles,
    PythonCandidate,
    base_of,
    select_files,
    split_identifier,
)
from satchel.resolve.finder import CoreMetadata, Finder
from satchel.resolve.matching import VersionIndex
from satchel.resolve.requirements import (
    Constraint,
    ExplicitRequirement,
    RequiresPythonRequirement,
    ResolverRequirement,
    RootRequirement,
    SpecifierRequirement,
    SpecKey,
    is_exact_pin,
    normalize_extras,
    specifier_key,
)

if TYPE_CHECKING:
    from satchel.python.interpreter import Interpreter
    from satchel.resolve.resolver import ResolveOptions

    Info = RequirementInformation[ResolverRequirement, Candidate]

_T = TypeVar("_T")

log = logging.getLogger("satchel.resolve")

#: How many of the best candidates of a name get their metadata prefetched.
PREFETCH_METADATA_COUNT = 2
#: The lookahead guesses a project's candidate from the first this many different specifiers
#: it sees for it. More mean the resolver is backtracking through its dependents (boto3:
#: a new botocore range for each of 1,500 versions), which the guesses cannot follow anyway:
#: _prefetch_ahead does.
LOOKAHEAD_SPECIFIERS = 3
#: Once the resolver asks for the metadata of a second version of a project (it is
#: backtracking through its versions), the metadata of the next ``2 * versions asked``
#: releases, at most this many, is fetched ahead: urllib3<1.25.4 + boto3 reads ~3,000 versions
#: of boto3 and botocore one after the other, each of which would otherwise wait for its own
#: round trips.
PREFETCH_AHEAD_MAX = 64


class Lookahead(Protocol):
    """What a :class:`Finder` offers for fetching ahead of the resolver (the index-backed one
    does; a finder without these methods gets no lookahead). ``then`` is called from a worker
    thread once the result is there, never on failure; the ``prefetched_*`` methods return
    what their blocking counterparts would, when called from such a ``then``."""

    def prefetch_then(self, name: str, then: Callable[[], None]) -> None: ...

    def prefetch_metadata_then(
        self, name: str, version: Version, file: IndexFile, then: Callable[[], None]
    ) -> None: ...

    def prefetched_files(self, name: str) -> Sequence[IndexFile]: ...

    def prefetched_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata: ...

    def over_network(self, name: str) -> bool:
        """Whether ``name``'s files (loaded) came over the network rather than from a cache."""
        ...

    def resolution_done(self) -> None: ...


_LOOKAHEAD_METHODS = (
    "prefetch_then",
    "prefetch_metadata_then",
    "prefetched_files",
    "prefetched_metadata",
    "over_network",
    "resolution_done",
)


class SatchelProvider(AbstractProvider[ResolverRequirement, Candidate, str]):
    """Answers resolvelib's questions from a :class:`Finder`, for one resolution.

    Identifiers are normalized names, ``name[extra,...]`` for extras candidates, and
    :data:`PYTHON_IDENTIFIER`. All lookups are cached for the provider's lifetime; the
    caches depend on the interpreter, the options and what the finder returns, all fixed for
    one provider (so a provider must not be reused for another resolution).

    Lookahead (when the finder offers :class:`Lookahead`): every requirement the provider
    sees -- roots, and dependencies of what the resolver pins -- and, transitively, the
    dependencies of the best candidate for it, have their pages and metadata fetched in
    worker threads as soon as what leads to them arrives, instead of when the resolver gets
    there (a cold jupyter resolution spent three quarters of its time waiting for pages asked
    one after the other). The walk goes on only through pages fetched over the network. It
    only guesses what to fetch: the resolver asks for everything it
    uses as before, so the result is the same. The guessing shares the provider's caches of
    files, candidates, parsed requirements and markers (under ``_lock``), so the resolver
    does not redo that work.
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
    ) -> None:
        self._finder = finder
        self._interpreter = interpreter
        self._options = options
        self._constraints = constraints
        self._direct_urls = direct_urls
        self._root_names = root_names
        self._hashes = hashes
        self._env: dict[str, str] = dict(interpreter.markers)
        self._tag_ranks: dict[str, int] = {}
        for rank, tag in enumerate(interpreter.tags):
            self._tag_ranks.setdefault(tag, rank)
        self.python_version = Version(interpreter.version_str)
        self._python = PythonCandidate(self.python_version)
        self._installed_versions = {canonicalize_name(k): v for k, v in options.installed.items()}
        self._upgrade_packages = {canonicalize_name(n) for n in options.upgrade_packages}
        self._only_binary = {_format_name(n) for n in options.only_binary}
        self._no_binary = {_format_name(n) for n in options.no_binary}

        self._files: dict[str, ProjectFiles] = {}
        self._parser = FileParser(self._tag_ranks, self.python_version)
        self._version_index: dict[str, VersionIndex] = {}
        self._constraint_keys: dict[str, SpecKey] = {}
        # (name, keys of the specifier sets) -> index candidates, best first
        self._matches: dict[tuple[str, frozenset[SpecKey]], tuple[IndexCandidate, ...]] = {}
        # the same with extras applied, by identifier, and each candidate's position
        self._wrapped: dict[
            tuple[str, frozenset[SpecKey]], tuple[tuple[Candidate, ...], dict[Candidate, int]]
        ] = {}
        self._identifiers: dict[str, tuple[str, frozenset[str]]] = {}
        self._metadata: dict[BaseCandidate, CoreMetadata] = {}
        self._direct: dict[tuple[str, str], DirectCandidate] = {}
        self._installed: dict[str, InstalledCandidate | None] = {}
        self._index_cands: dict[tuple[str, str], IndexCandidate] = {}
        self._extras_cands: dict[tuple[BaseCandidate, frozenset[str]], ExtrasCandidate] = {}
        self._deps: dict[Candidate, tuple[ResolverRequirement, ...]] = {}
        self._parsed: dict[str, Requirement] = {}
        self._markers: dict[tuple[int, str], tuple[Requirement, bool]] = {}
        self._requires_pythons: dict[str, tuple[SpecifierSet, bool]] = {}
        self._satisfied: dict[tuple[ResolverRequirement, Candidate], bool] = {}
        self._counts: dict[str, int] = {}
        self._prefetched: set[str] = set()
        self._prefetched_metadata: set[tuple[str, str]] = set()
        # candidates whose metadata needs no prefetch (any more), for _prefetch_metadata
        self._prefetch_done: set[Candidate] = set()
        self._versions_tried: dict[str, int] = {}  # name -> index candidates whose metadata was asked for
        # name -> positions in its releases whose metadata _prefetch_ahead asked for, [low, high)
        self._ahead_range: dict[str, tuple[int, int]] = {}
        self._requested_by: dict[str, list[Info]] = {}
        self._warnings: dict[str, None] = {}
        self._asked: set[str] = set()  # names whose files the resolver asked the finder for

        # Lookahead (see the class docstring). _lock guards the caches it shares with the
        # resolver's thread (_files, _matches, _version_index, _index_cands, the parser) and
        # its own state below.
        self._lock = threading.RLock()
        self._lookahead: Lookahead | None = None
        if not options.no_deps and all(hasattr(finder, m) for m in _LOOKAHEAD_METHODS):
            self._lookahead = cast("Lookahead", finder)
        self._walk_specs: dict[str, dict[SpecKey, SpecifierSet]] = {}  # name -> specifiers seen
        self._walk_extras: dict[str, frozenset[str]] = {}  # name -> extras seen
        self._walk_guess: dict[str, tuple[IndexCandidate, frozenset[str]]] = {}  # + extras walked

    # -- information for the resolver front end and the error explainer ----------------------

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings)

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
        return self._installed_candidate(name) is not None

    def requested_by(self, identifier: str) -> Sequence[Info]:
        """Every (requirement, parent) ever produced for ``identifier`` (parent None: root)."""
        return self._requested_by.get(identifier, ())

    def project_files(self, name: str) -> ProjectFiles:
        files = self._files.get(name)
        if files is None or name not in self._asked:
            # The finder hears of every project the resolver looks at, even when the lookahead
            # has its files already.
            found = self._finder.find_files(name)
            self._asked.add(name)
            with self._lock:
                files = self._files.get(name)
                if files is None:
                    files = select_files(name, found, self._policy(name), self._parser)
                    self._files[name] = files
        return files

    def prefetch_project(self, name: str) -> None:
        """Ask the finder to start loading ``name``'s page unless it will not be needed."""
        if name in self._prefetched:
            return
        self._prefetched.add(name)
        if name in self._direct_urls or self._prefers_installed(name):
            return
        self._finder.prefetch(name)

    def root_requirement(self, root: RootRequirement) -> ResolverRequirement:
        """The resolver requirement for a (marker-applicable) root requirement."""
        name = root.name
        extras = normalize_extras(root.requirement.extras)
        url = root.direct_url
        req: ResolverRequirement
        if url:
            candidate = self._with_extras(self.direct_candidate(name, url), extras)
            req = ExplicitRequirement(candidate, root.requirement, root)
        else:
            req = SpecifierRequirement(
                name, extras, root.requirement.specifier, root.requirement, root
            )
            self._walk(name, extras, root.requirement.specifier)
        self._requested_by.setdefault(req.identifier, []).append(RequirementInformation(req, None))
        return req

    def index_versions(self, name: str, specifier: SpecifierSet) -> list[Version]:
        """Versions the index offers for ``name`` under ``specifier`` (same rules as matching)."""
        return [c.version for c in self._index_candidates(name, (specifier,))]

    def has_matches(self, requirement: ResolverRequirement) -> bool:
        """Whether ``requirement`` alone (with the constraints) has any candidate."""
        identifier = requirement.identifier
        matches = self.find_matches(identifier, {identifier: iter([requirement])}, {})
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
            and (name not in self._installed_versions or self._installed_candidate(name) is None)
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
                cached = self._wrapped_candidates(identifier, name, extras, specifiers, key[1])
            candidates, positions = cached
            found = _without(candidates, positions, rejected) if rejected else candidates
            if found and not (
                found[0] in self._prefetch_done
                and (len(found) == 1 or found[1] in self._prefetch_done)
            ):
                self._prefetch_metadata(found)
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
            self._with_extras(base_of(r.candidate), extras)
            for r in reqs
            if isinstance(r, ExplicitRequirement)
        ]
        if not explicit and name in self._direct_urls:
            explicit = [
                self._with_extras(self.direct_candidate(name, self._direct_urls[name]), extras)
            ]
        if explicit:
            chosen = [c for c in dict.fromkeys(explicit) if acceptable(c)]
            self._counts[identifier] = len(chosen)
            return chosen

        # Only specifier requirements from here on: see find_matches.
        specifiers = [r.specifier for r in reqs if isinstance(r, SpecifierRequirement)]
        if constraint is not None:
            specifiers.append(constraint.specifier)
        installed = self._installed_candidate(name)
        if installed is not None:
            wrapped = self._with_extras(installed, extras)
            if not acceptable(wrapped):
                installed = None
            elif self._prefers_installed(name):
                # Keep what is installed; only look at the index if it gets rejected.
                self._counts[identifier] = 1

                def installed_first() -> Iterator[Candidate]:
                    yield wrapped
                    for c in self._index_candidates(name, specifiers):
                        if c.version != wrapped.version:
                            candidate = self._with_extras(c, extras)
                            if candidate not in bad:
                                yield candidate

                return installed_first

        found: Sequence[Candidate]
        if installed is not None:
            # Reuse the installed distribution where its version would be picked anyway.
            bases: list[BaseCandidate] = [
                c
                for c in self._index_candidates(name, specifiers)
                if c.version != installed.version
            ]
            position = next(
                (i for i, c in enumerate(bases) if c.version < installed.version), len(bases)
            )
            bases.insert(position, installed)
            found = [c for c in (self._with_extras(b, extras) for b in bases) if c not in bad]
        else:
            candidates, positions = self._wrapped_candidates(identifier, name, extras, specifiers)
            found = _without(candidates, positions, bad)
        self._prefetch_metadata(found)
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
                    self.prefetch_project(req.name)
                    self._walk(req.name, req.extras, req.specifier)
        return deps

    # -- candidates --------------------------------------------------------------------------

    def direct_candidate(self, name: str, url: str) -> DirectCandidate:
        candidate = self._direct.get((name, url))
        if candidate is None:
            meta = self._finder.get_direct_metadata(name, url)
            if canonicalize_name(meta.name) != name:
                raise ResolutionImpossible(
                    f"{url} contains {meta.name} {meta.version}, not {name}.",
                    hint=f"Fix the name before '@' in the requirement, e.g. '{meta.name} @ {url}'.",
                )
            candidate = DirectCandidate(name, meta.version, url)
            self._metadata[candidate] = meta
            self._direct[(name, url)] = candidate
        return candidate

    def _index_candidates(
        self,
        name: str,
        specifiers: Sequence[SpecifierSet],
        keys: frozenset[SpecKey] | None = None,
    ) -> tuple[IndexCandidate, ...]:
        """Index candidates matching all ``specifiers``, best first (PEP 440 / PEP 592 rules).

        Memoized by the specifiers' keys (``keys``: their :func:`specifier_key`, when the
        caller has them): backtracking asks the same questions many times.
        """
        if keys is None:
            keys = frozenset(map(specifier_key, specifiers))
        chosen = self._matches.get((name, keys))
        if chosen is None or name not in self._asked:  # (the lookahead may have been first)
            project = self.project_files(name)
            with self._lock:
                chosen = self._matches.get((name, keys))
                if chosen is None:
                    chosen = self._compute_index_candidates(name, specifiers, project)
                    self._matches[(name, keys)] = chosen
        return chosen

    def _compute_index_candidates(
        self, name: str, specifiers: Sequence[SpecifierSet], project: ProjectFiles
    ) -> tuple[IndexCandidate, ...]:
        specifier = SpecifierSet()
        for s in specifiers:
            specifier &= s
        exact = is_exact_pin(specifier)
        index = self._version_index.get(name)
        if index is None:
            index = self._version_index[name] = VersionIndex(project.versions)
        chosen: list[IndexCandidate] = []
        for position in index.matching(specifiers):
            entry = project.entry(position)
            file = entry.file or (entry.yanked_file if exact else None)
            if file is None:
                continue
            key = (name, file.url)
            candidate = self._index_cands.get(key)
            if candidate is None:
                candidate = self._index_cands[key] = IndexCandidate(name, entry.version, file)
            chosen.append(candidate)
        releases = self._options.releases_for(name)
        if releases is False:  # --only-final
            chosen = [c for c in chosen if not c.version.is_prerelease]
        elif not (releases or specifier.prereleases):
            finals = [c for c in chosen if not c.version.is_prerelease]
            if finals:  # pre-releases only when nothing else matches (PEP 440)
                chosen = finals
        if self._options.prefer_binary:
            # pip's --prefer-binary: versions with a wheel first (newest first), then the rest.
            chosen.sort(key=lambda c: not c.file.is_wheel)
        return tuple(chosen)

    def _wrapped_candidates(
        self,
        identifier: str,
        name: str,
        extras: frozenset[str],
        specifiers: Sequence[SpecifierSet],
        keys: frozenset[SpecKey] | None = None,
    ) -> tuple[tuple[Candidate, ...], dict[Candidate, int]]:
        """:meth:`_index_candidates` as candidates for ``identifier``, and their positions."""
        if keys is None:
            keys = frozenset(map(specifier_key, specifiers))
        found = self._wrapped.get((identifier, keys))
        if found is None:
            wrapped = tuple(
                self._with_extras(c, extras) for c in self._index_candidates(name, specifiers, keys)
            )
            found = (wrapped, {c: i for i, c in enumerate(wrapped)})
            self._wrapped[(identifier, keys)] = found
        return found

    def _constraint_key(self, constraint: Constraint) -> SpecKey:
        key = self._constraint_keys.get(constraint.name)
        if key is None:
            key = self._constraint_keys[constraint.name] = specifier_key(constraint.specifier)
        return key

    def _installed_candidate(self, name: str) -> InstalledCandidate | None:
        if name not in self._installed_versions:
            return None
        if name not in self._installed:
            meta = self._finder.get_installed_metadata(name)
            candidate = None
            if meta is not None and canonicalize_name(meta.name) == name:
                candidate = InstalledCandidate(name, meta.version)
                self._metadata[candidate] = meta
            self._installed[name] = candidate
        return self._installed[name]

    def _prefers_installed(self, name: str) -> bool:
        """pip's "only if needed" upgrade strategy: keep what is installed unless asked."""
        if name not in self._installed_versions or name in self._upgrade_packages:
            return False
        return not (self._options.upgrade and name in self._root_names)

    def _with_extras(self, base: Candidate, extras: frozenset[str]) -> Candidate:
        if not extras or isinstance(base, (ExtrasCandidate, PythonCandidate)):
            return base
        key = (base, extras)
        candidate = self._extras_cands.get(key)
        if candidate is None:
            candidate = self._extras_cands[key] = ExtrasCandidate(base, extras)
        return candidate

    def _prefetch_metadata(self, found: Sequence[Candidate]) -> None:
        """Start fetching metadata of the best candidate, and of the runner-up when it is a
        wheel (cheap to read; an sdist may need a build, which is not worth a guess)."""
        done = self._prefetch_done
        for position, candidate in enumerate(found[:PREFETCH_METADATA_COUNT]):
            if candidate in done:
                continue
            base = base_of(candidate)
            if not isinstance(base, IndexCandidate) or base in self._metadata:
                done.add(candidate)
                continue
            if position > 0 and not base.file.is_wheel:
                break
            done.add(candidate)
            key = (base.name, base.file.url)
            if key not in self._prefetched_metadata:
                self._prefetched_metadata.add(key)
                self._finder.prefetch_metadata(base.name, base.version, base.file)

    def _prefetch_ahead(self, candidate: IndexCandidate, tried: int) -> None:
        """The resolver wants the metadata of ``candidate``, the ``tried``-th version of its
        project it asks about: from the second on it is backtracking through them. Fetch the
        metadata of the releases it will try next, in its order (best first, below this one),
        more of them the longer it goes on."""
        name = candidate.name
        depth = min(PREFETCH_AHEAD_MAX, 2 * tried)
        releases, positions = self._wrapped_candidates(name, name, frozenset(), ())
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
        for base in releases[start:stop]:
            if not isinstance(base, IndexCandidate) or not base.file.is_wheel or base in self._metadata:
                continue
            key = (base.name, base.file.url)
            if key not in self._prefetched_metadata:
                self._prefetched_metadata.add(key)
                self._finder.prefetch_metadata(base.name, base.version, base.file)

    # -- lookahead (see the class docstring) ---------------------------------------------------

    def finish(self) -> None:
        """The resolution is over (or failed): guess no more, and drop what is still queued."""
        lookahead, self._lookahead = self._lookahead, None
        if lookahead is not None:
            lookahead.resolution_done()

    def _walk(self, name: str, extras: frozenset[str], specifier: SpecifierSet) -> None:
        """Someone requires ``name[extras] specifier``: fetch its page, then the metadata of its
        best candidate under every specifier seen for it, then the same for that candidate's
        dependencies, and so on (each step in a worker thread, when the previous one is in)."""
        lookahead = self._lookahead
        if lookahead is None or name in self._direct_urls or self._prefers_installed(name):
            return
        key = specifier_key(specifier)
        with self._lock:
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
        with self._lock:
            specifiers = list(self._walk_specs[name].values())
            constraint = self._constraints.get(name)
            if constraint is not None:
                specifiers.append(constraint.specifier)
            keys = frozenset(map(specifier_key, specifiers))
            chosen = self._matches.get((name, keys))
            if chosen is None:
                project = self._files.get(name)
                if project is None:
                    found = lookahead.prefetched_files(name)  # in already: does not block
                    project = select_files(name, found, self._policy(name), self._parser)
                    self._files[name] = project
                chosen = self._compute_index_candidates(name, specifiers, project)
                self._matches[(name, keys)] = chosen
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
        with self._lock:
            guessed = self._walk_guess.get(name)
            if guessed is None or guessed[0] != candidate:
                return  # a later specifier changed the guess
            extras = self._walk_extras.get(name, frozenset())
            self._walk_guess[name] = (candidate, extras)
        wanted: list[tuple[str, frozenset[str], SpecifierSet]] = []
        for text in meta.requires_dist:
            req = self._parsed.get(text)
            if req is None:
                try:
                    req = self._parsed[text] = Requirement(text)
                except InvalidRequirement:
                    continue
            if req.url:
                continue
            if req.marker is not None and not (
                self._marker(None, req, "") or any(self._marker(None, req, e) for e in extras)
            ):
                continue
            wanted.append((canonicalize_name(req.name), normalize_extras(req.extras), req.specifier))
        for dep, dep_extras, specifier in wanted:
            self._walk(dep, dep_extras, specifier)

    def _guard(self, step: Callable[[], None]) -> None:
        """Run a lookahead step; a failure only ends the guessing there (the resolver asks
        for everything it needs itself, and reports what fails)."""
        try:
            step()
        except Exception as exc:
            log.debug("lookahead stopped: %s", exc)

    def _policy(self, name: str) -> FilePolicy:
        allow_wheels = allow_sdists = True
        if name in self._no_binary:
            allow_wheels = False
        elif name in self._only_binary or ":all:" in self._only_binary:
            allow_sdists = False
        elif ":all:" in self._no_binary:
            allow_wheels = False
        return FilePolicy(
            tag_ranks=self._tag_ranks,
            python_version=self.python_version,
            allow_wheels=allow_wheels,
            allow_sdists=allow_sdists,
            hashes=self._hashes.get(name, frozenset()),
        )

    # -- metadata and dependencies -----------------------------------------------------------

    def metadata(self, candidate: BaseCandidate) -> CoreMetadata:
        meta = self._metadata.get(candidate)
        if meta is None:
            assert isinstance(candidate, IndexCandidate)  # the others are stored on creation
            meta = self._finder.get_metadata(candidate.name, candidate.version, candidate.file)
            if canonicalize_name(meta.name) != candidate.name or meta.version != candidate.version:
                raise ResolutionImpossible(
                    f"The metadata of {candidate.file.filename} says it is {meta.name} "
                    f"{meta.version}, not {candidate.name} {candidate.version}.",
                    hint=f"The index serves an inconsistent file; exclude that release "
                    f"(e.g. with the constraint '{candidate.name}!={candidate.version}').",
                )
            self._metadata[candidate] = meta
            tried = self._versions_tried[candidate.name] = self._versions_tried.get(candidate.name, 0) + 1
            if tried > 1:
                self._prefetch_ahead(candidate, tried)
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
            spec, ok = self._requires_python(meta.requires_python)
            if not ok:
                deps.append(RequiresPythonRequirement(spec))
        for req in self._requires(candidate, meta):
            if req.marker is None or self._marker(candidate, req, ""):
                deps.append(self._dependency(req))
        return deps

    def _extras_dependencies(self, candidate: ExtrasCandidate) -> list[ResolverRequirement]:
        base = candidate.base
        deps: list[ResolverRequirement] = [ExplicitRequirement(base)]
        if self._options.no_deps:
            return deps
        meta = self.metadata(base)
        provided = normalize_extras(meta.provides_extra)
        used: set[str] = set()
        for req in self._requires(base, meta):
            if req.marker is None or self._marker(base, req, ""):
                continue  # a dependency of the base candidate itself
            matching = {e for e in candidate.extras if self._marker(base, req, e)}
            if matching:
                used |= matching
                deps.append(self._dependency(req))
        for extra in sorted(candidate.extras - provided - used):
            self.warn(f"{base} does not provide the extra '{extra}'")
        return deps

    def _requires(self, candidate: BaseCandidate, meta: CoreMetadata) -> list[Requirement]:
        parsed = []
        for text in meta.requires_dist:
            req = self._parsed.get(text)
            if req is None:
                try:
                    req = self._parsed[text] = Requirement(text)
                except InvalidRequirement as e:
                    raise ResolutionImpossible(
                        f"{candidate} declares an invalid dependency {text!r}: {e}",
                        hint=f"Require another version of {candidate.name}.",
                    )
            parsed.append(req)
        return parsed

    def _requires_python(self, text: str) -> tuple[SpecifierSet, bool]:
        """A metadata Requires-Python, parsed, and whether the interpreter satisfies it."""
        known = self._requires_pythons.get(text)
        if known is None:
            try:
                spec = SpecifierSet(text)
            except InvalidSpecifier:
                spec = SpecifierSet()
            known = (spec, spec.contains(self.python_version, prereleases=True))
            self._requires_pythons[text] = known
        return known

    def _marker(self, candidate: BaseCandidate | None, req: Requirement, extra: str) -> bool:
        """Whether ``req``'s marker holds for ``extra``. A marker that cannot be evaluated is
        false, with a warning naming ``candidate`` (none when it is None: the lookahead's
        guesses warn about nothing)."""
        assert req.marker is not None
        # Memoized per (requirement, extra): the environment is fixed for the provider, and
        # each requirement text is parsed once (_requires), so releases share the objects.
        key = (id(req), extra)
        known = self._markers.get(key)
        if known is not None and known[0] is req:
            return known[1]
        env = dict(self._env)
        env["extra"] = extra
        try:
            result = req.marker.evaluate(env)
        except (UndefinedComparison, UndefinedEnvironmentName) as e:
            if candidate is not None:
                self.warn(
                    f"Ignoring dependency '{req}' of {candidate}: cannot evaluate its marker ({e})"
                )
            return False  # not memoized: the warning names the candidate
        self._markers[key] = (req, result)  # keeps req alive, so its id stays its own
        return result

    def _dependency(self, req: Requirement) -> ResolverRequirement:
        name = canonicalize_name(req.name)
        extras = normalize_extras(req.extras)
        if req.url:
            return ExplicitRequirement(
                self._with_extras(self.direct_candidate(name, req.url), extras), req
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


def _without(
    candidates: tuple[Candidate, ...],
    positions: Mapping[Candidate, int],
    rejected: Iterable[Candidate],
) -> Sequence[Candidate]:
    """``candidates`` minus ``rejected``, in order (``positions``: each candidate's index)."""
    found_positions: set[int | None] = set(map(positions.get, rejected))
    found_positions.discard(None)
    if not found_positions:
        return candidates
    cuts = sorted(cast("set[int]", found_positions))
    if cuts[-1] == len(cuts) - 1:  # the usual case: the best ones were rejected, in order
        return candidates[len(cuts) :]
    found: list[Candidate] = []
    start = 0
    for cut in cuts:
        if cut > start:
            found.extend(candidates[start:cut])
        start = cut + 1
    found.extend(candidates[start:])
    return found


def _get_list(mapping: Mapping[str, Iterator[_T]], key: str) -> list[_T]:
    """``list(mapping.get(key, ()))``, minus the generic ``Mapping.get`` (a hot path)."""
    try:
        return list(mapping[key])
    except KeyError:
        return []


def _format_name(name: str) -> str:
    return name if name.startswith(":") else canonicalize_name(name)
