"""Resolver candidates, and the choice of one file per version of a project.

A candidate is one concrete thing that can be installed under a name: a file from an index
(the exact file, so the installer installs what the resolver looked at), a direct URL, the
already-installed distribution, or an "extras" view of one of those (``name[extra]``, which
depends on the base candidate plus the extra's requirements, as pip does).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.index.models import IndexFile
from satchel.standards.digests import hash_allowed
from satchel.standards.requires_python import admits

#: Identifier of the virtual candidate standing for the target interpreter (used when a
#: release's metadata Requires-Python excludes it). Not a valid project name, so no clash.
PYTHON_IDENTIFIER = "<python>"


def make_identifier(name: str, extras: Collection[str]) -> str:
    """Resolver key: ``name`` or ``name[extra1,extra2]`` (normalized, extras sorted)."""
    if not extras:
        return name
    return f"{name}[{','.join(sorted(extras))}]"


def split_identifier(identifier: str) -> tuple[str, frozenset[str]]:
    """Inverse of :func:`make_identifier`."""
    name, bracket, rest = identifier.partition("[")
    if not bracket:
        return name, frozenset()
    return name, frozenset(e for e in rest.rstrip("]").split(",") if e)


@dataclass(frozen=True, slots=True)
class IndexCandidate:
    """One version of a project, as one exact file an index lists."""

    name: str  # normalized
    version: Version
    file: IndexFile
    # Candidates are hashed constantly while backtracking (sets of rejected candidates);
    # hashing the file's fields every time was a good part of the resolver's time.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.name, self.version, self.file)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[IndexCandidate], tuple[str, Version, IndexFile]]:
        return IndexCandidate, (self.name, self.version, self.file)  # hashes vary by process

    @property
    def identifier(self) -> str:
        return self.name

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True, slots=True)
class DirectCandidate:
    """A direct reference (``name @ url``); version comes from the URL's metadata."""

    name: str
    version: Version
    url: str

    @property
    def identifier(self) -> str:
        return self.name

    def __str__(self) -> str:
        return f"{self.name} {self.version} (from {self.url})"


@dataclass(frozen=True, slots=True)
class InstalledCandidate:
    """The distribution already installed in the target environment."""

    name: str
    version: Version

    @property
    def identifier(self) -> str:
        return self.name

    def __str__(self) -> str:
        return f"{self.name} {self.version} (installed)"


BaseCandidate = IndexCandidate | DirectCandidate | InstalledCandidate


@dataclass(frozen=True, slots=True)
class ExtrasCandidate:
    """``name[extras]`` at the version of ``base``: depends on ``base`` and the extras' deps."""

    base: BaseCandidate
    extras: frozenset[str]  # normalized, non-empty
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.base, self.extras)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[ExtrasCandidate], tuple[BaseCandidate, frozenset[str]]]:
        return ExtrasCandidate, (self.base, self.extras)  # string hashes vary by process

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def version(self) -> Version:
        return self.base.version

    @property
    def identifier(self) -> str:
        return make_identifier(self.base.name, self.extras)

    def __str__(self) -> str:
        return f"{self.identifier} {self.version}"


@dataclass(frozen=True, slots=True)
class PythonCandidate:
    """The target interpreter, as the only candidate for :data:`PYTHON_IDENTIFIER`."""

    version: Version

    @property
    def name(self) -> str:
        return PYTHON_IDENTIFIER

    @property
    def identifier(self) -> str:
        return PYTHON_IDENTIFIER

    def __str__(self) -> str:
        return f"Python {self.version}"


Candidate = (
    IndexCandidate | DirectCandidate | InstalledCandidate | ExtrasCandidate | PythonCandidate
)


def base_of(candidate: Candidate) -> Candidate:
    """The candidate without extras (itself for everything but an :class:`ExtrasCandidate`)."""
    return candidate.base if isinstance(candidate, ExtrasCandidate) else candidate


# ---------------------------------------------------------------------------------------------
# Choosing files


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why a file of some version cannot be used. ``kind`` is one of the ``EXCLUDED_*``;
    ``requires_python`` is the file's Requires-Python when that is the reason."""

    kind: str
    detail: str
    requires_python: str | None = None

    def __str__(self) -> str:
        return self.detail


