"""Extras (PEP 508, PEP 685): normalized like project names, and what an extra adds.

``name[extras]`` depends on ``name`` itself plus every dependency of the release whose marker
is false without an extra and true with one of ``extras`` (pip's rule; a dependency whose
marker holds without an extra belongs to the release itself). An extra that the release
neither declares (Provides-Extra) nor uses in a marker is missing: the resolver warns about
it, the no-op check lets the resolver do so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from typing import Protocol, TypeVar

from packaging.utils import canonicalize_name


class _HasMarker(Protocol):
    @property
    def marker(self) -> object | None: ...


R = TypeVar("R", bound=_HasMarker)


def normalize_extras(extras: Iterable[str]) -> frozenset[str]:
    """PEP 685: extras compare normalized like project names."""
    return frozenset(canonicalize_name(e) for e in extras)


def needed_without_extras(req: R, holds: Callable[[R, str], bool]) -> bool:
    """Whether the dependency ``req`` belongs to the release itself (no marker, or a marker
    that holds without an extra). ``holds(req, extra)``: whether its marker holds."""
    return req.marker is None or holds(req, "")


def extra_dependencies(
    requirements: Iterable[R], extras: AbstractSet[str], holds: Callable[[R, str], bool]
) -> tuple[list[R], frozenset[str]]:
    """The dependencies ``extras`` add to a release whose dependencies are ``requirements``
    (see the module docstring), in their order, and the extras that added any. ``holds(req,
    extra)`` says whether a marker holds for one extra ("" for none)."""
    added: list[R] = []
    used: set[str] = set()
    for req in requirements:
        if needed_without_extras(req, holds):
            continue  # a dependency of the release itself
        matching = {e for e in extras if holds(req, e)}
        if matching:
            used |= matching
            added.append(req)
    return added, frozenset(used)


def missing_extras(
    extras: AbstractSet[str], provided: Iterable[str], used: AbstractSet[str]
) -> list[str]:
    """The requested ``extras`` (normalized) a release neither provides nor uses, sorted."""
    return sorted(extras - normalize_extras(provided) - used)
