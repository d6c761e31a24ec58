"""What a requirements file (or a command-line requirement) says, as data for the resolver."""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

# Allowed-format words returned by ParsedRequirements.allowed_formats.
BINARY = "binary"
SOURCE = "source"
ALL = ":all:"
NONE = ":none:"


@dataclass(frozen=True)
class RequirementSpec:
    """One requirement (or constraint) line.

    ``name`` is canonical (PEP 503) and None only for a local path or URL whose project name
    cannot be told from the text (a directory, a VCS URL without ``#egg=``).
    ``requirement`` is the PEP 508 form when a name is known: for ``name @ url`` lines and for
    paths/URLs whose name was inferred it is ``name[extras] @ url ; marker``.
    ``url`` is set for ``name @ url``, bare URLs and local paths (absolute ``file://`` URL);
    it keeps any fragment (``#sha256=...``, ``#egg=...``, ``#subdirectory=...``) as written.
    ``extras`` are canonical names; ``marker`` is not evaluated here.
    ``hashes`` are ``"algo:hexdigest"`` strings (lowercase) from per-line ``--hash`` options.
    ``source`` is ``"path/to/reqs.txt:12"`` or ``"command line"``; ``line`` the text as written
    (continuations joined, comment removed, ``${VAR}`` not expanded).
    """

    name: str | None
    requirement: Requirement | None
    url: str | None
    source: str
    line: str
    editable: bool = False
    hashes: tuple[str, ...] = ()
    extras: frozenset[str] = frozenset()
    marker: Marker | None = None
    is_constraint: bool = False
    config_settings: tuple[tuple[str, str], ...] = ()

    @property
    def specifier(self) -> SpecifierSet:
        """The version specifier (empty for URL/path requirements)."""
        return self.requirement.specifier if self.requirement is not None else SpecifierSet()

    @property
    def is_direct(self) -> bool:
        """True for requirements naming a URL or local path rather than an index version."""
        return self.url is not None

    @property
    def hashes_by_algorithm(self) -> dict[str, frozenset[str]]:
        """``{"sha256": {hex, ...}}``: any one of several digests for an algorithm may match."""
        result: dict[str, set[str]] = {}
        for item in self.hashes:
            algorithm, _, digest = item.partition(":")
            result.setdefault(algorithm, set()).add(digest)
        return {key: frozenset(value) for key, value in result.items()}

    def __str__(self) -> str:
        if self.requirement is not None:
            text = str(self.requirement)
        else:
            text = self.url or self.line
        return f"-e {text}" if self.editable else text


@dataclass(frozen=True)
class ParsedRequirements:
    """Everything read from requirements/constraints files and the command line.

    ``only_binary`` / ``no_binary`` hold canonical names or ``":all:"`` with pip's semantics:
    a name in either set beats ``":all:"`` in the other; see :meth:`allowed_formats`.
    ``find_links`` entries are URLs or absolute paths (relative paths in a file are resolved
    against that file's directory). ``trusted_hosts`` is stored but has no effect.
    """

    requirements: list[RequirementSpec] = field(default_factory=list)
    constraints: list[RequirementSpec] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    pre: bool = False
    only_binary: set[str] = field(default_factory=set)
    no_binary: set[str] = field(default_factory=set)
    require_hashes: bool = False
    prefer_binary: bool = False
    no_require_hashes: bool = False
    all_releases: list[str] = field(default_factory=list)  # option values as written, in order
    only_final: list[str] = field(default_factory=list)
    trusted_hosts: list[str] = field(default_factory=list)
    use_features: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # every file read: its absolute path and the sha256 (hex) of the bytes read
    read: list[tuple[str, str]] = field(default_factory=list)

    @property
    def editables(self) -> list[RequirementSpec]:
        return [spec for spec in self.requirements if spec.editable]

    def allowed_formats(self, name: str) -> frozenset[str]:
        """``{"binary", "source"}`` minus what --only-binary / --no-binary forbid for ``name``."""
        name = canonicalize_name(name)
        if name in self.only_binary:
            return frozenset({BINARY})
        if name in self.no_binary:
            return frozenset({SOURCE})
        if ALL in self.only_binary:
            return frozenset({BINARY})
        if ALL in self.no_binary:
            return frozenset({SOURCE})
        return frozenset({BINARY, SOURCE})