EXCLUDED_REQUIRES_PYTHON = "requires-python"
EXCLUDED_INCOMPATIBLE_WHEEL = "incompatible-wheel"
EXCLUDED_BINARY_ONLY = "binary-only"  # an sdist, but only wheels are allowed
EXCLUDED_NO_BINARY = "no-binary"  # a wheel, but wheels are not allowed
EXCLUDED_HASH = "hash"


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """Everything that decides whether a file of one project may be used (fixed per name).

    ``tag_ranks`` maps tag string -> rank (0 best); ``hashes`` are ``"algo:hexdigest"``
    strings; when non-empty, a file whose digest for one of those algorithms is known must
    match one of them (files without a comparable digest are kept, the installer verifies).
    """

    tag_ranks: Mapping[str, int]
    python_version: Version
    allow_wheels: bool = True
    allow_sdists: bool = True
    hashes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One version of a project with the file chosen for it.

    ``file`` is the best usable non-yanked file (None if there is none); ``yanked_file`` the
    best usable yanked one, which only an exact pin may use (PEP 592). ``excluded`` lists why
    other files of this version were rejected (for error messages).
    """

    version: Version
    file: IndexFile | None
    yanked_file: IndexFile | None
    excluded: tuple[Exclusion, ...] = ()


SDIST_SUFFIXES = (".tar.gz", ".zip")

_UNRANKED = -1  # not a rank: _rank() was not asked about that tag set yet

#: packaging's rules for the name part of a wheel filename (PEP 427 escaping) and its build tag.
_WHEEL_NAME = re.compile(r"^[\w\d._]*$", re.UNICODE)
_BUILD_TAG = re.compile(r"(\d+)(.*)", re.ASCII)


class _ParsedFile(NamedTuple):  # a tuple: made for every file of every project
    version: Version
    is_wheel: bool
    build: tuple[()] | tuple[int, str] = ()
    rank: int | None = None  # wheels: best rank of its tags (None: no tag is supported)


class FileParser:
    """What :func:`select_files` derives from filenames and Requires-Python, memoized.

    Bound to one interpreter (``tag_ranks`` and ``python_version``): the answers depend on
    them, so :func:`select_files` ignores a parser bound to anything else. Parses exactly as
    :func:`packaging.utils.parse_wheel_filename` / ``parse_sdist_filename`` do, but each
    distinct version string, name part, compressed tag set and Requires-Python only once.
    """

    def __init__(self, tag_ranks: Mapping[str, int], python_version: Version) -> None:
        self.tag_ranks = tag_ranks
        self.python_version = python_version
        # (name part, version part) of a filename -> (normalized name, version); None: invalid
        self._wheels: dict[tuple[str, str], tuple[str | None, Version | None]] = {}
        self._sdists: dict[tuple[str, str], tuple[str | None, Version | None]] = {}
        self._versions: dict[str, Version | None] = {}  # one object per version string
        self._ranks: dict[str, int | None] = {}  # compressed tag set -> best rank
        self._python_ok: dict[str, bool] = {}  # Requires-Python -> admits python_version

    def serves(self, policy: FilePolicy) -> bool:
        """Whether this parser's answers hold for ``policy``."""
        return self.python_version == policy.python_version and (
            self.tag_ranks is policy.tag_ranks or self.tag_ranks == policy.tag_ranks
        )

    def parse(self, name: str, filename: str) -> _ParsedFile | None:
        """Version and wheel tag rank of ``filename``; None if not a distribution of ``name``."""
        # Called for every file of every project: the lookups are inlined.
        if filename.endswith(".whl"):
            stem = filename[:-4]
            dashes = stem.count("-")
            build: tuple[()] | tuple[int, str] = ()
            if dashes == 4:
                name_part, version_part, tag_set = stem.split("-", 2)
            elif dashes == 5:
                name_part, version_part, build_part, tag_set = stem.split("-", 3)
                match = _BUILD_TAG.match(build_part)
                if match is None:
                    return None
                build = (int(match.group(1)), match.group(2))
            else:
                return None
            known = self._wheels.get((name_part, version_part))
            if known is None:
                known = self._wheel_stem(name_part, version_part)
            normalized, version = known
            if normalized != name or version is None:
                return None
            rank = self._ranks.get(tag_set, _UNRANKED)
            if rank is _UNRANKED:
                rank = self._rank(tag_set)
            return _ParsedFile(version, True, build, rank)
        if filename.lower().endswith(SDIST_SUFFIXES):
            if filename.endswith(".tar.gz"):
                stem = filename[: -len(".tar.gz")]
            elif filename.endswith(".zip"):
                stem = filename[: -len(".zip")]
            else:
                return None  # e.g. ".TAR.GZ": packaging rejects it
            name_part, sep, version_part = stem.rpartition("-")
            if not sep:
                return None
            known = self._sdists.get((name_part, version_part))
            if known is None:
                known = self._sdist_stem(name_part, version_part)
            normalized, version = known
            if normalized != name or version is None:
                return None
            return _ParsedFile(version, False)
        return None

    def python_ok(self, requires_python: str) -> bool:
        """:func:`satchel.standards.requires_python.admits`, for this parser's interpreter."""
        ok = self._python_ok.get(requires_python)
        if ok is None:
            ok = self._python_ok[requires_python] = admits(requires_python, self.python_version)
        return ok

    def _wheel_stem(self, name_part: str, version_part: str) -> tuple[str | None, Version | None]:
        """Normalized name (None: invalid, PEP 427 escaping) and version of a wheel's stem."""
        valid = "__" not in name_part and _WHEEL_NAME.match(name_part) is not None
        known = (canonicalize_name(name_part) if valid else None, self._version(version_part))
        self._wheels[(name_part, version_part)] = known
        return known

    def _sdist_stem(self, name_part: str, version_part: str) -> tuple[str | None, Version | None]:
        known = (canonicalize_name(name_part), self._version(version_part))
        self._sdists[(name_part, version_part)] = known
        return known

    def _version(self, text: str) -> Version | None:
        try:
            return self._versions[text]
        except KeyError:
            pass
        try:
            version: Version | None = Version(text)
        except InvalidVersion:
            version = None
        self._versions[text] = version
        return version

    def _rank(self, tag_set: str) -> int | None:
        try:
            return self._ranks[tag_set]
        except KeyError:
            pass
        interpreters, abis, platforms = tag_set.split("-")  # parse() counted the dashes
        ranks = self.tag_ranks
        found = [
            ranks[tag]
            for i in interpreters.split(".")
            for a in abis.split(".")
            for p in platforms.split(".")
            if (tag := f"{i}-{a}-{p}".lower()) in ranks
        ]
        rank = min(found) if found else None
        self._ranks[tag_set] = rank
        return rank


