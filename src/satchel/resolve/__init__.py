"""satchel.resolve: pick one distribution per project so all requirements hold.

Entry point: :func:`resolve`. The layer below implements :class:`Finder`.
"""

from __future__ import annotations

from satchel.resolve.finder import CoreMetadata, Finder
from satchel.resolve.options import ResolveOptions
from satchel.resolve.requirements import RootRequirement
from satchel.resolve.resolver import Resolution, ResolvedPackage, resolve

__all__ = [
    "CoreMetadata",
    "Finder",
    "Resolution",
    "ResolveOptions",
    "ResolvedPackage",
    "RootRequirement",
    "resolve",
]
