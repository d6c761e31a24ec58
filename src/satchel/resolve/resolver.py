"""Resolve root requirements to one exact distribution per project."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence

import resolvelib
from resolvelib.resolvers import Criterion
from resolvelib.resolvers import Resolution as Resolution_
from resolvelib.structs import State

from satchel.errors import ResolutionImpossible, SatchelError
from satchel.python.interpreter import Interpreter
from satchel.resolve.candidates import (
    PYTHON_IDENTIFIER,
    Candidate,
    DirectCandidate,
    ExtrasCandidate,
    IndexCandidate,
    InstalledCandidate,
    PythonCandidate,
    split_identifier,
)
from satchel.resolve.explain import explain_impossible
from satchel.resolve.finder import Finder
from satchel.resolve.options import ResolveOptions
from satchel.resolve.outcome import Resolution, ResolvedPackage
from satchel.resolve.provider import SatchelProvider
from satchel.resolve.requirements import Constraint, ResolverRequirement, RootRequirement
from satchel.standards.digests import normalize_hash
from satchel.standards.markers import MarkerUndefined, marker_holds


def resolve(
    roots: Sequence[RootRequirement],
    *,
    finder: Finder,
    interpreter: Interpreter,
    constraints: Sequence[RootRequirement] = (),
    options: ResolveOptions | None = None,
) -> Resolution:
    """Pick one candidate per project so that every requirement holds.

    Roots and constraints whose markers do not apply to ``interpreter`` are ignored.
    Constraints restrict versions (or, with a URL, where a name comes from) but never add
    packages. Raises :class:`satchel.errors.ResolutionImpossible` with an explanation when
    no solution exists, and propagates the finder's errors (index unreachable, ...).
    """
    options = options or ResolveOptions()
    env = dict(interpreter.markers)
    active = [r for r in roots if _applies(r, env)]
    active_constraints = [c for c in constraints if _applies(c, env)]
    merged = _merge_constraints(active_constraints)
    direct_urls: dict[str, str] = {n: c.url for n, c in merged.items() if c.url}
    for root in active:
        url = root.direct_url
        if url:
            direct_urls.setdefault(root.name, url)
    root_names = frozenset(r.name for r in active)
    hashes = _merge_hashes([*active, *active_constraints])

    def provider(learn: bool) -> SatchelProvider:
        return SatchelProvider(
            finder=finder,
            interpreter=interpreter,
            options=options,
            constraints=merged,
            direct_urls=direct_urls,
            root_names=root_names,
            hashes=hashes,
            learn=learn,
        )

    learning = provider(learn=True)
    try:
        state = _run(learning, active, options)
        chosen = learning
    except ResolutionImpossible:
        if not learning.conflicts.skipped:
            raise
        # Skipping impossible candidates changes the causes resolvelib backjumps on, and its
        # backjumping is not complete: what fails that way is decided by plain resolvelib.
        chosen = provider(learn=False)
        state = _run(chosen, active, options)
    resolution = _build_resolution(_connected_pins(state), chosen, root_names)
    if learning.asked_sources or chosen.asked_sources:
        resolution = dataclasses.replace(resolution, asked_sources=True)
    return resolution


def _run(
    provider: SatchelProvider, active: Sequence[RootRequirement], options: ResolveOptions
) -> State[ResolverRequirement, Candidate, str]:
    for name in sorted({r.name for r in active}):
        provider.prefetch_project(name)
    requirements = [provider.root_requirement(r) for r in active]

    reporter = _Reporter(provider)
    # resolvelib's Resolver.resolve is this plus its _build_result, whose recursive walk never
    # ends on a cycle the backtracking cut off from the roots (``e`` requires ``e[x]``, which
    # requires ``e``, both left pinned but no longer required by anything): _connected_pins.
    resolution: Resolution_[ResolverRequirement, Candidate, str] = Resolution_(provider, reporter)
    try:
        return resolution.resolve(requirements, max_rounds=options.max_rounds)
    except resolvelib.ResolutionImpossible as e:
        raise explain_impossible(e.causes, provider, reporter.state) from e
    except resolvelib.ResolutionTooDeep as e:
        rejections = reporter.rejections_by_name()
        stuck = ", ".join(f"{n} ({c} rejected)" for n, c in rejections.most_common(3))
        raise ResolutionImpossible(
            f"Gave up resolving after {e.round_count} rounds of backtracking.",
            hint=(f"The resolver kept backtracking on {stuck}. " if stuck else "")
            + "Narrow the search by pinning these packages (e.g. in a constraints file).",
        ) from e
    finally:
        provider.finish()  # no more fetching ahead


class _Reporter(resolvelib.BaseReporter[ResolverRequirement, Candidate, str]):
    """Keeps the latest state (to explain failures), counts rejections per name, and tells
    the provider's conflict learner of rejections that only the roots took part in."""

    def __init__(self, provider: SatchelProvider) -> None:
        self.state: State[ResolverRequirement, Candidate, str] | None = None
        self.rejections: Counter[str] = Counter()  # by identifier (cheap: a hot path)
        self._conflicts = provider.conflicts

    def ending_round(self, index: int, state: State[ResolverRequirement, Candidate, str]) -> None:
        self.state = state

    def rejecting_candidate(
        self, criterion: Criterion[ResolverRequirement, Candidate], candidate: Candidate
    ) -> None:
        self.rejections[candidate.identifier] += 1
        # The requirement that failed is the candidate's; if the others on that name came from
        # the roots alone, the conflict may hold in every state (resolve/conflicts.py).
        infos = list(criterion.information)
        if infos and all(i.parent is None or i.parent == candidate for i in infos):
            self._conflicts.rejected(candidate, infos[-1].requirement.identifier)

    def rejections_by_name(self) -> Counter[str]:
        """Rejections per project name (extras counted with their project)."""
        by_name: Counter[str] = Counter()
        for identifier, count in self.rejections.items():
            by_name[split_identifier(identifier)[0]] += count
        return by_name