class ProjectFiles:
    """All versions of a project that the index lists, newest first.

    The file of each version is chosen when the version is first asked for (:meth:`entry`):
    resolutions look at a few versions of most projects, which list hundreds.
    """

    __slots__ = ("_entries", "_groups", "_parser", "_policy", "file_count", "name", "versions")

    def __init__(
        self,
        name: str,
        versions: Sequence[Version],
        groups: Sequence[Sequence[tuple[int, IndexFile, _ParsedFile]]],
        file_count: int,
        policy: FilePolicy,
        parser: FileParser,
    ) -> None:
        self.name = name
        self.versions = tuple(versions)  # newest first, all distinct
        self.file_count = file_count  # files listed under the name (0: unknown project)
        self._groups = groups  # per version: (position in the listing, file, parsed name)
        self._policy = policy
        self._parser = parser
        self._entries: list[VersionEntry | None] = [None] * len(self.versions)

    def entry(self, index: int) -> VersionEntry:
        """The entry of ``versions[index]``."""
        entry = self._entries[index]
        if entry is None:
            entry = self._entries[index] = _choose(
                self.versions[index], self._groups[index], self._policy, self._parser
            )
        return entry

    @property
    def entries(self) -> tuple[VersionEntry, ...]:
        return tuple(self.entry(i) for i in range(len(self.versions)))


