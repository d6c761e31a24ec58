"""The narrow fast parser: Requires-Dist lines and markers in forms strictly narrower than
PEP 508, read without packaging's general parser (the no-op check's hot path, and what keeps
packaging's parser out of start-up there).

A shortcut around a library: everything here answers exactly what packaging would for the
texts it accepts, and gives up (None) on anything else, which then goes to packaging.
``tests/unit/test_standards_narrow.py`` checks that against packaging on random texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from satchel.standards.versions import (
    NarrowSpecifier,
    canonical_name,
    parse_specifier,
    parse_specifiers,
    parse_version,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

# Requires-Dist lines in a form strictly narrower than PEP 508 -- simple names, plain PEP 440
# versions, and either no marker or only ``extra == "x"`` -- which packaging certainly parses,
# to the same name, extras and specifiers, and whose marker (if any) is certainly false without
# that extra and cannot fail to evaluate. Most Requires-Dist lines are like that: the check
# skips the extra-only ones unparsed (unless that extra is wanted) and reads the plain ones
# without packaging's (much slower) general parser; everything else goes to packaging.
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_NARROW_PATTERN = (
    rf"(?P<name>{_NAME})(?:[ \t]*\[(?P<extras>[^\]]*)\])?[ \t]*(?P<specs>\([^()]*\)|[^;()]*?)"
    rf"[ \t]*(?P<marker>;[ \t]*extra[ \t]*==[ \t]*(?:'{_NAME}'|\"{_NAME}\")[ \t]*)?"
)
_NAME_ONLY = re.compile(_NAME)
_SUFFIX = r"(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
_SPEC_PATTERN = (
    rf"(?:==|!=)[ \t]*[0-9]+(?:\.[0-9]+)*(?:\.\*|{_SUFFIX})"
    rf"|~=[ \t]*[0-9]+(?:\.[0-9]+)+{_SUFFIX}"
    rf"|(?:<=|>=|<|>)[ \t]*[0-9]+(?:\.[0-9]+)*{_SUFFIX}"
)
# (compiled when first used: the plain no-op install reads requirements with narrow_requirement)
_compiled: dict[str, re.Pattern[str]] = {}


def _pattern(pattern: str) -> re.Pattern[str]:
    compiled = _compiled.get(pattern)
    if compiled is None:
        compiled = _compiled[pattern] = re.compile(pattern)
    return compiled


class PlainRequirement:
    """A marker-less Requires-Dist in the narrow form: what ``Requirement`` would make of it."""

    __slots__ = ("extras", "name", "specifier", "text")
    url = None
    marker = None

    def __init__(self, text: str, name: str, extras: frozenset[str], specifier: SpecifierSet) -> None:
        self.text = text
        self.name = name
        self.extras = extras
        self.specifier = specifier

    def __str__(self) -> str:
        return self.text


def narrow_match(text: str) -> tuple[re.Match[str], str] | None:
    """The match and the specifier text (without parentheses) of ``text`` in the narrow form."""
    m = _pattern(_NARROW_PATTERN).fullmatch(text)
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
    spec = _pattern(_SPEC_PATTERN)
    if specs and not all(spec.fullmatch(s.strip(" \t")) for s in specs.split(",")):
        return None
    return m, specs


def is_extra_only(text: str) -> bool:
    """Whether the Requires-Dist ``text`` is certainly valid and needed only by an extra."""
    found = narrow_match(text)
    return found is not None and found[0].group("marker") is not None


def plain_requirement(text: str) -> PlainRequirement | None:
    """``text`` read without packaging's parser, if it is a marker-less line in the narrow form
    (then ``Requirement(text)`` has the same name, extras and specifier, and no marker)."""
    found = narrow_match(text)
    if found is None or found[0].group("marker") is not None:
        return None
    return plain_from_match(text, *found)


def plain_from_match(text: str, m: re.Match[str], specs: str) -> PlainRequirement:
    from packaging.specifiers import SpecifierSet

    extras = m.group("extras")
    names = frozenset(e.strip(" \t") for e in extras.split(",")) if extras is not None else frozenset()
    return PlainRequirement(text, m.group("name"), names, SpecifierSet(specs))


# Markers in a narrow form too: comparisons of a variable (on the left) with a plain quoted
# literal, joined by "and"/"or", with or without parentheses -- the version variable with a plain
# release number and any of < <= > >= == !=, the others with == or != only. Packaging certainly
# parses them, and evaluates them as ``narrow_marker_holds`` does. A dependency of a distribution
# itself whose marker is certainly false for the target (most platform and old-Python
# backports) is skipped like an extra-only one, without packaging's parser.
_MARKER_TOKEN = re.compile(
    r"[ \t]*(?:(?P<paren>[()])|(?P<bool>and|or)(?=[ \t(])"
    r"|(?P<var>python_version|python_full_version|extra|os_name|sys_platform|platform_system|platform_machine"
    r"|implementation_name|platform_python_implementation)"
    r"[ \t]*(?P<op>[<>]=?|[=!]=)[ \t]*(?P<q>['\"])(?P<value>[A-Za-z0-9._-]*)(?P=q))"
)
_RELEASE = re.compile(r"[0-9]+(?:\.[0-9]+)*")

MarkerTree = list["tuple[str, str, str] | str | MarkerTree"]  # packaging's shape: atoms, "and", "or"


def marker_tree(text: str) -> MarkerTree | None:
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
        elif var == "python_version" or var == "python_full_version":
            if not _RELEASE.fullmatch(value):
                return None
        elif op not in ("==", "!=") or (var == "extra" and not _NAME_ONLY.fullmatch(value)):
            return None
        tokens.append(m)
        pos = m.end()
    tree, used = _marker_expr(tokens, 0)
    return tree if tree is not None and used == len(tokens) else None


def _marker_expr(tokens: list[re.Match[str]], i: int) -> tuple[MarkerTree | None, int]:
    """marker_atom (("and" | "or") marker_atom)* from ``tokens[i]``: (tree, next index)."""
    tree: MarkerTree = []
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


def narrow_marker_holds(tree: MarkerTree, env: Mapping[str, str], nested: bool = False) -> bool:
    """What packaging's ``Marker.evaluate`` answers for a narrow marker, given its whole
    environment (its defaults updated with the target's, ``extra`` canonical). As packaging
    does, an ``extra`` literal is normalized only outside parentheses."""
    groups: list[list[bool]] = [[]]
    for item in tree:
        if isinstance(item, list):
            groups[-1].append(narrow_marker_holds(item, env, nested=True))
        elif isinstance(item, tuple):
            var, op, value = item
            if var == "python_version":
                groups[-1].append(_python_version_holds(op, value, env[var]))
            elif var == "python_full_version":
                full = env[var]
                if full.endswith("+"):  # packaging's repair of a non-tagged build's version
                    full += "local"
                groups[-1].append(_python_version_holds(op, value, full))
            else:
                want = canonical_name(value) if var == "extra" and not nested else value
                groups[-1].append((env[var] == want) == (op == "=="))
        elif item == "or":
            groups.append([])
    return any(all(group) for group in groups)


def _python_version_holds(op: str, value: str, python_version: str) -> bool:
    """``Specifier(op + value).contains(python_version, prereleases=True)``, as packaging
    evaluates the comparison; through packaging only outside the narrow form."""
    spec = parse_specifier(op + value)
    version = parse_version(python_version)
    if spec is not None and version is not None:
        return spec.contains(version)
    from packaging.specifiers import Specifier

    return Specifier(op + value).contains(python_version, prereleases=True)


def marker_verdict(text: str, env: Mapping[str, str]) -> tuple[re.Match[str], str, bool] | None:
    """For a Requires-Dist in the narrow form with a narrow marker: the match and specifiers of
    its requirement (as ``narrow_match`` gives them), and whether its marker holds in ``env`` (a whole
    marker environment, as for ``narrow_marker_holds``) without an extra. None for other lines."""
    head, semicolon, marker = text.partition(";")
    found = narrow_match(head) if semicolon else None
    tree = marker_tree(marker) if found is not None else None
    if found is None or tree is None:
        return None
    return found[0], found[1], narrow_marker_holds(tree, env)


def certainly_not_needed(text: str, env: Mapping[str, str]) -> bool:
    """Whether the Requires-Dist ``text`` is certainly valid, and its marker certainly false in
    ``env`` without an extra."""
    verdict = marker_verdict(text, env)
    return verdict is not None and not verdict[2]


class NarrowRequirement:
    """A requirement in the narrow form, read without packaging: what ``Requirement(text)``
    has, with the name and extras canonical, the specifiers narrow and the marker as a tree."""

    __slots__ = ("extras", "marker", "name", "specifiers", "text")

    def __init__(
        self,
        text: str,
        name: str,
        extras: frozenset[str],
        specifiers: list[NarrowSpecifier],
        marker: MarkerTree | None,
    ) -> None:
        self.text = text
        self.name = name
        self.extras = extras
        self.specifiers = specifiers
        self.marker = marker

    def holds(self, env: Mapping[str, str], extra: str) -> bool:
        """Whether its marker holds in the whole marker environment ``env`` (every variable the
        narrow form knows) with ``extra`` (canonical; "" for none)."""
        if self.marker is None:
            return True
        return narrow_marker_holds(self.marker, {**env, "extra": extra})

    def __str__(self) -> str:
        return self.text


def narrow_requirement(text: str) -> NarrowRequirement | None:
    """``text`` (a PEP 508 requirement: Requires-Dist, or a line of a requirements file) in the
    narrow form -- a simple name, extras, narrow specifiers (``satchel.standards.versions``) with
    or without parentheses, a narrow marker -- else None (then packaging must parse it)."""
    head, semicolon, marker_text = text.partition(";")
    m = _HEAD.fullmatch(head)
    if m is None:
        return None
    extras_text = m.group("extras")
    extras: frozenset[str] = frozenset()
    if extras_text is not None:
        names = [e.strip(" \t") for e in extras_text.split(",")]
        if not all(_NAME_ONLY.fullmatch(e) for e in names):
            return None
        extras = frozenset(canonical_name(e) for e in names)
    specs_text = m.group("specs")
    if specs_text.startswith("("):
        specs_text = specs_text[1:-1]
        if not specs_text.strip(" \t"):
            return None
    specifiers = parse_specifiers(specs_text)
    if specifiers is None:
        return None
    marker: MarkerTree | None = None
    if semicolon:
        marker = marker_tree(marker_text)
        if marker is None:
            return None
    return NarrowRequirement(text, canonical_name(m.group("name")), extras, specifiers, marker)


_HEAD = re.compile(
    rf"[ \t]*(?P<name>{_NAME})(?:[ \t]*\[(?P<extras>[^\]]*)\])?[ \t]*(?P<specs>\([^()]*\)|[^;()]*?)[ \t]*"
)