def _applies(root: RootRequirement, env: dict[str, str]) -> bool:
    """Whether the marker of a root requirement or constraint holds for the target. One that
    cannot be evaluated is an error (the policy of :mod:`satchel.standards.markers`)."""
    marker = root.requirement.marker
    if marker is None:
        return True
    try:
        return marker_holds(marker, env)
    except MarkerUndefined as e:
        where = f" ({root.source})" if root.source else ""
        raise SatchelError(
            f"cannot evaluate the marker of '{root.requirement}'{where} for the target: {e}",
            hint="fix the marker: compare versions with version-like values, and use only "
            "the PEP 508 environment markers",
        ) from None


def _merge_constraints(constraints: Sequence[RootRequirement]) -> dict[str, Constraint]:
    merged: dict[str, Constraint] = {}
    for c in constraints:
        req = c.requirement
        if req.extras:
            raise ResolutionImpossible(
                f"The constraint {req} ({c.source or 'constraints'}) names extras; "
                "constraints can only restrict versions.",
                hint="Drop the [extras] from the constraint, or move it to a requirements file.",
            )
        name = c.name
        previous = merged.get(name) or Constraint(name)
        url = c.direct_url
        if url and previous.url and url != previous.url:
            raise ResolutionImpossible(
                f"Conflicting constraints for {name}: {previous.url} and {url}.",
                hint="Keep one URL constraint per package.",
            )
        merged[name] = Constraint(
            name=name,
            specifier=previous.specifier & req.specifier,
            url=url or previous.url,
            sources=(*previous.sources, c.source or str(req)),
        )
    return merged


def _merge_hashes(requirements: Sequence[RootRequirement]) -> dict[str, frozenset[str]]:
    """Allowed ``algo:digest`` per name; several sources for one name intersect (like pip)."""
    merged: dict[str, frozenset[str]] = {}
    for r in requirements:
        if not r.hashes:
            continue
        hashes = frozenset(normalize_hash(h) for h in r.hashes)
        merged[r.name] = merged[r.name] & hashes if r.name in merged else hashes
    return merged


def _connected_pins(state: State[ResolverRequirement, Candidate, str]) -> dict[str, Candidate]:
    """The pins of the final state that the roots still lead to (what resolvelib's
    ``_build_result`` keeps), found without recursion."""
    key_of: dict[int, str | None] = {id(c): k for k, c in state.mapping.items()}
    key_of[id(None)] = None
    children: dict[str | None, list[str]] = {}
    for key, criterion in state.criteria.items():
        for parent in criterion.iter_parent():
            if id(parent) in key_of:
                children.setdefault(key_of[id(parent)], []).append(key)
    connected: set[str | None] = {None}
    todo: list[str | None] = [None]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in connected:
                connected.add(child)
                todo.append(child)
    return {k: c for k, c in state.mapping.items() if k in connected}


def _build_resolution(
    mapping: Mapping[str, Candidate],
    provider: SatchelProvider,
    root_names: frozenset[str],
) -> Resolution:
    bases: dict[str, Candidate] = {}
    extras: dict[str, set[str]] = {}
    requires: dict[str, set[str]] = {}
    for candidate in mapping.values():
        if isinstance(candidate, PythonCandidate):
            continue
        name = candidate.name
        if isinstance(candidate, ExtrasCandidate):
            extras.setdefault(name, set()).update(candidate.extras)
        else:
            bases[name] = candidate
        deps = requires.setdefault(name, set())
        for req in provider.get_dependencies(candidate):
            dep = split_identifier(req.identifier)[0]
            if req.identifier != PYTHON_IDENTIFIER and dep != name:
                deps.add(dep)

    packages: dict[str, ResolvedPackage] = {}
    for name in sorted(bases):
        candidate = bases[name]
        file = candidate.file if isinstance(candidate, IndexCandidate) else None
        if file is not None and file.yanked is not None:
            reason = f": {file.yanked}" if file.yanked else ""
            provider.warn(f"{candidate} is yanked{reason}")
        packages[name] = ResolvedPackage(
            name=name,
            version=candidate.version,
            file=file,
            url=candidate.url if isinstance(candidate, DirectCandidate) else None,
            is_direct=name in root_names,
            extras=tuple(sorted(extras.get(name, ()))),
            requires=tuple(sorted(requires.get(name, ()))),
            installed=isinstance(candidate, InstalledCandidate),
            hashes=tuple(sorted(provider.hashes_for(name))),
        )
    return Resolution(
        packages=packages,
        roots=tuple(sorted(n for n in root_names if n in packages)),
        warnings=provider.warnings,
    )
