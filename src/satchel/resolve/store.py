"""The candidate store of one resolution: every project's files and candidates, made once.

:class:`CandidateStore` asks the :class:`~satchel.resolve.finder.Finder` for a project's files
(choosing one file per version, :func:`~satchel.resolve.candidates.select_files`), turns them
into index candidates under sets of specifiers (memoized: backtracking asks the same questions
many times), wraps them for extras (``name[extra]``), and makes the direct-URL and installed
candidates with their metadata. One object stands for one candidate for the whole resolution,
so the resolver's sets and dictionaries of candidates stay cheap.

Its answers depend on the interpreter, the options and what the finder returns, all fixed for
one resolution: a store must not be reused for another. The lookahead
(:mod:`satchel.resolve.lookahead`) fills the same caches from worker threads; :attr:`lock`
guards what they share (files, matches, version indexes, index candidates, the file parser).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, cast

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.errors import ResolutionImpossible
from satchel.index.models import IndexFile
from satchel.resolve.candidates import (
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
    select_files,
)
from satchel.resolve.finder import CoreMetadata, Finder
from satchel.resolve.matching import VersionIndex
from satchel.resolve.options import ResolveOptions
from satchel.resolve.requirements import SpecKey, is_exact_pin, specifier_key

if TYPE_CHECKING:
    from satchel.python.interpreter import Interpreter

#: Index candidates for identifier under some specifiers, extras applied, best first, and the
#: position of each.
Wrapped = tuple[tuple[Candidate, ...], dict[Candidate, int]]


class CandidateStore:
    """Files and candidates of every project of one resolution (see the module docstring)."""

    def __init__(
        self,
        *,
        finder: Finder,
        interpreter: Interpreter,
        options: ResolveOptions,
        root_names: AbstractSet[str],
        hashes: Mapping[str, frozenset[str]],
    ) -> None:
        self.finder = finder
        self.lock = threading.RLock()
        self._options = options
        self._root_names = root_names
        self._hashes = hashes
        self.tag_ranks: dict[str, int] = {}
        for rank, tag in enumerate(interpreter.tags):
            self.tag_ranks.setdefault(tag, rank)
        self.python_version = Version(interpreter.version_str)
        #: normalized name -> installed version (what ``options.installed`` says)
        self.installed_versions = {canonicalize_name(k): v for k, v in options.installed.items()}
        self._upgrade_packages = {canonicalize_name(n) for n in options.upgrade_packages}
        self._only_binary = {_format_name(n) for n in options.only_binary}
        self._no_binary = {_format_name(n) for n in options.no_binary}

        self._files: dict[str, ProjectFiles] = {}
        self._asked: set[str] = set()  # names whose files the resolver asked the finder for
        self._parser = FileParser(self.tag_ranks, self.python_version)
        self._version_index: dict[str, VersionIndex] = {}
        # (name, keys of the specifier sets) -> index candidates, best first
        self._matches: dict[tuple[str, frozenset[SpecKey]], tuple[IndexCandidate, ...]] = {}
        #: the same with extras applied, by identifier, and each candidate's position (read
        #: directly by the provider's hot path; filled by :meth:`wrapped_candidates`)
        self.wrapped: dict[tuple[str, frozenset[SpecKey]], Wrapped] = {}
        self._index_cands: dict[tuple[str, str], IndexCandidate] = {}
        self._extras_cands: dict[tuple[BaseCandidate, frozenset[str]], ExtrasCandidate] = {}
        self._direct: dict[tuple[str, str], DirectCandidate] = {}
        self._installed: dict[str, InstalledCandidate | None] = {}
        #: candidate -> its core metadata, once known
        self.metadata: dict[BaseCandidate, CoreMetadata] = {}
        #: whether metadata was asked of a source (an sdist or a direct reference), which the
        #: finder may build, rather than of an index wheel or the installed distribution
        self.asked_sources = False

    # -- files -----------------------------------------------------------------------------

    def project_files(self, name: str) -> ProjectFiles:
        files = self._files.get(name)
        if files is None or name not in self._asked:
            # The finder hears of every project the resolver looks at, even when the lookahead
            # has its files already.
            found = self.finder.find_files(name)
            self._asked.add(name)
            with self.lock:
                files = self._files.get(name)
                if files is None:
                    files = select_files(name, found, self.policy(name), self._parser)
                    self._files[name] = files
        return files

    def policy(self, name: str) -> FilePolicy:
        allow_wheels = allow_sdists = True
        if name in self._no_binary:
            allow_wheels = False
        elif name in self._only_binary or ":all:" in self._only_binary:
            allow_sdists = False
        elif ":all:" in self._no_binary:
            allow_wheels = False
        return FilePolicy(
            tag_ranks=self.tag_ranks,
            python_version=self.python_version,
            allow_wheels=allow_wheels,
            allow_sdists=allow_sdists,
            hashes=self._hashes.get(name, frozenset()),
        )

    # -- index candidates ------------------------------------------------------------------

    def index_candidates(
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
            with self.lock:
                chosen = self._matches.get((name, keys))
                if chosen is None:
                    chosen = self._compute_index_candidates(name, specifiers, project)
                    self._matches[(name, keys)] = chosen
        return chosen

    def prefetched_candidates(
        self,
        name: str,
        specifiers: Sequence[SpecifierSet],
        files: Callable[[], Sequence[IndexFile]],
    ) -> tuple[IndexCandidate, ...]:
        """:meth:`index_candidates` for the lookahead, which has the page already: ``files``
        gives its files when the store has not chosen them yet. Call with :attr:`lock` held."""
        keys = frozenset(map(specifier_key, specifiers))
        chosen = self._matches.get((name, keys))
        if chosen is None:
            project = self._files.get(name)
            if project is None:
                project = select_files(name, files(), self.policy(name), self._parser)
                self._files[name] = project
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
        preferred = self._options.preferred.get(name)
        if preferred is not None:  # tried first (a lock's pin), the rest in their order
            first = [c for c in chosen if c.version == preferred]
            if first:
                chosen = first + [c for c in chosen if c.version != preferred]
        return tuple(chosen)

    def wrapped_candidates(
        self,
        identifier: str,
        name: str,
        extras: frozenset[str],
        specifiers: Sequence[SpecifierSet],
        keys: frozenset[SpecKey] | None = None,
    ) -> Wrapped:
        """:meth:`index_candidates` as candidates for ``identifier``, and their positions."""
        if keys is None:
            keys = frozenset(map(specifier_key, specifiers))
        found = self.wrapped.get((identifier, keys))
        if found is None:
            wrapped = tuple(
                self.with_extras(c, extras) for c in self.index_candidates(name, specifiers, keys)
            )
            found = (wrapped, {c: i for i, c in enumerate(wrapped)})
            self.wrapped[(identifier, keys)] = found
        return found

    def with_extras(self, base: Candidate, extras: frozenset[str]) -> Candidate:
        if not extras or isinstance(base, (ExtrasCandidate, PythonCandidate)):
            return base
        key = (base, extras)
        candidate = self._extras_cands.get(key)
        if candidate is None:
            candidate = self._extras_cands[key] = ExtrasCandidate(base, extras)
        return candidate

    # -- direct and installed candidates ---------------------------------------------------

    def direct_candidate(self, name: str, url: str) -> DirectCandidate:
        candidate = self._direct.get((name, url))
        if candidate is None:
            self.asked_sources = True
            meta = self.finder.get_direct_metadata(name, url)
            if canonicalize_name(meta.name) != name:
                raise ResolutionImpossible(
                    f"{url} contains {meta.name} {meta.version}, not {name}.",
                    hint=f"Fix the name before '@' in the requirement, e.g. '{meta.name} @ {url}'.",
                )
            candidate = DirectCandidate(name, meta.version, url)
            self.metadata[candidate] = meta
            self._direct[(name, url)] = candidate
        return candidate

    def installed_candidate(self, name: str) -> InstalledCandidate | None:
        if name not in self.installed_versions:
            return None
        if name not in self._installed:
            meta = self.finder.get_installed_metadata(name)
            candidate = None
            if meta is not None and canonicalize_name(meta.name) == name:
                candidate = InstalledCandidate(name, meta.version)
                self.metadata[candidate] = meta
            self._installed[name] = candidate
        return self._installed[name]

    def prefers_installed(self, name: str) -> bool:
        """pip's "only if needed" upgrade strategy: keep what is installed unless asked."""
        if name not in self.installed_versions or name in self._upgrade_packages:
            return False
        return not (self._options.upgrade and name in self._root_names)

    # -- metadata --------------------------------------------------------------------------

    def fetch_metadata(self, candidate: IndexCandidate) -> CoreMetadata:
        """The metadata of an index candidate, from the finder (checked against the file's
        name and version), stored in :attr:`metadata`."""
        if not candidate.file.is_wheel:
            self.asked_sources = True
        meta = self.finder.get_metadata(candidate.name, candidate.version, candidate.file)
        if canonicalize_name(meta.name) != candidate.name or meta.version != candidate.version:
            raise ResolutionImpossible(
                f"The metadata of {candidate.file.filename} says it is {meta.name} "
                f"{meta.version}, not {candidate.name} {candidate.version}.",
                hint=f"The index serves an inconsistent file; exclude that release "
                f"(e.g. with the constraint '{candidate.name}!={candidate.version}').",
            )
        self.metadata[candidate] = meta
        return meta


def _format_name(name: str) -> str:
    return name if name.startswith(":") else canonicalize_name(name)


def without(
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