def select_files(
    name: str, files: Iterable[IndexFile], policy: FilePolicy, parser: FileParser | None = None
) -> ProjectFiles:
    """Group ``files`` by version and choose the best usable file for each version.

    Best file: a compatible wheel whose best tag ranks highest in the interpreter's tags
    (higher build number breaks ties), else an sdist; earlier files win remaining ties
    (so the first index wins). Invalid filenames and files of other projects are ignored.
    ``parser`` memoizes parsing across calls (one per interpreter; ignored if bound to
    another one).
    """
    if parser is None or not parser.serves(policy):
        parser = FileParser(policy.tag_ranks, policy.python_version)
    seen: set[str] = set()
    groups: dict[Version, list[tuple[int, IndexFile, _ParsedFile]]] = {}
    count = 0
    for order, file in enumerate(files):
        filename = file.filename
        if filename in seen:
            continue
        seen.add(filename)
        count += 1
        parsed = parser.parse(name, filename)
        if parsed is None:
            continue
        group = groups.get(parsed.version)  # equal versions (1.0, 1.0.0) share the first
        if group is None:
            group = groups[parsed.version] = []
        group.append((order, file, parsed))
    versions = sorted(groups, reverse=True)
    return ProjectFiles(name, versions, [groups[v] for v in versions], count, policy, parser)


def _choose(
    version: Version,
    group: Sequence[tuple[int, IndexFile, _ParsedFile]],
    policy: FilePolicy,
    parser: FileParser,
) -> VersionEntry:
    """The entry of ``version`` from its files (in listing order)."""
    # (preference key, file); higher key is better
    usable: list[tuple[tuple[int, int, tuple[()] | tuple[int, str], int], IndexFile]] = []
    reasons: list[Exclusion] = []
    for order, file, parsed in group:
        reason = _exclusion(file, parsed, policy, parser)
        if reason is not None:
            if reason not in reasons:
                reasons.append(reason)
            continue
        key: tuple[int, int, tuple[()] | tuple[int, str], int]
        if parsed.is_wheel:
            assert parsed.rank is not None  # else excluded as incompatible
            key = (1, -parsed.rank, parsed.build, -order)
        else:
            key = (0, 0, (), -order)
        usable.append((key, file))
    ranked = sorted(usable, key=lambda kf: kf[0], reverse=True)
    normal = next((f for _, f in ranked if f.yanked is None), None)
    yanked = next((f for _, f in ranked if f.yanked is not None), None)
    return VersionEntry(version, normal, yanked, tuple(reasons))


def _exclusion(
    file: IndexFile, parsed: _ParsedFile, policy: FilePolicy, parser: FileParser
) -> Exclusion | None:
    if file.requires_python and not parser.python_ok(file.requires_python):
        return Exclusion(
            EXCLUDED_REQUIRES_PYTHON,
            f"requires Python {file.requires_python}",
            requires_python=file.requires_python,
        )
    if parsed.is_wheel:
        if not policy.allow_wheels:
            return Exclusion(
                EXCLUDED_NO_BINARY, "only wheels, and wheels are disabled (--no-binary)"
            )
        if parsed.rank is None:
            return Exclusion(EXCLUDED_INCOMPATIBLE_WHEEL, "no wheel for this interpreter")
    elif not policy.allow_sdists:
        return Exclusion(EXCLUDED_BINARY_ONLY, "only a source distribution (--only-binary)")
    if policy.hashes and not hash_allowed(file.hashes, policy.hashes):
        algorithms = {h.partition(":")[0] for h in policy.hashes}
        actual = ", ".join(
            f"{alg}:{digest.lower()}"
            for alg, digest in sorted(file.hashes.items())
            if alg in algorithms
        )
        wanted = ", ".join(sorted(policy.hashes))
        return Exclusion(
            EXCLUDED_HASH,
            f"no file matching the required --hash ({file.filename} has {actual}; "
            f"--hash allows {wanted})",
        )
    return None
