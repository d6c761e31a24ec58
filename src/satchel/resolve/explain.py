"""Turn resolvelib's failure causes into a message a person can act on.

Three shapes of failure, checked in this order:

* a release needs another Python (its metadata Requires-Python excludes the interpreter);
* one requirement has no candidate at all: the project is not on the index, or no version
  of it is usable (each excluded version says why: Requires-Python, no compatible wheel,
  yanked, ...), or a constraint rules out every version;
* requirements that each work alone conflict: the message names them, shows the chain of
  packages that brought each in (``a>=1 (requirements.txt:1) -> a 1.0 -> b<2``) and the
  versions that exist.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from satchel.errors import ResolutionImpossible
from satchel.resolve.candidates import (
    EXCLUDED_BINARY_ONLY,
    EXCLUDED_HASH,
    EXCLUDED_INCOMPATIBLE_WHEEL,
    EXCLUDED_NO_BINARY,
    EXCLUDED_REQUIRES_PYTHON,
    Candidate,
    DirectCandidate,
    ProjectFiles,
    VersionEntry,
    base_of,
    split_identifier,
)
from satchel.resolve.requirements import (
    Constraint,
    ExplicitRequirement,
    RequiresPythonRequirement,
    ResolverRequirement,
    SpecifierRequirement,
)
from satchel.standards.requires_python import excluding_operators

if TYPE_CHECKING:
    from resolvelib.structs import RequirementInformation, State

    Info = RequirementInformation[ResolverRequirement, Candidate]

#: How many versions to list when saying what exists.
SHOWN_VERSIONS = 5


class ResolutionFacts(Protocol):
    """What the explainer asks about the failed resolution (the resolver's provider answers)."""

    @property
    def python_version(self) -> Version:
        """The target interpreter's version."""
        ...

    @property
    def best_tag(self) -> str:
        """The interpreter's most specific wheel tag (for "it supports e.g. ...")."""
        ...

    def constraint(self, name: str) -> Constraint | None: ...

    def direct_url(self, name: str) -> str | None:
        """The URL ``name`` must come from (a root or constraint ``name @ url``), if any."""
        ...

    def is_installed(self, name: str) -> bool: ...

    def project_files(self, name: str) -> ProjectFiles: ...

    def index_versions(self, name: str, specifier: SpecifierSet) -> list[Version]:
        """Versions the index offers under ``specifier``, best first (the resolver's rules)."""
        ...

    def has_matches(self, requirement: ResolverRequirement) -> bool:
        """Whether ``requirement`` alone (with the constraints) has any candidate."""
        ...

    def requested_by(self, identifier: str) -> Sequence[Info]:
        """Every (requirement, parent) produced for ``identifier`` (parent None: a root)."""
        ...

    def is_satisfied_by(self, requirement: ResolverRequirement, candidate: Candidate) -> bool: ...


def explain_impossible(
    causes: Collection[Info],
    provider: ResolutionFacts,
    state: State[ResolverRequirement, Candidate, str] | None = None,
) -> ResolutionImpossible:
    """The user-facing error for resolvelib's ``ResolutionImpossible(causes)``.

    ``state`` is the resolver's last known state (for the chains of who required what); the
    provider's own record of requirements is used where the state does not tell.
    """
    infos = list({(str(i.requirement), id(i.parent)): i for i in causes}.values())
    chains = _Chains(provider, state)
    python = [i for i in infos if isinstance(i.requirement, RequiresPythonRequirement)]
    others = [i for i in infos if not isinstance(i.requirement, RequiresPythonRequirement)]
    if not others:
        return _wrong_python(python, chains, provider)
    for info in others:
        if not provider.has_matches(info.requirement):
            return _unsatisfiable(info, chains, provider)
    return _conflict(others, python, chains, provider)


# -- the three shapes ------------------------------------------------------------------------


def _wrong_python(
    infos: list[Info], chains: _Chains, provider: ResolutionFacts
) -> ResolutionImpossible:
    parents = _unique(str(i.parent) for i in infos if i.parent is not None)
    names = _unique(i.parent.name for i in infos if i.parent is not None)
    first = (
        f"Cannot install {_join(parents)} because "
        f"{'it requires' if len(parents) == 1 else 'they require'} a different Python "
        f"(the target interpreter is Python {provider.python_version})."
    )
    lines = [f"  {chains.line(i)}" for i in infos]
    specs = [
        str(i.requirement.specifier)
        for i in infos
        if isinstance(i.requirement, RequiresPythonRequirement)
    ]
    direction = _python_direction(specs, provider.python_version)
    interpreter = {"newer": "a newer interpreter", "older": "an older interpreter"}.get(
        direction or "", "an interpreter"
    )
    versions = "older versions" if direction == "newer" else "other versions"
    hint = (
        f"Use {interpreter} that satisfies these Requires-Python ranges, or require "
        f"{versions} of {_join(names)} that support Python {provider.python_version}."
    )
    return ResolutionImpossible("\n".join([first, *lines]), hint=hint)


def _unsatisfiable(info: Info, chains: _Chains, provider: ResolutionFacts) -> ResolutionImpossible:
    req = info.requirement
    name = split_identifier(req.identifier)[0]
    display = _display_name(req)
    via = f" (required by {info.parent})" if info.parent is not None else ""
    constraint = provider.constraint(name)
    chain = f"  {chains.line(info)}"

    if (
        isinstance(req, SpecifierRequirement)
        and provider.direct_url(name) is None
        and not provider.is_installed(name)
        and provider.project_files(name).file_count == 0
    ):
        first = f"No package named '{display}' on the index{via}."
        return ResolutionImpossible(
            first if info.parent is None else f"{first}\n{chain}",
            hint=f"Check the spelling of '{display}'; if it is on another index, "
            "pass --index-url or --extra-index-url.",
        )

    if constraint is not None and _matches_without_constraint(req, provider):
        sources = ", ".join(constraint.sources)
        lines = [chain, f"  constraint: {constraint} ({sources})"]
        if isinstance(req, SpecifierRequirement) and provider.direct_url(name) is None:
            lines.append(
                _versions_line(name, [str(req.specifier), str(constraint.specifier)], provider)
            )
        return ResolutionImpossible(
            "\n".join(
                [
                    f"Cannot install {req}{via} because it conflicts with the constraint {constraint}.",
                    *lines,
                ]
            ),
            hint="Relax the requirement or the constraint.",
        )

    if not isinstance(req, SpecifierRequirement):
        return ResolutionImpossible(f"Cannot install {req}{via}.\n{chain}", hint=None)

    specifier = req.specifier
    entries = provider.project_files(name).entries
    matching = [e for e in entries if specifier.contains(e.version, prereleases=True)]
    unusable = [(e, _why_unusable(e)) for e in matching]
    unusable = [(e, why) for e, why in unusable if why]
    lines = [chain]
    if unusable:
        which = f"matching {req}" if str(specifier) else f"of {display}"
        lines.append(f"  versions {which} that cannot be used:")
        lines.extend(f"    {e.version}: {'; '.join(why)}" for e, why in unusable[:SHOWN_VERSIONS])
    available = provider.index_versions(name, SpecifierSet())
    if available:
        lines.append(
            f"  newest versions of {display}: {', '.join(map(str, available[:SHOWN_VERSIONS]))}"
        )
    else:
        # Nothing usable at all: say why the versions outside the specifier cannot be used
        # either, rather than suggesting the index has no files.
        others = [(e, why) for e in entries if e not in matching and (why := _why_unusable(e))]
        if others:
            lines.append(
                f"  no release of {display} matches {specifier}, and these cannot be used:"
                if not matching
                else f"  other versions of {display} cannot be used either:"
            )
            lines.extend(f"    {e.version}: {'; '.join(why)}" for e, why in others[:SHOWN_VERSIONS])
            unusable = unusable or others
        elif not unusable:
            lines.append(f"  the index lists no file of {display} that this interpreter can use")
    if str(specifier):
        first = f"No version of {display} satisfies {req}{via}."
    else:
        first = f"No version of {display} can be installed{via}."
    return ResolutionImpossible(
        "\n".join([first, *lines]),
        hint=_unusable_hint(display, unusable, available, provider),
    )


def _conflict(
    infos: list[Info], python: list[Info], chains: _Chains, provider: ResolutionFacts
) -> ResolutionImpossible:
    reqs = _unique(str(i.requirement) for i in infos)
    if len(reqs) == 1:
        first = (
            f"Cannot install {reqs[0]} because every version of it that was tried "
            "conflicts with other requirements."
        )
    else:
        first = f"Cannot install {_join(reqs)} because these requirements conflict."
    lines = [f"  {chains.line(i)}" for i in [*infos, *python]]

    groups: dict[str, list[ResolverRequirement]] = {}
    for info in infos:
        groups.setdefault(split_identifier(info.requirement.identifier)[0], []).append(
            info.requirement
        )
    for name, group in groups.items():
        constraint = provider.constraint(name)
        if constraint is not None:
            lines.append(f"  constraint: {constraint} ({', '.join(constraint.sources)})")
        urls = _unique(
            base.url
            for r in group
            if isinstance(r, ExplicitRequirement)
            and isinstance(base := base_of(r.candidate), DirectCandidate)
        )
        if len(urls) > 1:
            lines.append(
                f"  {name}: requested from {len(urls)} different URLs; only one can be installed"
            )
            continue
        if urls or provider.direct_url(name) is not None:
            url = urls[0] if urls else provider.direct_url(name)
            specs = _unique(str(r.specifier) for r in group if isinstance(r, SpecifierRequirement))
            lines.append(
                f"  {name}: only {url} may be used; its version does not satisfy {', '.join(specs)}"
            )
            continue
        specs = _unique(_spec_text(r) for r in group)
        if constraint is not None and str(constraint.specifier):
            specs = _unique([*specs, str(constraint.specifier)])
        lines.append(_versions_line(name, specs, provider))

    parents = _unique(str(i.parent.name) for i in infos if i.parent is not None)
    if parents:
        hint = (
            f"Relax one of these requirements, or require other versions of {_join(parents)} "
            "(their dependencies are what conflicts)."
        )
    else:
        hint = "Relax one of these requirements; they cannot all hold at once."
    return ResolutionImpossible("\n".join([first, *lines]), hint=hint)


# -- pieces ----------------------------------------------------------------------------------


class _Chains:
    """Who required what: from the resolver's last state, else the provider's records."""

    def __init__(
        self, provider: ResolutionFacts, state: State[ResolverRequirement, Candidate, str] | None
    ) -> None:
        self._provider = provider
        self._criteria = state.criteria if state is not None else {}
        self._pinned = {id(c) for c in state.mapping.values()} if state is not None else set()

    def line(self, info: Info) -> str:
        """``root requirement (source) -> pkg 1.0 -> ... -> requirement``."""
        if info.parent is None:
            return _root_label(info.requirement)
        return " -> ".join([*self._steps_to(info.parent), str(info.requirement)])

    def _steps_to(self, candidate: Candidate) -> list[str]:
        steps: list[str] = []
        seen: set[str] = set()
        current: Candidate | None = candidate
        while current is not None:
            steps.append(str(current))
            identifier = current.identifier
            if identifier in seen:
                break
            seen.add(identifier)
            infos = self._infos(identifier, current)
            root = next((i for i in infos if i.parent is None), None)
            if root is not None:
                steps.append(_root_label(root.requirement))
                break
            pinned = [i for i in infos if id(i.parent) in self._pinned]
            choices = pinned or infos
            current = choices[0].parent if choices else None
        return list(reversed(steps))

    def _infos(self, identifier: str, candidate: Candidate) -> list[Info]:
        criterion = self._criteria.get(identifier)
        infos = list(criterion.information) if criterion is not None else []
        if not infos:
            infos = list(self._provider.requested_by(identifier))
        satisfied = [i for i in infos if self._provider.is_satisfied_by(i.requirement, candidate)]
        return satisfied or infos


def _root_label(req: ResolverRequirement) -> str:
    root = getattr(req, "root", None)
    source = root.source if root is not None and root.source else "requested"
    return f"{req} ({source})"


def _display_name(req: ResolverRequirement) -> str:
    if isinstance(req, SpecifierRequirement):
        return req.requirement.name
    return req.name


def _spec_text(req: ResolverRequirement) -> str:
    if isinstance(req, SpecifierRequirement):
        return str(req.specifier) or "any version"
    if isinstance(req, ExplicitRequirement):
        base = base_of(req.candidate)
        if isinstance(base, DirectCandidate):
            return f"@ {base.url}"
        return f"=={base.version}"
    return str(req)


def _versions_line(name: str, specs: Sequence[str], provider: ResolutionFacts) -> str:
    versions = sorted(provider.index_versions(name, SpecifierSet()))
    if not versions:
        return f"  {name}: the index lists no version this interpreter can use"
    if len(specs) == 1:
        which = f"satisfies {specs[0]}"
    elif len(specs) == 2:
        which = f"satisfies both {specs[0]} and {specs[1]}"
    else:
        which = f"satisfies all of {', '.join(specs)}"
    return f"  {name}: available versions {_abbreviate(versions)}; none {which}"


def _abbreviate(versions: Sequence[Version]) -> str:
    shown = [str(v) for v in versions]
    if len(shown) > 8:
        shown = [*shown[:2], "...", *shown[-4:]]
    return ", ".join(shown)


def _matches_without_constraint(req: ResolverRequirement, provider: ResolutionFacts) -> bool:
    if isinstance(req, SpecifierRequirement):
        return any(
            req.specifier.contains(v, prereleases=True)
            for v in provider.index_versions(req.name, SpecifierSet())
        )
    return isinstance(req, ExplicitRequirement)


def _why_unusable(entry: VersionEntry) -> list[str]:
    if entry.file is not None:
        return []
    reasons = [str(x) for x in entry.excluded]
    if entry.yanked_file is not None:
        reason = f" ({entry.yanked_file.yanked})" if entry.yanked_file.yanked else ""
        reasons.insert(0, f"yanked{reason}")
    return reasons or ["no installable file"]


def _unusable_hint(
    display: str,
    unusable: list[tuple[VersionEntry, list[str]]],
    available: Sequence[Version],
    provider: ResolutionFacts,
) -> str:
    if not unusable:
        if available:
            return (
                f"Relax the requirement; the newest usable version of {display} is {available[0]}."
            )
        return f"The index has no file of {display} for this interpreter."
    entry = unusable[0][0]
    kinds = {x.kind for x in entry.excluded}
    release = f"{display} {entry.version}"
    if entry.yanked_file is not None:
        return (
            f"{release} was yanked; pin it exactly ({display}=={entry.version}) to use it anyway."
        )
    if EXCLUDED_REQUIRES_PYTHON in kinds:
        reason = next(x for x in entry.excluded if x.kind == EXCLUDED_REQUIRES_PYTHON)
        direction = _python_direction([reason.requires_python or ""], provider.python_version)
        if direction == "newer":
            advice = f"use a newer Python or require an older {display}"
        elif direction == "older":
            advice = f"use an older Python or require another version of {display}"
        else:
            advice = f"use a Python it supports or require another version of {display}"
        return (
            f"{release} {reason} but the target interpreter is Python {provider.python_version}; "
            f"{advice}."
        )
    if EXCLUDED_BINARY_ONLY in kinds:
        return f"{release} only has a source distribution; allow building it (drop --only-binary for {display})."
    if EXCLUDED_NO_BINARY in kinds:
        return f"{release} only has wheels; allow them (drop --no-binary for {display})."
    if EXCLUDED_INCOMPATIBLE_WHEEL in kinds:
        return (
            f"{release} has no wheel for this interpreter (it supports e.g. {provider.best_tag}) "
            "and no source distribution; use another interpreter or version."
        )
    if EXCLUDED_HASH in kinds:
        return f"No file of {release} matches the --hash values given for {display}; update them."
    return f"Require another version of {display}."


def _python_direction(specifiers: Iterable[str], python: Version) -> str | None:
    """``"newer"`` when only lower bounds (``>``, ``>=``) of these Requires-Python ranges exclude
    ``python``, ``"older"`` when only upper bounds (``<``, ``<=``) do, else None."""
    failing: set[str] = set()
    for text in specifiers:
        excluding = excluding_operators(text, python)
        if excluding is None:
            return None
        failing |= excluding
    if failing and failing <= {">", ">="}:
        return "newer"
    if failing and failing <= {"<", "<="}:
        return "older"
    return None


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
