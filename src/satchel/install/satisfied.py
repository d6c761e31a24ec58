"""Whether what is installed already satisfies a set of requirements: the no-op check.

``check`` answers one question without the index or the resolver: would resolving these root
requirements (with these constraints) against this environment keep exactly what is installed?
It walks the dependency graph through the installed distributions' own metadata, applying the
rules the resolver applies to installed candidates (``satchel.resolve.provider``), through the
same functions (``satchel.standards``: Requires-Python, markers, extras):

- roots and constraints whose markers are false for the target are ignored (``extra`` is "");
- a dependency counts when its marker holds with ``extra`` "", or (for ``name[extras]``) with
  one of the requested extras;
- a version matches a specifier with pre-releases allowed: the pre-release rules only decide
  which *index* versions to consider, never whether an installed one is acceptable;
- each requirement on a name, and the merged constraints on it, must contain the installed
  version; a release whose Requires-Python excludes the target is not acceptable;
- with ``no_deps`` only the roots themselves are looked at.

It is deliberately conservative. Whenever the resolver would do anything but keep the
installed distributions silently -- a missing or mismatching distribution, a URL, an invalid
requirement or version, a marker it cannot evaluate (it warns, or fails for a root: the policy
of ``satchel.standards.markers``), an extra nobody provides (it warns), metadata naming another
project -- the answer is "not satisfied" with the reason, and
the caller resolves as usual. The answer "satisfied" carries the names the resolution would
have (what ``Nothing to do: N packages`` counts).

Pure: no I/O beyond what the ``InstalledLike`` objects do when asked for their metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, cast

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.standards.extras import extra_dependencies, missing_extras, normalize_extras
from satchel.standards.markers import MarkerUndefined, marker_holds
from satchel.standards.narrow import (
    PlainRequirement,
    marker_verdict,
    narrow_match,
    plain_from_match,
    plain_requirement,
)
from satchel.standards.requires_python import admits


class InstalledLike(Protocol):
    """What the check reads of an installed distribution (``InstalledDist`` has all of it)."""

    @property
    def name(self) -> str: ...  # canonical

    @property
    def version(self) -> str: ...

    @property
    def display_name(self) -> str: ...  # the METADATA Name (or the canonical name)

    @property
    def requires_dist(self) -> list[str]: ...

    @property
    def requires_python(self) -> str | None: ...

    @property
    def provides_extra(self) -> list[str]: ...


class Outcome(NamedTuple):
    """``satisfied``: the installed set is exactly what resolving would keep; ``names`` are the
    (canonical, sorted) names the resolution would hold, with their installed versions in
    ``versions``. Otherwise ``reason`` says why the full resolution is needed. True when
    satisfied."""

    satisfied: bool
    names: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    reason: str = ""

    def __bool__(self) -> bool:
        return self.satisfied


class _Unsure(Exception):
    """Not provably a no-op: resolve as usual (the message says why)."""


def check(
    roots: Sequence[Requirement],
    installed: Mapping[str, InstalledLike],
    env: Mapping[str, str],
    python_version: str,
    *,
    constraints: Sequence[Requirement] = (),
    no_deps: bool = False,
) -> Outcome:
    """Whether ``installed`` (canonical name -> distribution) satisfies ``roots`` transitively.

    ``env`` is the target's PEP 508 marker environment (without ``extra``), ``python_version``
    its full version ("3.12.1", for Requires-Python). ``roots`` and ``constraints`` must have
    no URL (``name @ url``): those are answered "not satisfied". Never raises for bad input;
    anything unexpected is a "not satisfied" with the reason.
    """
    try:
        walk = _Walk(installed, env, Version(python_version), no_deps)
        for c in constraints:
            walk.add_constraint(c)
        for r in roots:
            if walk.applies(r, ""):
                walk.require(r, parent=None)
        walk.run()
    except _Unsure as e:
        return Outcome(False, reason=str(e))
    except Exception as e:  # a surprise is never a reason to skip the resolver
        return Outcome(False, reason=f"cannot tell ({type(e).__name__}: {e})")
    names = tuple(sorted(walk.kept))
    return Outcome(True, names, tuple(str(walk.kept[n]) for n in names))


_Req = Requirement | PlainRequirement


class _Walk:
    def __init__(
        self,
        installed: Mapping[str, InstalledLike],
        env: Mapping[str, str],
        python_version: Version,
        no_deps: bool,
    ) -> None:
        self.installed = installed
        self.env = dict(env)
        # What packaging evaluates a Requires-Dist marker against, without an extra.
        self.marker_env = {**cast(dict[str, str], default_environment()), **self.env, "extra": ""}
        self.python_version = python_version
        self.no_deps = no_deps
        self.constraints: dict[str, SpecifierSet] = {}
        self.kept: dict[str, Version] = {}  # name -> installed version, once accepted
        self.expanded: set[tuple[str, frozenset[str]]] = set()
        self.queue: list[tuple[str, frozenset[str], _Req, str]] = []
        self.base: dict[str, _Req | None] = {}  # Requires-Dist text -> it, None: extra-only
        self.full: dict[str, _Req] = {}  # Requires-Dist text -> it

    # -- input -----------------------------------------------------------------------------

    def applies(self, req: _Req, where: str, extra: str = "") -> bool:
        if req.marker is None:
            return True
        try:
            return marker_holds(req.marker, self.env, extra)
        except MarkerUndefined as e:  # the resolver warns (dependencies) or fails (roots)
            raise _Unsure(f"cannot evaluate the marker of {req}{where} ({e})") from None

    def add_constraint(self, c: Requirement) -> None:
        if c.url:
            raise _Unsure(f"the constraint {c} is a URL")
        if c.extras:
            raise _Unsure(f"the constraint {c} names extras")
        if not self.applies(c, " (a constraint)"):
            return
        name = canonicalize_name(c.name)
        self.constraints[name] = self.constraints.get(name, SpecifierSet()) & c.specifier

    def require(self, req: _Req, parent: str | None) -> None:
        if req.url:
            raise _Unsure(f"{req} is a direct reference")
        name = canonicalize_name(req.name)
        extras = normalize_extras(req.extras)
        self.queue.append((name, extras, req, parent or "the requirements"))

    # -- the walk --------------------------------------------------------------------------

    def run(self) -> None:
        while self.queue:
            name, extras, req, parent = self.queue.pop()
            version = self.accept(name, req, parent)
            if self.no_deps:
                continue
            if (name, frozenset()) not in self.expanded:
                self.expanded.add((name, frozenset()))
                self.expand_base(name, version)
            if extras and (name, extras) not in self.expanded:
                self.expanded.add((name, extras))
                self.expand_extras(name, extras)

    def accept(self, name: str, req: _Req, parent: str) -> Version:
        """The installed version of ``name`` if it satisfies ``req`` and the constraints."""
        version = self.kept.get(name)
        if version is None:
            dist = self.installed.get(name)
            if dist is None:
                raise _Unsure(f"{name} is not installed (required by {parent})")
            try:
                version = Version(dist.version)
            except InvalidVersion:
                raise _Unsure(f"{name} {dist.version} has an invalid version") from None
            if canonicalize_name(dist.display_name) != name:
                raise _Unsure(f"{name}'s metadata names {dist.display_name}")
            constraint = self.constraints.get(name)
            if constraint is not None and not constraint.contains(version, prereleases=True):
                raise _Unsure(f"{name} {version} does not match the constraints {constraint}")
            self.kept[name] = version
        spec = req.specifier
        if spec and not spec.contains(version, prereleases=True):  # (empty: contains anything)
            raise _Unsure(f"{name} {version} does not satisfy {req} (required by {parent})")
        return version

    def parse(self, name: str, text: str) -> _Req:
        req = self.full.get(text)
        if req is None:
            req = plain_requirement(text)
            if req is None:
                try:
                    req = Requirement(text)
                except InvalidRequirement:
                    raise _Unsure(f"{name} declares an invalid dependency {text!r}") from None
            self.full[text] = req
        return req

    def base_requirement(self, name: str, text: str) -> _Req | None:
        """``text`` as a dependency of the distribution itself; None if it is certainly valid
        and not needed without an extra (for an extra only, or a marker false for the target):
        then packaging does not even parse it."""
        if text in self.base:
            return self.base[text]
        req: _Req | None
        found = narrow_match(text)
        if found is None:
            verdict = marker_verdict(text, self.marker_env)
            if verdict is None:
                req = self.parse(name, text)
            elif verdict[2]:  # its marker holds: as good as a line without one, here
                req = plain_from_match(text, verdict[0], verdict[1])
            else:
                req = None
        elif found[0].group("marker") is not None:
            req = None
        else:
            req = self.full[text] = plain_from_match(text, *found)
        self.base[text] = req
        return req

    def expand_base(self, name: str, version: Version) -> None:
        dist = self.installed[name]
        requires_python = dist.requires_python
        if requires_python and not admits(requires_python, self.python_version):
            raise _Unsure(f"{name} {version} requires Python {requires_python}, not {self.python_version}")
        parent = f"{name} {dist.version}"
        for text in dist.requires_dist:
            req = self.base_requirement(name, text)
            if req is not None and self.applies(req, f" ({parent})"):
                self.require(req, parent)

    def expand_extras(self, name: str, extras: frozenset[str]) -> None:
        dist = self.installed[name]
        parent = f"{name}[{','.join(sorted(extras))}] {dist.version}"
        where = f" ({parent})"
        added, used = extra_dependencies(
            (self.parse(name, text) for text in dist.requires_dist),
            extras,
            lambda req, extra: self.applies(req, where, extra),
        )
        for req in added:
            self.require(req, parent)
        missing = missing_extras(extras, dist.provides_extra, used)
        if missing:
            raise _Unsure(f"{name} does not provide the extra {missing[0]!r}")
