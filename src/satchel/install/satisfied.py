"""Whether what is installed already satisfies a set of requirements: the no-op check.

``check`` answers one question without the index or the resolver: would resolving these root
requirements (with these constraints) against this environment keep exactly what is installed?
It walks the dependency graph through the installed distributions' own metadata, applying the
rules the resolver applies to installed candidates (``satchel.resolve.provider``):

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
requirement or version, a marker it cannot evaluate (it warns), an extra nobody provides (it
warns), metadata naming another project -- the answer is "not satisfied" with the reason, and
the caller resolves as usual. The answer "satisfied" carries the names the resolution would
have (what ``Nothing to do: N packages`` counts).

Pure: no I/O beyond what the ``InstalledLike`` objects do when asked for their metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol, cast

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# Requires-Dist lines in a form strictly narrower than PEP 508 -- simple names, plain PEP 440
# versions, and either no marker or only ``extra == "x"`` -- which packaging certainly parses,
# to the same name, extras and specifiers, and whose marker (if any) is certainly false without
# that extra and cannot fail to evaluate. Most Requires-Dist lines are like that: the check
# skips the extra-only ones unparsed (unless that extra is wanted) and reads the plain ones
# without packaging's (much slower) general parser; everything else goes to packaging.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_NARROW = re.compile(
    rf"(?P<name>{_NAME})(?:[ \t]*\[(?P<extras>[^\]]*)\])?[ \t]*(?P<specs>\([^()]*\)|[^;()]*?)"
    rf"[ \t]*(?P<marker>;[ \t]*extra[ \t]*==[ \t]*(?:'{_NAME}'|\"{_NAME}\")[ \t]*)?"
)
_NAME_ONLY = re.compile(_NAME)
_SUFFIX = r"(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
_SPEC = re.compile(
    rf"(?:==|!=)[ \t]*[0-9]+(?:\.[0-9]+)*(?:\.\*|{_SUFFIX})"
    rf"|~=[ \t]*[0-9]+(?:\.[0-9]+)+{_SUFFIX}"
    rf"|(?:<=|>=|<|>)[ \t]*[0-9]+(?:\.[0-9]+)*{_SUFFIX}"
)


class PlainRequirement:
    """A marker-less Requires-Dist in the narrow form: what ``Requirement`` would make of it."""

    __slots__ = ("extras", "name", "specifier", "text")
    url = None
    marker = None

    def __init__(self, text: str, name: str, extras: frozenset[str], specifier: SpecifierSet):
        self.text = text
        self.name = name
        self.extras = extras
        self.specifier = specifier

    def __str__(self) -> str:
        return self.text


def _narrow(text: str) -> tuple[re.Match[str], str] | None:
    """The match and the specifier text (without parentheses) of ``text`` in the narrow form."""
    m = _NARROW.fullmatch(text)
    if m is None:
        return None
    extras = m.group("extras")
    if extras is not None and not all(
        _NAME_ONLY.fullmatch(e.strip(" \t")) for e in extras.split(",")
    ):
        return None
    specs = m.group("specs")
    if specs.startswith("("):
        specs = specs[1:-1].strip(" \t")
        if not specs:
            return None
    if specs and not all(_SPEC.fullmatch(s.strip(" \t")) for s in specs.split(",")):
        return None
    return m, specs


def is_extra_only(text: str) -> bool:
    """Whether the Requires-Dist ``text`` is certainly valid and needed only by an extra."""
    found = _narrow(text)
    return found is not None and found[0].group("marker") is not None


def plain_requirement(text: str) -> PlainRequirement | None:
    """``text`` read without packaging's parser, if it is a marker-less line in the narrow form
    (then ``Requirement(text)`` has the same name, extras and specifier, and no marker)."""
    found = _narrow(text)
    if found is None or found[0].group("marker") is not None:
        return None
    return _plain(text, *found)


def _plain(text: str, m: re.Match[str], specs: str) -> PlainRequirement:
    extras = m.group("extras")
    names = frozenset(e.strip(" \t") for e in extras.split(",")) if extras is not None else frozenset()
    return PlainRequirement(text, m.group("name"), names, SpecifierSet(specs))


# Markers in a narrow form too: comparisons of a variable (on the left) with a plain quoted
# literal, joined by "and"/"or", with or without parentheses -- the version variable with a plain
# release number and any of < <= > >= == !=, the others with == or != only. Packaging certainly
# parses them, and evaluates them as ``_marker_holds`` does. A dependency of a distribution
# itself whose marker is certainly false for the target (most platform and old-Python
# backports) is skipped like an extra-only one, without packaging's parser.
_MARKER_TOKEN = re.compile(
    r"[ \t]*(?:(?P<paren>[()])|(?P<bool>and|or)(?=[ \t(])"
    r"|(?P<var>python_version|extra|os_name|sys_platform|platform_system|platform_machine"
    r"|implementation_name|platform_python_implementation)"
    r"[ \t]*(?P<op>[<>]=?|[=!]=)[ \t]*(?P<q>['\"])(?P<value>[A-Za-z0-9._-]*)(?P=q))"
)
_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")

_Marker = list["tuple[str, str, str] | str | _Marker"]  # packaging's shape: atoms, "and", "or"


def _marker_tree(text: str) -> _Marker | None:
    """``text`` (a marker) parsed, if it is in the narrow form; else None."""
    tokens: list[re.Match[str]] = []
    end = len(text.rstrip(" \t"))
    pos = 0
    while pos < end:
        m = _MARKER_TOKEN.match(text, pos, end)
        if m is None:
            return None
        var, op, value = m.group("var", "op", "value")
        if var is None:
            pass
        elif var == "python_version":
            if not _RELEASE.fullmatch(value):
                return None
        elif op not in ("==", "!=") or (var == "extra" and not _NAME_ONLY.fullmatch(value)):
            return None
        tokens.append(m)
        pos = m.end()
    tree, used = _marker_expr(tokens, 0)
    return tree if tree is not None and used == len(tokens) else None


def _marker_expr(tokens: list[re.Match[str]], i: int) -> tuple[_Marker | None, int]:
    """marker_atom (("and" | "or") marker_atom)* from ``tokens[i]``: (tree, next index)."""
    tree: _Marker = []
    while True:
        if i >= len(tokens):
            return None, i
        m = tokens[i]
        if m.group("paren") == "(":
            inner, i = _marker_expr(tokens, i + 1)
            if inner is None or i >= len(tokens) or tokens[i].group("paren") != ")":
                return None, i
            tree.append(inner)
        elif m["var"] is not None:
            tree.append((m["var"], m["op"], m["value"]))
        else:
            return None, i
        i += 1
        if i < len(tokens) and tokens[i].group("bool") is not None:
            tree.append(tokens[i].group("bool"))
            i += 1
        else:
            return tree, i


def _marker_holds(tree: _Marker, env: Mapping[str, str], nested: bool = False) -> bool:
    """What packaging's ``Marker.evaluate`` answers for a narrow marker, given its whole
    environment (its defaults updated with the target's, ``extra`` canonical). As packaging
    does, an ``extra`` literal is normalized only outside parentheses."""
    groups: list[list[bool]] = [[]]
    for item in tree:
        if isinstance(item, list):
            groups[-1].append(_marker_holds(item, env, nested=True))
        elif isinstance(item, tuple):
            var, op, value = item
            if var == "python_version":
                groups[-1].append(Specifier(op + value).contains(env[var], prereleases=True))
            else:
                want = canonicalize_name(value) if var == "extra" and not nested else value
                groups[-1].append((env[var] == want) == (op == "=="))
        elif item == "or":
            groups.append([])
    return any(all(group) for group in groups)


def _marker_verdict(text: str, env: Mapping[str, str]) -> tuple[re.Match[str], str, bool] | None:
    """For a Requires-Dist in the narrow form with a narrow marker: the match and specifiers of
    its requirement (as ``_narrow`` gives them), and whether its marker holds in ``env`` (a whole
    marker environment, as for ``_marker_holds``) without an extra. None for other lines."""
    head, semicolon, marker = text.partition(";")
    found = _narrow(head) if semicolon else None
    tree = _marker_tree(marker) if found is not None else None
    if found is None or tree is None:
        return None
    return found[0], found[1], _marker_holds(tree, env)


def certainly_not_needed(text: str, env: Mapping[str, str]) -> bool:
    """Whether the Requires-Dist ``text`` is certainly valid, and its marker certainly false in
    ``env`` without an extra."""
    verdict = _marker_verdict(text, env)
    return verdict is not None and not verdict[2]


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
        self.requires_python: dict[str, bool] = {}  # Requires-Python text -> target allowed

    # -- input -----------------------------------------------------------------------------

    def applies(self, req: _Req, where: str, extra: str = "") -> bool:
        if req.marker is None:
            return True
        env = dict(self.env)
        env["extra"] = extra
        try:
            return bool(req.marker.evaluate(env))
        except Exception as e:  # the resolver warns (dependencies) or fails (roots)
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
        extras = frozenset(canonicalize_name(e) for e in req.extras)
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
        found = _narrow(text)
        if found is None:
            verdict = _marker_verdict(text, self.marker_env)
            if verdict is None:
                req = self.parse(name, text)
            elif verdict[2]:  # its marker holds: as good as a line without one, here
                req = _plain(text, verdict[0], verdict[1])
            else:
                req = None
        elif found[0].group("marker") is not None:
            req = None
        else:
            req = self.full[text] = _plain(text, *found)
        self.base[text] = req
        return req

    def python_allowed(self, requires_python: str) -> bool:
        allowed = self.requires_python.get(requires_python)
        if allowed is None:
            try:
                spec = SpecifierSet(requires_python)
            except InvalidSpecifier:
                spec = SpecifierSet()  # the resolver ignores what it cannot parse, too
            allowed = spec.contains(self.python_version, prereleases=True)
            self.requires_python[requires_python] = allowed
        return allowed

    def expand_base(self, name: str, version: Version) -> None:
        dist = self.installed[name]
        requires_python = dist.requires_python
        if requires_python and not self.python_allowed(requires_python):
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
        provided = {canonicalize_name(e) for e in dist.provides_extra}
        used: set[str] = set()
        for text in dist.requires_dist:
            req = self.parse(name, text)
            if req.marker is None or self.applies(req, where):
                continue  # a dependency of the distribution itself
            matching = {e for e in extras if self.applies(req, where, e)}
            if matching:
                used |= matching
                self.require(req, parent)
        missing = extras - provided - used
        if missing:
            raise _Unsure(f"{name} does not provide the extra {sorted(missing)[0]!r}")
