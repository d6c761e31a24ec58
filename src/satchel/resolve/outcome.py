"""What a resolution decided: :class:`ResolvedPackage` per project, gathered in a
:class:`Resolution`. Kept apart from the resolver, so that a run that recalls a resolution
(``resolve/remembered.py``) or reads one from a lock file uses these records without importing
the resolver, its provider and resolvelib.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.index.models import IndexFile


@dataclass(frozen=True, slots=True)
class ResolvedPackage:
    """One project of the result and exactly what to install for it.

    Exactly one of these holds: ``file`` is set (install that index file), ``url`` is set
    (a direct reference), or ``installed`` is true (keep the installed distribution).
    ``is_direct``: the user asked for this name (a root requirement). ``requires``: normalized
    names of the dependencies it pulled in (with its ``extras``). ``hashes``: ``--hash`` values
    the download must match (``"algo:hexdigest"``), in addition to ``file.hashes``.
    """

    name: str
    version: Version
    file: IndexFile | None
    url: str | None
    is_direct: bool
    extras: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    installed: bool = False
    hashes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution(Mapping[str, ResolvedPackage]):
    """The result: normalized name -> :class:`ResolvedPackage`, sorted by name.

    The dependency graph is ``roots`` (names the user asked for) plus each package's
    ``requires``; :meth:`dependents` walks it backwards, :meth:`install_order` sorts it.
    """

    packages: Mapping[str, ResolvedPackage]
    roots: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: metadata was asked of a source (an sdist or a direct reference, which may be built),
    #: not only of index wheels and what is installed
    asked_sources: bool = False

    def __getitem__(self, name: str) -> ResolvedPackage:
        return self.packages[canonicalize_name(name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.packages)

    def __len__(self) -> int:
        return len(self.packages)

    def dependents(self, name: str) -> tuple[str, ...]:
        """Names of the packages that require ``name`` (sorted)."""
        name = canonicalize_name(name)
        return tuple(p.name for p in self.packages.values() if name in p.requires)

    def install_order(self) -> tuple[str, ...]:
        """Names with dependencies before their dependents; cycles broken by name."""
        remaining = {
            n: {d for d in p.requires if d in self.packages and d != n}
            for n, p in self.packages.items()
        }
        order: list[str] = []
        while remaining:
            ready = sorted(n for n, deps in remaining.items() if not deps)
            if not ready:  # a cycle: take the first name of it
                ready = [min(remaining)]
            for name in ready:
                del remaining[name]
                order.append(name)
            for deps in remaining.values():
                deps.difference_update(ready)
        return tuple(order)
