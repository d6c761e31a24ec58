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
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from packaging.version import InvalidVersion, Version

from satchel.index.models import IndexFile


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """The parts of a distribution's core metadata (METADATA / PKG-INFO) the resolver uses.

    ``name`` is the name as the metadata spells it (not normalized); ``requires_dist`` holds
    the raw ``Requires-Dist`` strings (PEP 508, markers included), ``provides_extra`` the raw
    ``Provides-Extra`` values. Build one with :meth:`from_email` from the bytes of a METADATA
    file (PEP 658 ``.metadata`` file, wheel ``*.dist-info/METADATA``, sdist ``PKG-INFO`` of a
    built project, installed ``*.dist-info/METADATA``).
    """

    name: str
    version: Version
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()

    @classmethod
    def from_email(cls, data: bytes | str) -> CoreMetadata:
        """Parse a METADATA file. Raises ``ValueError`` when Name or Version is missing/invalid."""
        text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
        msg = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
        name = (msg.get("Name") or "").strip()
        raw_version = (msg.get("Version") or "").strip()
        if not name:
            raise ValueError("metadata has no Name field")
        try:
            version = Version(raw_version)
        except InvalidVersion:
            raise ValueError(f"metadata of {name} has an invalid Version {raw_version!r}")
        requires_python = msg.get("Requires-Python")
        return cls(
            name=name,
            version=version,
            requires_dist=tuple(str(v).strip() for v in msg.get_all("Requires-Dist") or ()),
            requires_python=str(requires_python).strip() if requires_python else None,
            provides_extra=tuple(str(v).strip() for v in msg.get_all("Provides-Extra") or ()),
        )


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
