"""Resolve root requirements to one exact distribution per project."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import resolvelib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib.resolvers import Criterion, Result
from resolvelib.structs import State

from satchel.errors import ResolutionImpossible
from satchel.index.models import IndexFile
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
from satchel.resolve.provider import SatchelProvider
from satchel.resolve.requirements import Constraint, ResolverRequirement, RootRequirement

#: resolvelib rounds before giving up (one round pins one package or backtracks once).
DEFAULT_MAX_ROUNDS = 200_000


@dataclass(frozen=True)
class ResolveOptions:
    """How to pick versions.

    ``pre``: allow pre-releases everywhere (otherwise only when a specifier names one, or
    when nothing but pre-releases matches). ``installed``: what the target environment has
    (name -> version); an installed version that satisfies the requirements is kept without
    even consulting the index ("only if needed"), except for root requirements when
    ``upgrade`` is set and for names in ``upgrade_packages`` (which may be transitive).
    ``no_deps``: do not follow dependencies. ``only_binary`` / ``no_binary``: project names or
    ``":all:"``; a name listed explicitly wins over ``":all:"``. Yanked files are used only
    for exact ``==``/``===`` pins (PEP 592).
    """

    pre: bool = False
    upgrade: bool = False
    upgrade_packages: AbstractSet[str] = frozenset()
    installed: Mapping[str, Version] = field(default_factory=dict)
    no_deps: bool = False
    only_binary: AbstractSet[str] = frozenset()
    no_binary: AbstractSet[str] = frozenset()
    max_rounds: int = DEFAULT_MAX_ROUNDS
    #: pip's --prefer-binary: a version with a usable wheel beats newer versions with only sdists.
    prefer_binary: bool = False
    #: pip's --all-releases / --only-final: names (or ":all:") whose pre-releases are always
    #: allowed / never used, whatever the specifiers say; a name beats ":all:", and
    #: --only-final beats --all-releases and ``pre``.
    all_releases: AbstractSet[str] = frozenset()
    only_final: AbstractSet[str] = frozenset()

    def releases_for(self, name: str) -> bool | None:
        """True: pre-releases allowed; False: never; None: PEP 440's default rules."""
        if name in self.only_final:
            return False
        if name in self.all_releases:
            return True
        if ":all:" in self.only_final:
            return False
        if ":all:" in self.all_releases or self.pre:
            return True
        return None


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
    active = [r for r in roots if _applies(r.requirement, env)]
    active_constraints = [c for c in constraints if _applies(c.requirement, env)]
    merged = _merge_constraints(active_constraints)
    direct_urls: dict[str, str] = {n: c.url for n, c in merged.items() if c.url}
    for root in active:
        url = root.direct_url
        if url:
            direct_urls.setdefault(root.name, url)
    root_names = frozenset(r.name for r in active)
    provider = SatchelProvider(
        finder=finder,
        interpreter=interpreter,
        options=options,
        constraints=merged,
        direct_urls=direct_urls,
        root_names=root_names,
        hashes=_merge_hashes([*active, *active_constraints]),
    )
    for name in sorted(root_names):
        provider.prefetch_project(name)
    requirements = [provider.root_requirement(r) for r in active]

    reporter = _Reporter()
    resolver: resolvelib.Resolver[ResolverRequirement, Candidate, str] = resolvelib.Resolver(
        provider, reporter
    )
    try:
        result = resolver.resolve(requirements, max_rounds=options.max_rounds)
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
    return _build_resolution(result, provider, root_names)


class _Reporter(resolvelib.BaseReporter[ResolverRequirement, Candidate, str]):
    """Keeps the latest state (to explain failures) and counts rejections per name."""

    def __init__(self) -> None:
        self.state: State[ResolverRequirement, Candidate, str] | None = None
        self.rejections: Counter[str] = Counter()  # by identifier (cheap: a hot path)

    def ending_round(self, index: int, state: State[ResolverRequirement, Candidate, str]) -> None:
        self.state = state

    def rejecting_candidate(
        self, criterion: Criterion[ResolverRequirement, Candidate], candidate: Candidate
    ) -> None:
        self.rejections[candidate.identifier] += 1

    def rejections_by_name(self) -> Counter[str]:
        """Rejections per project name (extras counted with their project)."""
        by_name: Counter[str] = Counter()
        for identifier, count in self.rejections.items():
            by_name[split_identifier(identifier)[0]] += count
        return by_name


def _applies(requirement: Requirement, env: dict[str, str]) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**env, "extra": ""})


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
        hashes = frozenset(_normalize_hash(h) for h in r.hashes)
        merged[r.name] = merged[r.name] & hashes if r.name in merged else hashes
    return merged


def _normalize_hash(value: str) -> str:
    algorithm, _, digest = value.partition(":")
    return f"{algorithm.strip().lower()}:{digest.strip().lower()}"


def _build_resolution(
    result: Result[ResolverRequirement, Candidate, str],
    provider: SatchelProvider,
    root_names: frozenset[str],
) -> Resolution:
    bases: dict[str, Candidate] = {}
    extras: dict[str, set[str]] = {}
    requires: dict[str, set[str]] = {}
    for candidate in result.mapping.values():
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
