"""The install plan: the difference between what is installed and what was resolved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class Installed(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


@dataclass(frozen=True)
class Wanted(Generic[T]):
    """One resolved distribution: ``name`` normalized, ``url`` for direct references (compared
    with the installed PEP 610 direct_url.json), ``item`` whatever the caller needs back."""

    name: str
    version: str
    item: T
    url: str | None = None


@dataclass
class Plan(Generic[T]):
    """What an install does to an environment: distributions to install, to replace, to keep."""
    install: list[Wanted[T]] = field(default_factory=list)
    remove: list[Any] = field(default_factory=list)  # installed distributions to replace
    keep: list[Wanted[T]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.install and not self.remove


def make_plan(
    wanted: Sequence[Wanted[T]],
    installed: Mapping[str, Any],
    *,
    reinstall: bool = False,
    installed_urls: Mapping[str, str | None] | None = None,
) -> Plan[T]:
    """Keep what is installed at the wanted version (and, for direct references, from the same
    URL); replace the rest. ``installed`` maps normalized names to installed distributions."""
    plan: Plan[T] = Plan()
    urls = installed_urls or {}
    for w in wanted:
        have = installed.get(w.name)
        if have is None:
            plan.install.append(w)
            continue
        same = _same_version(have.version, w.version) and (w.url is None or urls.get(w.name) == w.url)
        if same and not reinstall:
            plan.keep.append(w)
        else:
            plan.install.append(w)
            plan.remove.append(have)
    return plan


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b
