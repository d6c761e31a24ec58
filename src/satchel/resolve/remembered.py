"""Remembered resolutions: the last answer to exactly the same question, reused while everything
it read is unchanged.

A resolution depends on its inputs (the requirements and constraints, the options, the target's
markers and tags, what is installed there, which indexes and cut-off, and satchel's own version)
and on the records it read: index pages and the metadata of files. The inputs make the key (a
digest of :func:`inputs_text`; the record keeps the whole text, so a collision is a miss). The
records are noted by a cache journal (:mod:`satchel.cache.journal`): core metadata keyed by its
file's sha256 cannot change and is left out; what can change, mainly index pages, is noted with
its checksum.

A remembered resolution is used only when every noted record is unchanged (its header, where its
file is the very one noted; else its whole payload hashed), and, unless the run
is offline, every index page it used is still fresh and no project of it is to be refreshed
(``--refresh``, ``-U``, ``-P``): exactly when resolving again would read the same records and
so reach the same answer. Resolutions that read the metadata of a source (an sdist or a direct
reference, which may be built) are not remembered, nor are direct references and local indexes
(their pages are not records); the caller decides that from its inputs
(:attr:`ResolutionInputs.rememberable`) and from :attr:`Resolution.asked_sources`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from satchel import __version__
from satchel.cache import buckets
from satchel.cache.freshness import Freshness
from satchel.cache.journal import Noted
from satchel.cache.record import Record
from satchel.cache.store import Cache, safe_key
from satchel.index.models import IndexFile
from satchel.python.interpreter import Interpreter
from satchel.resolve.options import ResolveOptions
from satchel.resolve.outcome import Resolution, ResolvedPackage
from satchel.resolve.roots import RootRequirement


@dataclass(frozen=True)
class RememberedPackage:
    """One :class:`ResolvedPackage` as stored (an index file, or the installed distribution)."""

    name: str
    version: str
    file: IndexFile | None
    is_direct: bool
    extras: list[str]
    requires: list[str]
    installed: bool
    hashes: list[str]


@dataclass(frozen=True)
class RememberedResolution(Record, record_type="resolution", bucket=buckets.RESOLUTIONS):
    """A resolution with everything needed to tell whether it still holds.

    ``inputs``: the full key text. ``records``: the changeable records it read, with their
    checksums. ``projects``: the projects whose remote index pages it used, ``fetched_at`` the
    newest of those pages' fetch times and ``expires_at`` the first of their expiries (None:
    no remote page was used)."""

    key_pattern = r"[0-9a-f]{32}\.rec"

    inputs: str
    packages: list[RememberedPackage]
    roots: list[str]
    warnings: list[str]
    records: list[Noted]
    projects: list[str]
    fetched_at: float | None
    expires_at: float | None


@dataclass(frozen=True)
class ResolutionInputs:
    """Everything a resolution depends on besides the records it reads.

    ``index``: what the finder reads from, as plain data (index URLs, find-links, cut-off
    time). ``installed``: the installed distributions the finder may offer, each as
    (name, version, any further facts the resolver reads of it)."""

    roots: Sequence[RootRequirement]
    constraints: Sequence[RootRequirement]
    options: ResolveOptions
    interpreter: Interpreter
    index: Mapping[str, Any]
    installed: Sequence[Sequence[str]] = ()

    @property
    def rememberable(self) -> bool:
        """False for inputs whose answer depends on more than records: a direct reference (a
        URL, path or VCS checkout), a find-links location or a local (``file:``) index."""
        if any(r.direct_url for r in (*self.roots, *self.constraints)):
            return False
        if self.index.get("find_links"):
            return False
        return all(not str(u).startswith("file:") for u in self.index.get("index_urls", ()))


def inputs_text(inputs: ResolutionInputs) -> str:
    """The key material: canonical JSON of every input (and satchel's version)."""
    interp = inputs.interpreter
    data = {
        "satchel": __version__,
        "roots": [_root(r) for r in inputs.roots],
        "constraints": [_root(c) for c in inputs.constraints],
        "options": {f.name: _plain(getattr(inputs.options, f.name)) for f in dataclasses.fields(inputs.options)},
        "markers": dict(sorted(interp.markers.items())),
        "tags": list(interp.tags),
        "python": list(interp.version),
        "index": _plain(inputs.index),
        "installed": sorted([list(i) for i in inputs.installed]),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def key_of(text: str) -> str:
    return f"{safe_key(text, 32)}.rec"


def recall(
    cache: Cache,
    inputs: ResolutionInputs,
    *,
    offline: bool,
    refresh: Callable[[str], bool],
    now: float,
) -> tuple[Resolution, float | None] | None:
    """The remembered resolution for ``inputs`` if it still holds (module docstring), and when
    the index pages it used stop being fresh (None: it used none); else None."""
    text = inputs_text(inputs)
    found = cache.read(RememberedResolution, key_of(text))
    if found is None or found.inputs != text:
        return None
    if not offline:
        if any(refresh(name) for name in found.projects):
            return None
        pages = found.expires_at, found.fetched_at
        if pages[0] is not None and pages[1] is not None and not Freshness(pages[1], pages[0]).is_fresh(now):
            return None
    check = cache.unchanged(found.records)
    if not check.unchanged:
        return None
    try:
        packages = {p.name: _package(p) for p in found.packages}
    except InvalidVersion:
        return None
    if check.identities is not None:
        # The records are the same but their files are not the ones noted (a copied cache, a
        # record noted moments after it was written): note them as they are now, so that the
        # next check reads headers only.
        cache.write(key_of(text), dataclasses.replace(found, records=check.identities))
    resolution = Resolution(packages=packages, roots=tuple(found.roots), warnings=tuple(found.warnings))
    return resolution, found.expires_at


def remember(
    cache: Cache,
    inputs: ResolutionInputs,
    resolution: Resolution,
    records: Sequence[Noted],
    freshness: Mapping[str, Freshness],
) -> bool:
    """Store ``resolution`` for ``inputs``, with the records it read and the freshness of the
    index pages it used (per project); whether it was stored. A resolution that asked a source
    for metadata, or that holds a direct reference, is not."""
    if resolution.asked_sources or any(p.url is not None for p in resolution.values()):
        return False
    text = inputs_text(inputs)
    pages = list(freshness.values())
    # A record whose content its file's digest fixes (core metadata) cannot change, only be
    # damaged or removed: those of the files chosen are checked (their damage is found and
    # healed as a full resolution would), the others' are not needed.
    chosen = {p.file.sha256 for p in resolution.values() if p.file is not None and p.file.sha256}
    records = [r for r in records if r.address is None or r.address in chosen]
    rec = RememberedResolution(
        inputs=text,
        packages=[_remembered(p) for p in resolution.values()],
        roots=list(resolution.roots),
        warnings=list(resolution.warnings),
        records=list(records),
        projects=sorted(freshness),
        fetched_at=max((f.fetched_at for f in pages), default=None),
        expires_at=min((f.expires_at for f in pages), default=None),
    )
    cache.write(key_of(text), rec)
    return True


def _remembered(p: ResolvedPackage) -> RememberedPackage:
    return RememberedPackage(
        name=p.name,
        version=str(p.version),
        file=p.file,
        is_direct=p.is_direct,
        extras=list(p.extras),
        requires=list(p.requires),
        installed=p.installed,
        hashes=list(p.hashes),
    )


def _package(p: RememberedPackage) -> ResolvedPackage:
    return ResolvedPackage(
        name=p.name,
        version=Version(p.version),
        file=p.file,
        url=None,
        is_direct=p.is_direct,
        extras=tuple(p.extras),
        requires=tuple(p.requires),
        installed=p.installed,
        hashes=tuple(p.hashes),
    )


def _root(r: RootRequirement) -> list[Any]:
    return [str(r.requirement), r.direct_url, sorted(r.hashes)]


def _plain(value: Any) -> Any:
    """JSON-able, canonical: sets sorted, mappings with string keys, versions as text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, AbstractSet):
        return sorted(str(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
