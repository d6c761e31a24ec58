"""satchel.resolve: pick one distribution per project so all requirements hold.

Entry point: :func:`resolve`. The layer below implements :class:`Finder`.

The records (:class:`ResolvedPackage`, :class:`Resolution`, :class:`RootRequirement`,
:class:`ResolveOptions`) import without the resolver: ``resolve`` itself, with its provider,
candidates and resolvelib, is imported on first use. A warm install that recalls its resolution
never resolves, and importing the resolver cost it ~15 ms of class definitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from satchel.resolve.finder import CoreMetadata, Finder
from satchel.resolve.options import ResolveOptions
from satchel.resolve.outcome import Resolution, ResolvedPackage
from satchel.resolve.roots import RootRequirement

if TYPE_CHECKING:
    from satchel.resolve.resolver import resolve

__all__ = [
    "CoreMetadata",
    "Finder",
    "Resolution",
    "ResolveOptions",
    "ResolvedPackage",
    "RootRequirement",
    "resolve",
]


def __getattr__(name: str) -> Any:
    if name == "resolve":
        from satchel.resolve.resolver import resolve

        return resolve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
