"""What the resolver needs from the layer below it: files, metadata, prefetching.

The resolver never talks to the network itself. It asks a :class:`Finder` for the files an
index lists for a project and for the core metadata of one chosen file (or of a direct URL,
or of what is installed). The real implementation lives with the index client and cache;
tests use an in-memory fake.

Contract for implementers:

* ``name`` arguments are always normalized project names (PEP 503).
* Blocking methods (``find_files``, ``get_*metadata``) raise :class:`satchel.errors.SatchelError`
  subclasses for user-facing failures (index unreachable, build failed, ...). They are called
  from the resolver's single thread and must return the same answer when asked twice
  (the resolver caches, but may ask again after backtracking in a fresh provider).
* ``prefetch*`` methods never block and never raise: they start work in the background
  (or do nothing) and a later blocking call reports any failure.

A finder may also offer :class:`Lookahead` (the index-backed one does): then the resolver
fetches ahead of itself (see :mod:`satchel.resolve.lookahead`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from packaging.version import Version

from satchel.index.metadata import CoreMetadata
from satchel.index.models import IndexFile


class Finder(Protocol):
    """Source of files and metadata for the resolver (implemented by the index/cache layer)."""

    def find_files(self, name: str) -> Sequence[IndexFile]:
        """All files of project ``name`` across all configured indexes and find-links.

        Order matters only for ties: when two indexes list the same filename the first one
        wins. An unknown project is an empty sequence, not an error. May block on network.
        """
        ...

    def prefetch(self, name: str) -> None:
        """Start fetching the project page of ``name`` in the background. Non-blocking."""
        ...

    def get_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        """Core metadata of ``file`` (which the index lists for ``name`` ``version``).

        The real implementation uses the PEP 658 metadata file when the index serves one
        (``file.metadata_hashes is not None``), else a ranged read of the wheel, else builds
        the sdist's metadata (PEP 517 ``prepare_metadata_for_build_wheel``).
        """
        ...

    def prefetch_metadata(self, name: str, version: Version, file: IndexFile) -> None:
        """Start fetching what :meth:`get_metadata` would return. Non-blocking."""
        ...

    def get_direct_metadata(self, name: str, url: str) -> CoreMetadata:
        """Core metadata of a direct reference (``name @ url``: archive URL, local file or
        directory as a ``file:`` URL, VCS URL). ``name`` is the name the user gave."""
        ...

    def get_installed_metadata(self, name: str) -> CoreMetadata | None:
        """Metadata of the distribution installed in the target environment, or None when
        it is not installed or its metadata cannot be read."""
        ...


@runtime_checkable
class Lookahead(Protocol):
    """What a :class:`Finder` offers for fetching ahead of the resolver (the index-backed one
    does; a finder that does not implement all of it gets no lookahead). ``then`` is called
    from a worker thread once the result is there, never on failure; the ``prefetched_*``
    methods return what their blocking counterparts would, when called from such a ``then``."""

    def prefetch_then(self, name: str, then: Callable[[], None]) -> None: ...

    def prefetch_metadata_then(
        self, name: str, version: Version, file: IndexFile, then: Callable[[], None]
    ) -> None: ...

    def prefetched_files(self, name: str) -> Sequence[IndexFile]: ...

    def prefetched_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata: ...

    def over_network(self, name: str) -> bool:
        """Whether ``name``'s files (loaded) came over the network rather than from a cache."""
        ...

    def resolution_done(self) -> None:
        """The resolution is over: drop what is still queued."""
        ...
