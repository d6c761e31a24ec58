"""Resolver candidates, and the choice of one file per version of a project.

A candidate is one concrete thing that can be installed under a name: a file from an index
(the exact file, so the installer installs what the resolver looked at), a direct URL, the
already-installed distribution, or an "extras" view of one of those (``name[extra]``, which
depends on the base candidate plus the extra's requirements, as pip does).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from satchel.index.models import IndexFile

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


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """All versions of a project that the index lists, newest first."""

    name: str
    entries: tuple[VersionEntry, ...]
    file_count: int  # files listed under the name (0: the index does not know the project)


SDIST_SUFFIXES = (".tar.gz", ".zip")


@dataclass(frozen=True, slots=True)
class _ParsedFile:
    version: Version
    is_wheel: bool
    build: tuple[()] | tuple[int, str] = ()
    tags: frozenset[str] = frozenset()


def _parse_filename(name: str, file: IndexFile) -> _ParsedFile | None:
    """Version and wheel tags of ``file``; None if it is not a distribution of ``name``."""
    filename = file.filename
    try:
        if filename.endswith(".whl"):
            wname, version, build, tags = parse_wheel_filename(filename)
            if wname != name:
                return None
            return _ParsedFile(version, True, build, frozenset(str(t) for t in tags))
        if filename.lower().endswith(SDIST_SUFFIXES):
            sname, version = parse_sdist_filename(filename)
            if sname != name:
                return None
            return _ParsedFile(version, False)
    except ValueError:
        return None
    return None


def _hash_matches(file: IndexFile, allowed: frozenset[str]) -> bool:
    algorithms = {h.partition(":")[0] for h in allowed}
    comparable = {alg: digest for alg, digest in file.hashes.items() if alg in algorithms}
    if not comparable:
        return True
    return any(f"{alg}:{digest.lower()}" in allowed for alg, digest in comparable.items())


def select_files(name: str, files: Iterable[IndexFile], policy: FilePolicy) -> ProjectFiles:
    """Group ``files`` by version and choose the best usable file for each version.

    Best file: a compatible wheel whose best tag ranks highest in the interpreter's tags
    (higher build number breaks ties), else an sdist; earlier files win remaining ties
    (so the first index wins). Invalid filenames and files of other projects are ignored.
    """
    seen: set[str] = set()
    # version -> [(preference key, file)]; higher key is better
    usable: dict[
        Version, list[tuple[tuple[int, int, tuple[()] | tuple[int, str], int], IndexFile]]
    ] = {}
    excluded: dict[Version, list[Exclusion]] = {}
    first_version: dict[Version, Version] = {}
    count = 0
    for order, file in enumerate(files):
        if file.filename in seen:
            continue
        seen.add(file.filename)
        count += 1
        parsed = _parse_filename(name, file)
        if parsed is None:
            continue
        version = first_version.setdefault(parsed.version, parsed.version)
        usable.setdefault(version, [])
        reasons = excluded.setdefault(version, [])
        reason = _exclusion(file, parsed, policy)
        if reason is not None:
            if reason not in reasons:
                reasons.append(reason)
            continue
        if parsed.is_wheel:
            rank = min(policy.tag_ranks[t] for t in parsed.tags if t in policy.tag_ranks)
            key: tuple[int, int, tuple[()] | tuple[int, str], int] = (
                1,
                -rank,
                parsed.build,
                -order,
            )
        else:
            key = (0, 0, (), -order)
        usable[version].append((key, file))

    entries = []
    for version in sorted(usable, reverse=True):
        ranked = sorted(usable[version], key=lambda kf: kf[0], reverse=True)
        normal = next((f for _, f in ranked if f.yanked is None), None)
        yanked = next((f for _, f in ranked if f.yanked is not None), None)
        entries.append(VersionEntry(version, normal, yanked, tuple(excluded[version])))
    return ProjectFiles(name=name, entries=tuple(entries), file_count=count)


def _exclusion(file: IndexFile, parsed: _ParsedFile, policy: FilePolicy) -> Exclusion | None:
    if file.requires_python:
        try:
            spec = SpecifierSet(file.requires_python)
        except InvalidSpecifier:
            spec = SpecifierSet()  # unparseable Requires-Python is ignored, like pip does
        if not spec.contains(policy.python_version, prereleases=True):
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
        if not any(t in policy.tag_ranks for t in parsed.tags):
            return Exclusion(EXCLUDED_INCOMPATIBLE_WHEEL, "no wheel for this interpreter")
    elif not policy.allow_sdists:
        return Exclusion(EXCLUDED_BINARY_ONLY, "only a source distribution (--only-binary)")
    if policy.hashes and not _hash_matches(file, policy.hashes):
        algorithms = {h.partition(":")[0] for h in policy.hashes}
        actual = ", ".join(
            f"{alg}:{digest.lower()}" for alg, digest in sorted(file.hashes.items()) if alg in algorithms
        )
        wanted = ", ".join(sorted(policy.hashes))
        return Exclusion(
            EXCLUDED_HASH,
            f"no file matching the required --hash ({file.filename} has {actual}; "
            f"--hash allows {wanted})",
        )
    return None
