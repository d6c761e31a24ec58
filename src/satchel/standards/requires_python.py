"""Requires-Python admission (core metadata, the simple API's ``data-requires-python``).

The rule, as pip applies it: a Requires-Python that does not parse is ignored (it admits every
interpreter); otherwise the interpreter's full version must be in the specifier set, and a
pre-release interpreter counts like any other version (Python 3.13.0rc1 satisfies ``>=3.12``).
The resolver (index files, release metadata, the error messages) and the no-op check use
these functions, so they cannot disagree.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version


@lru_cache(maxsize=4096)
def parse_requires_python(text: str) -> SpecifierSet:
    """``text`` as a specifier set; an empty one (admitting everything) if it does not parse."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return SpecifierSet()


@lru_cache(maxsize=4096)
def admits(requires_python: str, python_version: Version) -> bool:
    """Whether an interpreter of ``python_version`` may use a release that says
    ``Requires-Python: requires_python`` (the module's rule; memoized)."""
    return parse_requires_python(requires_python).contains(python_version, prereleases=True)


def excluding_operators(requires_python: str, python_version: Version) -> frozenset[str] | None:
    """The operators of the clauses of ``requires_python`` that exclude ``python_version``
    (``{">="}``: it is too old); None when ``requires_python`` does not parse."""
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return None
    return frozenset(s.operator for s in spec if not s.contains(python_version, prereleases=True))
