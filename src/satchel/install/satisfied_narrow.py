"""The no-op check of ``satchel.install.satisfied`` for inputs in the narrow form, without
packaging: roots, constraints, Requires-Dist lines, versions and Requires-Python that
``satchel.standards.narrow`` and ``satchel.standards.versions`` read exactly as packaging does.

``plainly_satisfied`` answers only "satisfied" (the names and versions the resolution would
keep, as ``check`` gives them) or None: not satisfied, or anything it does not model (a line,
version or Requires-Python outside the narrow form, a marker variable the target's environment
lacks). The caller then runs ``check`` on packaging's reading, which decides. The walk is
``check``'s (the same rules, in the same order); ``tests/unit/test_install_satisfied_narrow.py``
compares both on many generated installed sets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from satchel.standards.narrow import NarrowRequirement, narrow_requirement
from satchel.standards.versions import (
    NarrowSpecifier,
    NarrowVersion,
    canonical_name,
    contains_all,
    parse_specifiers,
    parse_version,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.install.satisfied import InstalledLike

#: The marker variables the narrow form knows: the target's environment must have them all.
MARKER_VARIABLES = (
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_system",
    "platform_machine",
    "implementation_name",
    "platform_python_implementation",
)


class _Decline(Exception):
    """Not satisfied, or not in the narrow form: ``check`` decides."""


def plainly_satisfied(
    roots: Sequence[NarrowRequirement],
    installed: Mapping[str, InstalledLike],
    env: Mapping[str, str],
    python_version: str,
    *,
    constraints: Sequence[NarrowRequirement] = (),
    no_deps: bool = False,
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(names, versions) when ``installed`` certainly satisfies ``roots`` as ``check`` says,
    else None (see the module docstring)."""
    try:
        walk = _Walk(installed, env, python_version, no_deps)
        for c in constraints:
            walk.add_constraint(c)
        for r in roots:
            if r.holds(walk.env, ""):
                walk.require(r, None)
        walk.run()
    except _Decline:
        return None
    names = tuple(sorted(walk.kept))
    return names, tuple(walk.kept[n].text for n in names)


class _Walk:
    def __init__(
        self,
        installed: Mapping[str, InstalledLike],
        env: Mapping[str, str],
        python_version: str,
        no_deps: bool,
    ) -> None:
        if any(not isinstance(env.get(v), str) for v in MARKER_VARIABLES):
            raise _Decline
        self.env = {v: env[v] for v in MARKER_VARIABLES}
        if any(parse_version(self.env[v]) is None for v in ("python_version", "python_full_version")):
            raise _Decline  # (a non-tagged build's "3.12.1+", say: packaging repairs it)
        version = parse_version(python_version)
        if version is None:
            raise _Decline
        self.python_version = version
        self.installed = installed
        self.no_deps = no_deps
        self.constraints: dict[str, list[NarrowSpecifier]] = {}
        self.kept: dict[str, NarrowVersion] = {}
        self.expanded: set[tuple[str, frozenset[str]]] = set()
        self.queue: list[tuple[str, frozenset[str], NarrowRequirement]] = []
        self.parsed: dict[str, NarrowRequirement] = {}

    def add_constraint(self, c: NarrowRequirement) -> None:
        if c.extras:
            raise _Decline
        if c.holds(self.env, ""):
            self.constraints.setdefault(c.name, []).extend(c.specifiers)

    def require(self, req: NarrowRequirement, parent: str | None) -> None:
        self.queue.append((req.name, req.extras, req))

    def run(self) -> None:
        while self.queue:
            name, extras, req = self.queue.pop()
            version = self.accept(name, req)
            if self.no_deps:
                continue
            if (name, frozenset()) not in self.expanded:
                self.expanded.add((name, frozenset()))
                self.expand_base(name, version)
            if extras and (name, extras) not in self.expanded:
                self.expanded.add((name, extras))
                self.expand_extras(name, extras)

    def accept(self, name: str, req: NarrowRequirement) -> NarrowVersion:
        version = self.kept.get(name)
        if version is None:
            dist = self.installed.get(name)
            if dist is None:
                raise _Decline
            version = parse_version(dist.version)
            if version is None or canonical_name(dist.display_name) != name:
                raise _Decline
            constraint = self.constraints.get(name)
            if constraint is not None and not contains_all(constraint, version):
                raise _Decline
            self.kept[name] = version
        if not contains_all(req.specifiers, version):
            raise _Decline
        return version

    def parse(self, text: str) -> NarrowRequirement:
        req = self.parsed.get(text)
        if req is None:
            req = narrow_requirement(text)
            if req is None:
                raise _Decline
            self.parsed[text] = req
        return req

    def expand_base(self, name: str, version: NarrowVersion) -> None:
        dist = self.installed[name]
        requires_python = dist.requires_python
        if requires_python:
            specifiers = parse_specifiers(requires_python)
            if specifiers is None or not contains_all(specifiers, self.python_version):
                raise _Decline
        for text in dist.requires_dist:
            req = self.parse(text)
            if req.holds(self.env, ""):
                self.require(req, name)

    def expand_extras(self, name: str, extras: frozenset[str]) -> None:
        dist = self.installed[name]
        used: set[str] = set()
        for text in dist.requires_dist:
            req = self.parse(text)
            if req.marker is None or req.holds(self.env, ""):
                continue  # a dependency of the release itself
            matching = {e for e in extras if req.holds(self.env, e)}
            if matching:
                used |= matching
                self.require(req, name)
        if extras - {canonical_name(e) for e in dist.provides_extra} - used:
            raise _Decline  # the resolver warns about a missing extra
