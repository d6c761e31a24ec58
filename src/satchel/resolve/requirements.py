"""Requirements as the resolver sees them, and the constraints its callers hand it (what the user
asked for is a RootRequirement: resolve/roots.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from satchel.resolve.candidates import (
    PYTHON_IDENTIFIER,
    Candidate,
    DirectCandidate,
    ExtrasCandidate,
    base_of,
    make_identifier,
)
from satchel.resolve.roots import RootRequirement

#: What identifies a specifier set for the resolver's caches: its text and its pre-release
#: flag (the text alone decides which versions it contains).
SpecKey = tuple[str, bool | None]


def specifier_key(specifier: SpecifierSet) -> SpecKey:
    return str(specifier), specifier.prereleases


@dataclass(frozen=True, eq=False)
class SpecifierRequirement:
    """``name[extras] <specifier>``: any candidate of the name whose version matches.

    ``requirement`` is the PEP 508 requirement as written (for messages); ``root`` is set when
    the user asked for it directly. Compared by identity (two equal lines are two reasons).
    """

    name: str
    extras: frozenset[str]
    specifier: SpecifierSet
    requirement: Requirement
    root: RootRequirement | None = None

    @cached_property
    def identifier(self) -> str:
        return make_identifier(self.name, self.extras)

    @property
    def is_pinned(self) -> bool:
        """``==X`` (not a wildcard) or ``===X``: the PEP 592 "exact pin" that may pick yanked."""
        return is_exact_pin(self.specifier)

    @cached_property
    def key(self) -> SpecKey:
        """:func:`specifier_key` of ``specifier`` (computed once: the resolver asks often)."""
        return specifier_key(self.specifier)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.requirement.name}{extras}{self.specifier}"


@dataclass(frozen=True, eq=False)
class ExplicitRequirement:
    """Exactly this candidate: a direct URL, or the base of an extras candidate."""

    candidate: Candidate
    requirement: Requirement | None = None
    root: RootRequirement | None = None

    @property
    def identifier(self) -> str:
        return self.candidate.identifier

    @property
    def name(self) -> str:
        return self.candidate.name

    def __str__(self) -> str:
        base = base_of(self.candidate)
        extras = ""
        if isinstance(self.candidate, ExtrasCandidate):
            extras = f"[{','.join(sorted(self.candidate.extras))}]"
        if isinstance(base, DirectCandidate):
            return f"{base.name}{extras} @ {base.url}"
        return f"{base.name}{extras}=={base.version}"


@dataclass(frozen=True, eq=False)
class RequiresPythonRequirement:
    """A release's metadata Requires-Python, as a requirement on the virtual Python candidate.

    Only emitted when it excludes the target interpreter, so that the release is rejected
    through the resolver's normal conflict handling (and explained).
    """

    specifier: SpecifierSet

    @property
    def identifier(self) -> str:
        return PYTHON_IDENTIFIER

    @property
    def name(self) -> str:
        return PYTHON_IDENTIFIER

    def __str__(self) -> str:
        return f"Python{self.specifier}"


ResolverRequirement = SpecifierRequirement | ExplicitRequirement | RequiresPythonRequirement


def is_exact_pin(specifier: SpecifierSet) -> bool:
    return any(
        s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*"))
        for s in specifier
    )


@dataclass(frozen=True, slots=True)
class Constraint:
    """All constraints on one name, merged: versions must match ``specifier``; when ``url``
    is set the name may only come from that URL. ``sources`` are for messages."""

    name: str
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    url: str | None = None
    sources: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.url:
            return f"{self.name} @ {self.url}"
        return f"{self.name}{self.specifier}"
