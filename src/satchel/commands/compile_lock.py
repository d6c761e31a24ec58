"""From a resolution to lock records: every file of each pinned version (with hashes, sizes,
upload times), direct references as PEP 610 data, ``# via`` annotations, and the marker under
which each package is needed."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from satchel.commands.pipeline import Installer
from satchel.commands.sources import SourceFinder, is_wheel_url, url_file
from satchel.index.metadata import CoreMetadata
from satchel.index.models import IndexFile
from satchel.lock.models import LockedFile, LockedPackage
from satchel.resolve import Resolution, ResolvedPackage

log = logging.getLogger("satchel")

#: A package reached under more distinct conditions than this is marked as always needed.
MAX_MARKER_TERMS = 4


def version_of(filename: str) -> Version | None:
    """The version in a wheel or sdist file name, None when it cannot be told."""
    try:
        if filename.lower().endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def _version_text(filename: str) -> str | None:
    """The version part of a file name, unparsed (cheap: a page lists thousands of files)."""
    lower = filename.lower()
    if lower.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else None
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if lower.endswith(ext):
            stem = filename[: -len(ext)]
            return stem.rpartition("-")[2] or None
    return None


def files_of_version(files: Sequence[IndexFile], version: Version) -> list[IndexFile]:
    """Every file the index lists for ``version``, the first listing of a name winning.

    The version part of each name is compared as text first; only a text that differs but
    could be the same version (``1.0`` and ``1.0.0``, ``1.0rc1`` and ``1.0.rc1``) is parsed,
    and that once per distinct text."""
    wanted = str(version)
    parsed: dict[str, bool] = {}
    seen: set[str] = set()
    out = []
    for file in files:
        text = _version_text(file.filename)
        if text is None:
            continue
        if text != wanted:
            same = parsed.get(text)
            if same is None:
                same = parsed[text] = _same_version(text, wanted, version)
            if not same:
                continue
        if file.filename in seen:
            continue
        # (the full parse confirms what the text said, and rejects invalid names)
        if version_of(file.filename) != version:
            continue
        seen.add(file.filename)
        out.append(file)
    return out


def _same_version(text: str, wanted: str, version: Version) -> bool:
    if text[:1] != wanted[:1] and not text.lower().startswith("v"):
        return False
    try:
        return Version(text.replace("_", "-")) == version
    except ValueError:
        return False


class LockBuilder:
    """Turns one resolution into :class:`LockedPackage` records."""

    def __init__(
        self,
        installer: Installer,
        finder: SourceFinder,
        environment: Mapping[str, str],
        *,
        index_urls: Sequence[str],
        editables: frozenset[str],
        find_links: Sequence[str] = (),
        with_files: bool = True,
    ) -> None:
        """``with_files``: list every file of each pinned version (for hashes and pylock.toml);
        without, index packages are locked by name and version alone."""
        self.installer = installer
        self.client = installer.client
        self.finder = finder
        self.environment = dict(environment)
        self.index_urls = list(index_urls)
        self.find_links = list(find_links)
        self.editables = editables
        self.with_files = with_files

    # -- files -----------------------------------------------------------------------------------

    def locked_file(self, name: str, file: IndexFile) -> LockedFile:
        """``file`` with a sha256 and a size: a file the index gave no digest for is downloaded
        (through the cache) and hashed, as pip-compile does; a local one is measured."""
        hashes = dict(file.hashes)
        size = file.size
        if not hashes.get("sha256") or (size is None and file.url.startswith("file:")):
            path = self.client.download(name, file)
            if not hashes.get("sha256"):
                hashes["sha256"] = _sha256(path)
            size = os.path.getsize(path)
        return LockedFile(
            filename=file.filename,
            url=file.url,
            hashes=hashes,
            size=size,
            upload_time=file.upload_time,
        )

    def index_of(self, file: IndexFile) -> str | None:
        """The index a file was listed by, where that can be told: the only index of the run
        (find-links files are local or named by their own pages), else the one whose host
        serves the file."""
        local = file.url.startswith("file:")
        if len(self.index_urls) == 1 and not local and not self.find_links:
            return self.index_urls[0]
        for url in self.index_urls:
            base = url.rstrip("/").rsplit("/", 1)[0]
            if file.url.startswith(base):
                return url
        return None

    # -- packages --------------------------------------------------------------------------------

    def package(
        self, pkg: ResolvedPackage, *, via: Sequence[str], marker: str | None, metadata: CoreMetadata | None
    ) -> LockedPackage:
        requires_python = metadata.requires_python if metadata is not None else None
        if pkg.url is None:
            locked: tuple[LockedFile, ...] = ()
            if self.with_files:
                listed = files_of_version(self.finder.find_files(pkg.name), pkg.version)
                if pkg.file is not None and pkg.file.filename not in {f.filename for f in listed}:
                    listed.insert(0, pkg.file)
                locked = tuple(self.locked_file(pkg.name, f) for f in listed)
            index = self.index_of(pkg.file) if pkg.file is not None else None
            return LockedPackage(
                name=pkg.name,
                version=str(pkg.version),
                files=locked,
                index=index,
                extras=pkg.extras,
                via=tuple(via),
                marker=marker,
                requires_python=requires_python,
            )
        direct = self.installer.direct_url(self.finder, pkg)
        files: tuple[LockedFile, ...] = ()
        if direct is not None and "archive_info" in direct:
            file = url_file(pkg.url)
            located = self.locked_file(pkg.name, file)
            files = (located,)
            direct = {**direct, "archive_info": {"hashes": dict(located.hashes)}}
        editable = pkg.url in self.editables
        return LockedPackage(
            name=pkg.name,
            version=str(pkg.version),
            files=files,
            url=pkg.url.split("#", 1)[0] if is_wheel_url(pkg.url) else pkg.url,
            direct=direct,
            editable=editable,
            extras=pkg.extras,
            via=tuple(via),
            marker=marker,
            requires_python=requires_python,
        )

    def metadata(self, pkg: ResolvedPackage) -> CoreMetadata | None:
        try:
            if pkg.url is not None:
                return self.finder.get_direct_metadata(pkg.name, pkg.url)
            if pkg.file is not None:
                return self.finder.get_metadata(pkg.name, pkg.version, pkg.file)
        except Exception as exc:  # the resolver read it before: only a cache going away
            log.debug("no metadata for %s: %s", pkg.name, exc)
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- markers ------------------------------------------------------------------------------------


def requirement_edge(
    text: str, environment: Mapping[str, str], extras: Sequence[str]
) -> tuple[str, str | None] | None:
    """What one Requires-Dist line of a package installed with ``extras`` ("" for none, then
    its extras) adds to :func:`package_markers`: the dependency's canonical name and the edge's
    marker (None when it has none, or one that names an ``extra``), or None when the line does
    not apply (unparseable, or its marker false, or failing, for every extra).

    Lines in the narrow form (``satchel.standards.narrow``) are read without packaging's
    parser, unless their marker holds and names no extra (the edge then carries packaging's
    text of the marker, so packaging reads it); ``tests/unit/test_compile_lock.py`` compares
    this with :func:`packaging_requirement_edge` on random lines."""
    from satchel.standards.narrow import narrow_requirement

    narrow = narrow_requirement(text)
    if narrow is not None:
        if narrow.marker is None:
            return narrow.name, None
        wanted = [canonicalize_name(e) for e in extras]
        try:
            holds = any(narrow.holds(environment, e) for e in wanted)
        except Exception:  # (an environment without a variable it names: as packaging says)
            return packaging_requirement_edge(text, environment, extras)
        if not holds:
            return None
        if "extra" in text.partition(";")[2]:
            return narrow.name, None
    return packaging_requirement_edge(text, environment, extras)


def packaging_requirement_edge(
    text: str, environment: Mapping[str, str], extras: Sequence[str]
) -> tuple[str, str | None] | None:
    """:func:`requirement_edge`, every line read with packaging."""
    try:
        req = Requirement(text)
    except ValueError:  # InvalidRequirement, or packaging's InvalidSpecifier for ``foo =1``
        return None
    dep = canonicalize_name(req.name)
    marker = req.marker
    if marker is None:
        return dep, None
    try:
        if not any(marker.evaluate({**environment, "extra": e}) for e in extras):
            return None
    except Exception:
        return None
    text_marker = str(marker)
    return dep, None if "extra" in text_marker else text_marker


def package_markers(
    resolution: Resolution,
    roots: Sequence[tuple[str, str | None]],
    metadata: Mapping[str, CoreMetadata | None],
    environment: Mapping[str, str],
) -> dict[str, str | None]:
    """For each package, the marker under which it is needed (None: always).

    ``roots`` are (name, marker) edges from the sources. Each edge into a package (a root, or a dependency whose marker holds in
    ``environment`` for the dependent's extras) carries its own marker (none when it only
    names an ``extra``); a package is needed under any of its edges, each edge under its
    dependent's marker too. Conditions that pile up past ``MAX_MARKER_TERMS`` mean "always".
    """
    edges: dict[str, list[tuple[str | None, str | None]]] = {name: [] for name in resolution}
    for name, root_marker in roots:
        if name in edges:
            edges[name].append((None, root_marker))
    for pkg in resolution.values():
        meta = metadata.get(pkg.name)
        if meta is None:
            for dep in pkg.requires:
                if dep in edges:
                    edges[dep].append((pkg.name, None))
            continue
        extras = ["", *pkg.extras]
        for text in meta.requires_dist:
            edge = requirement_edge(text, environment, extras)
            if edge is None:
                continue
            dep, edge_marker = edge
            if dep in edges and dep != pkg.name:
                edges[dep].append((pkg.name, edge_marker))

    unset = object()
    result: dict[str, Any] = {name: unset for name in edges}
    for _ in range(len(edges) + 2):
        changed = False
        for name, incoming in edges.items():
            terms: list[str] = []
            always = not incoming  # reached by nothing known: keep it unconditional
            for parent, edge_marker in incoming:
                parent_marker = None if parent is None else result.get(parent)
                if parent_marker is unset:
                    continue
                combined = _and(parent_marker, edge_marker)
                if combined is None:
                    always = True
                    break
                terms.append(combined)
            value: Any
            if always:
                value = None
            elif not terms:
                value = unset
            else:
                unique = list(dict.fromkeys(terms))
                value = None if len(unique) > MAX_MARKER_TERMS else _or(unique)
            if value != result[name]:
                result[name] = value
                changed = True
        if not changed:
            break
    return {name: (None if value is unset else value) for name, value in result.items()}


def _and(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None or a == b:
        return a
    return str(Marker(f"({a}) and ({b})"))


def _or(terms: list[str]) -> str:
    if len(terms) == 1:
        return str(Marker(terms[0]))
    return str(Marker(" or ".join(f"({t})" for t in terms)))
