"""How the resolver picks versions: :class:`ResolveOptions` (a record, no behaviour)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from packaging.version import Version

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
    for exact ``==``/``===`` pins (PEP 592). ``preferred``: versions to try first where the
    requirements allow them (a lock's existing pins, for minimal diffs), name -> version.
    """

    pre: bool = False
    upgrade: bool = False
    upgrade_packages: AbstractSet[str] = frozenset()
    installed: Mapping[str, Version] = field(default_factory=dict)
    no_deps: bool = False
    only_binary: AbstractSet[str] = frozenset()
    no_binary: AbstractSet[str] = frozenset()
    max_rounds: int = DEFAULT_MAX_ROUNDS
    preferred: Mapping[str, Version] = field(default_factory=dict)
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
