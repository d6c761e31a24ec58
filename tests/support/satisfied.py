"""A fake installed set and the checks of ``install.satisfied.check`` against the real resolver
(moved from tests/unit/test_install_satisfied.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.errors import SatchelError
from satchel.install.satisfied import Outcome, check
from satchel.resolve import CoreMetadata
from tests.support.resolve_fakes import MARKERS, FakeFinder

PYTHON = "3.11.7"  # MARKERS' python_full_version


INDEX_VERSIONS = ("0.5", "1.0", "1.5", "2.0", "3.0rc1", "99.0")


@dataclass
class Dist:
    """An installed distribution, as ``check`` sees one (``InstalledDist``'s interface)."""

    name: str
    version: str
    requires_dist: list[str] = field(default_factory=list)
    requires_python: str | None = None
    provides_extra: list[str] = field(default_factory=list)
    metadata_name: str | None = None

    @property
    def display_name(self) -> str:
        return self.metadata_name or self.name


def installed(*dists: Dist) -> dict[str, Dist]:
    return {canonicalize_name(d.name): d for d in dists}


def names_in(texts: list[str]) -> set[str]:
    out = set()
    for text in texts:
        m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", text)
        if m:
            out.add(canonicalize_name(m.group(0).rstrip("._-")))
    return out


def both(
    dists: list[Dist],
    roots: list[str],
    *,
    constraints: list[str] = (),  # type: ignore[assignment]
    no_deps: bool = False,
) -> tuple[Outcome, tuple[str, ...] | None]:
    """``check``'s answer, and the names the resolver keeps when it keeps exactly what is
    installed (None when it picks anything from the index, warns or fails)."""
    have = installed(*dists)
    outcome = check(
        [Requirement(r) for r in roots],
        have,
        MARKERS,
        PYTHON,
        constraints=[Requirement(c) for c in constraints],
        no_deps=no_deps,
    )
    finder = FakeFinder()
    mentioned = names_in(roots) | names_in(list(constraints)) | set(have)
    for d in dists:
        mentioned |= names_in(d.requires_dist)
    for name in sorted(mentioned):
        for version in INDEX_VERSIONS:
            finder.add(name, version)
    for name, d in have.items():
        finder.installed[name] = CoreMetadata(
            name=d.display_name,
            version=Version(d.version),
            requires_dist=tuple(d.requires_dist),
            requires_python=d.requires_python,
            provides_extra=tuple(d.provides_extra),
        )
    try:
        resolution = finder.resolve(*roots, constraints=constraints, no_deps=no_deps)
    except SatchelError:  # no solution, or a root's marker it cannot evaluate
        return outcome, None
    kept = all(p.installed for p in resolution.values()) and not resolution.warnings
    return outcome, tuple(sorted(resolution)) if kept else None


def assert_satisfied(dists: list[Dist], roots: list[str], expected: tuple[str, ...], **kw: object) -> None:
    outcome, kept = both(dists, roots, **kw)  # type: ignore[arg-type]
    assert outcome.satisfied, outcome.reason
    assert outcome.names == expected
    assert kept == expected, "the resolver does not keep exactly the installed set"
    have = installed(*dists)
    assert outcome.versions == tuple(str(Version(have[n].version)) for n in expected)


def assert_not_satisfied(dists: list[Dist], roots: list[str], reason: str, **kw: object) -> None:
    outcome, kept = both(dists, roots, **kw)  # type: ignore[arg-type]
    assert not outcome.satisfied
    assert reason in outcome.reason, outcome.reason
    assert kept is None, f"the resolver keeps the installed {kept}: the check was too strict"


def spy_on_parsing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requirement texts ``satisfied`` hands to packaging's parser from now on."""
    import satchel.install.satisfied as satisfied

    parsed: list[str] = []
    real = satisfied.Requirement

    def spy(text: str) -> Requirement:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(satisfied, "Requirement", spy)
    return parsed
