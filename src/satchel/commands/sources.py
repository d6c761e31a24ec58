"""The resolver's Finder for an install: wheels through the index client, sources through the
build layer.

Index sdists, sdist URLs, local sdists and directories, and git URLs become
:class:`satchel.build.Source` objects, once per run (a git ref resolves to one commit for the
whole run). Their metadata comes from ``prepare_metadata`` (cached in ``built-v1``); their
wheels from ``build_wheel`` (cached the same way). Build requirements are installed by the
callback the caller passes in (``install_requirements``): satchel's own resolver and installer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache.store import Cache
from satchel.index.client import IndexClient
from satchel.index.metadata import CoreMetadata
from satchel.index.models import IndexFile
from satchel.python.interpreter import Interpreter

if TYPE_CHECKING:
    # the build machinery (and the email package, tempfile, ...) is imported when a source is
    # met: an install of wheels only never needs it
    from satchel.build import BuildRequest, BuiltWheel, InstallRequirements, Source

log = logging.getLogger("satchel")

ConfigSettings = dict[str, "str | list[str]"]


@dataclass(frozen=True)
class BuildOptions:
    """How sources are built: ``isolation`` (False: hooks run in the target, nothing is
    installed for them), ``config_settings`` for every backend, ``editables``: the direct URLs
    (as written, with any fragment) installed in editable mode."""

    isolation: bool = True
    config_settings: ConfigSettings = field(default_factory=dict)
    editables: frozenset[str] = frozenset()
    log_dir: Path | None = None
    git_timeout: float | None = None  # seconds per git command (None: the build layer's default)
    #: -b/--build-constraint: PEP 508 constraints on what build environments get.
    build_constraints: tuple[str, ...] = ()
    #: --no-build-isolation-package: normalized names built in the target, without isolation.
    no_isolation: frozenset[str] = frozenset()

    def isolated(self, name: str | None) -> bool:
        return self.isolation and (name is None or canonicalize_name(name) not in self.no_isolation)


def is_wheel_url(url: str) -> bool:
    return url.split("#", 1)[0].split("?", 1)[0].rstrip("/").lower().endswith(".whl")


def url_file(url: str) -> IndexFile:
    """An archive URL as an index file: its name from the path, hashes from the fragment."""
    bare = url.split("#", 1)[0]
    from satchel.index.downloads import fragment_hashes

    return IndexFile(filename=bare.rstrip("/").rsplit("/", 1)[-1], url=bare, hashes=fragment_hashes(url))


class Sources:
    """Sources of a run, shared by every :class:`SourceFinder` of it (top-level and build
    requirements): one :class:`Source` per URL or index file, so a git ref is resolved once."""

    def __init__(self, cache: Cache, client: IndexClient, options: BuildOptions) -> None:
        self.cache = cache
        self.client = client
        self.options = options
        self._sources: dict[str, Source] = {}
        self._lock = threading.Lock()
        self._url_locks: dict[str, threading.Lock] = {}

    def _once(self, key: str, make: Callable[[], Source]) -> Source:
        with self._lock:
            found = self._sources.get(key)
            if found is not None:
                return found
            lock = self._url_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                found = self._sources.get(key)
            if found is None:
                found = make()
                with self._lock:
                    self._sources[key] = found
            return found

    def of_index_file(self, name: str, file: IndexFile) -> Source:
        """An sdist the index lists: downloaded (hash verified) into the cache first."""

        def make() -> Source:
            from satchel.build import Source

            if file.sha256:
                # Downloaded only when a build needs it: a wheel already built from it (local
                # or remote cache, keyed by this digest) needs no download.
                return Source.sdist(
                    Path(file.filename), name=name, sha256=file.sha256, url=file.url,
                    fetch=lambda: self.client.download(name, file),
                )
            path = self.client.download(name, file)
            return Source.sdist(path, name=name, sha256=file.sha256, url=file.url)

        return self._once(f"index:{file.url}", make)

    def of_url(self, name: str | None, url: str) -> Source:
        """The source of a direct reference that is not a wheel."""

        def make() -> Source:
            from satchel.build import Source, source_from_url

            lower = url.lower()
            if lower.startswith(("http://", "https://")):
                file = url_file(url)
                path = self.client.download(name or file.filename, file)
                return Source.sdist(path, name=name, sha256=file.sha256, url=url)
            return source_from_url(url, cache=self.cache, name=name, git_timeout=self.options.git_timeout)

        return self._once(f"url:{url}", make)

    def is_editable(self, url: str | None) -> bool:
        return url is not None and url in self.options.editables


class SourceFinder:
    """A :class:`satchel.resolve.Finder` for one target interpreter. ``building`` is the chain of
    builds in progress (empty at top level; set when resolving build requirements)."""

    def __init__(
        self,
        sources: Sources,
        interpreter: Interpreter,
        install_requirements: InstallRequirements,
        *,
        building: tuple[str, ...] = (),
    ) -> None:
        self.sources = sources
        self.client = sources.client
        self.interpreter = interpreter
        self.install_requirements = install_requirements
        self.building = building
        self.on_project: Callable[[str], None] | None = None  # each new project asked about
        self._seen: set[str] = set()

    # -- what the index client answers -----------------------------------------------------------

    def find_files(self, name: str) -> Sequence[IndexFile]:
        files = self.client.find_files(name)
        if self.on_project is not None and name not in self._seen:
            self._seen.add(name)
            self.on_project(name)
        return files

    def prefetch(self, name: str) -> None:
        self.client.prefetch(name)

    def prefetch_metadata(self, name: str, version: Version, file: IndexFile) -> None:
        # Only wheels: reading an sdist's metadata may mean a build, which is not worth a guess.
        if file.is_wheel:
            self.client.prefetch_metadata(name, version, file)

    # What the resolver's lookahead uses (``satchel.resolve.finder.Lookahead``, see
    # ``satchel.resolve.lookahead``): the same prefetches, and
    # ``then`` called from a worker thread once the result is there (never on failure).

    def prefetch_then(self, name: str, then: Callable[[], None]) -> None:
        self.client.prefetch(name, then)

    def prefetch_metadata_then(
        self, name: str, version: Version, file: IndexFile, then: Callable[[], None]
    ) -> None:
        if file.is_wheel:
            self.client.prefetch_metadata(name, version, file, then)

    def prefetched_files(self, name: str) -> Sequence[IndexFile]:
        """:meth:`find_files` for the lookahead: the same files, without counting the project
        as asked about (the progress bar counts what the resolver asks)."""
        return self.client.find_files(name)

    def prefetched_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        return self.client.get_metadata(name, version, file)

    def over_network(self, name: str) -> bool:
        """Whether ``name``'s files (loaded) came from a remote index this run."""
        return self.client.fetched_over_network(name)

    def resolution_done(self) -> None:
        """The resolver is done: prefetches not started yet are not needed any more."""
        self.client.resolution_done()

    def get_installed_metadata(self, name: str) -> CoreMetadata | None:
        return self.client.get_installed_metadata(name)

    # -- metadata, built when needed -------------------------------------------------------------

    def get_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        if file.is_wheel:
            return self.client.get_metadata(name, version, file)
        return self._prepare(self.sources.of_index_file(name, file), editable=False)

    def get_direct_metadata(self, name: str, url: str) -> CoreMetadata:
        if is_wheel_url(url):
            return self.client.get_direct_metadata(name, url)
        return self._prepare(self.sources.of_url(name, url), editable=self.sources.is_editable(url))

    def name_of(self, url: str) -> str:
        """The project name of an unnamed direct reference (a path or URL as written)."""
        source = self.sources.of_url(None, url)
        if source.name is not None:
            return source.name
        return self._prepare(source, editable=False).name

    def _prepare(self, source: Source, *, editable: bool) -> CoreMetadata:
        from satchel.build import prepare_metadata

        return prepare_metadata(self._request(source, editable=editable))

    def _request(self, source: Source, *, editable: bool) -> BuildRequest:
        from satchel.build import BuildRequest

        options = self.sources.options
        return BuildRequest(
            source,
            self.interpreter,
            self.sources.cache,
            install_requirements=self.install_requirements,
            editable=editable,
            build_isolation=options.isolated(source.name),
            config_settings=options.config_settings,
            building=self.building,
            log_dir=options.log_dir,
            build_constraints=options.build_constraints,
        )

    # -- wheels ----------------------------------------------------------------------------------

    def source_of(self, name: str, file: IndexFile | None, url: str | None) -> Source:
        if file is not None:
            return self.sources.of_index_file(name, file)
        assert url is not None
        return self.sources.of_url(name, url)

    def build(self, name: str, file: IndexFile | None, url: str | None) -> BuiltWheel:
        """The wheel of a resolved source (built, or from the built-wheel cache)."""
        from satchel.build import build_wheel

        source = self.source_of(name, file, url)
        return build_wheel(self._request(source, editable=self.sources.is_editable(url)))
