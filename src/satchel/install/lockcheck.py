"""Whether a set of distributions is complete: every dependency of each (for the target's
markers, with the extras asked for) is in the set, at a version it accepts.

``satchel sync`` asks this of a lock before changing anything: a lock missing a dependency
installs an environment that fails at import time. Pure: the caller passes the metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Dist:
    """What the check reads of one distribution: its version and Requires-Dist lines."""

    version: str
    requires_dist: tuple[str, ...] = ()
    extras: frozenset[str] = field(default_factory=frozenset)  # asked for by the lock itself
    provides_extra: tuple[str, ...] | None = None  # Provides-Extra, None when not known


@dataclass(frozen=True)
class Problem:
    """``parent`` (with ``parent_version``) requires ``requirement``; ``found`` is the version
    of its name in the set, None when the set does not have it."""

    parent: str
    parent_version: str
    requirement: str
    dependency: str
    found: str | None

    def __str__(self) -> str:
        if self.found is None:
            return f"{self.parent} {self.parent_version} requires {self.requirement}, which is not in the lock"
        return (
            f"{self.parent} {self.parent_version} requires {self.requirement}, "
            f"but the lock has {self.dependency} {self.found}"
        )


def problems(dists: Mapping[str, Dist], env: Mapping[str, str]) -> list[Problem]:
    """Every unmet dependency in ``dists`` (canonical name -> :class:`Dist`), sorted. Extras
    asked for by one distribution of another (``b[x]``) count for that one too. Invalid
    requirements are not this check's business (the install reports them elsewhere)."""
    out: dict[tuple[str, str], Problem] = {}
    wanted: dict[str, set[str]] = {name: set(d.extras) for name, d in dists.items()}
    queue: list[tuple[str, str]] = [(n, "") for n in dists]
    queue += [(n, e) for n, d in dists.items() for e in d.extras]
    done: set[tuple[str, str]] = set()
    parsed: dict[str, Requirement | None] = {}
    while queue:
        name, extra = queue.pop()
        if (name, extra) in done:
            continue
        done.add((name, extra))
        dist = dists[name]
        for text in dist.requires_dist:
            req = parsed.get(text, _missing)
            if req is _missing:
                try:
                    req = Requirement(text)
                except InvalidRequirement:
                    req = None
                parsed[text] = req
            if req is None or not _applies(req, env, extra):
                continue
            dep = canonicalize_name(req.name)
            have = dists.get(dep)
            if have is None:
                out.setdefault((name, dep), Problem(name, dist.version, str(req), dep, None))
                continue
            if not _accepts(req, have.version):
                out.setdefault((name, dep), Problem(name, dist.version, str(req), dep, have.version))
            for e in req.extras:
                e = canonicalize_name(e)
                if e not in wanted[dep]:
                    wanted[dep].add(e)
                    queue.append((dep, e))
    return [out[k] for k in sorted(out)]


def unprovided_extras(dists: Mapping[str, Dist], env: Mapping[str, str]) -> list[str]:
    """"name version does not provide the extra 'x'", for each extra the lock itself asks of a
    distribution (``name[x]==v``) that its metadata neither declares (Provides-Extra) nor uses
    in a marker: what pip and uv, and satchel's resolver, warn of. Distributions whose
    Provides-Extra is not known are left out."""
    from satchel.standards.extras import missing_extras, normalize_extras

    out = []
    for name, dist in sorted(dists.items()):
        if not dist.extras or dist.provides_extra is None:
            continue
        asked = normalize_extras(dist.extras)
        used: set[str] = set()
        for text in dist.requires_dist:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            used |= {e for e in asked if _applies(req, env, e)}
        for extra in missing_extras(asked, dist.provides_extra, used):
            out.append(f"{name} {dist.version} does not provide the extra '{extra}'")
    return out


_missing: Requirement | None = Requirement("missing")  # a sentinel distinct from None


def _applies(req: Requirement, env: Mapping[str, str], extra: str) -> bool:
    """With ``extra`` "": a dependency of the distribution itself; else one that only that
    extra adds."""
    if req.marker is None:
        return extra == ""
    try:
        holds = req.marker.evaluate({**env, "extra": extra})
        if extra:
            return holds and not req.marker.evaluate({**env, "extra": ""})
        return holds
    except Exception:  # an unevaluable marker: the resolver warns about it, not this check
        return False


def _accepts(req: Requirement, version: str) -> bool:
    if req.url:
        return True  # a direct reference: the lock's entry is where it came from
    try:
        return req.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True
