"""Reading what a release's metadata asks for, once per text: Requires-Dist lines parsed,
their markers evaluated for the target (per extra), Requires-Python checked.

The texts repeat across the releases of a project (and across projects), so each is parsed once
and releases share the objects; the marker environment and the interpreter are fixed for one
resolution, so each (requirement, extra) is evaluated once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from satchel.errors import ResolutionImpossible
from satchel.resolve.candidates import BaseCandidate
from satchel.resolve.finder import CoreMetadata
from satchel.standards.markers import MarkerUndefined, marker_holds
from satchel.standards.requires_python import admits, parse_requires_python


class MetadataReader:
    """Requires-Dist and Requires-Python of one resolution's releases, read once.

    ``env`` is the target's marker environment, ``python_version`` its version; ``warn``
    receives the warnings (a marker that cannot be evaluated).
    """

    def __init__(
        self, env: Mapping[str, str], python_version: Version, warn: Callable[[str], None]
    ) -> None:
        self._env = dict(env)
        self._python_version = python_version
        self._warn = warn
        self._parsed: dict[str, Requirement] = {}  # Requires-Dist text -> it
        # (id of the requirement, extra) -> (it, whether its marker holds)
        self._markers: dict[tuple[int, str], tuple[Requirement, bool]] = {}
        self._requires_pythons: dict[str, tuple[SpecifierSet, bool]] = {}

    def requires(self, candidate: BaseCandidate, meta: CoreMetadata) -> list[Requirement]:
        """``meta``'s Requires-Dist parsed; an invalid one fails the resolution."""
        parsed = []
        for text in meta.requires_dist:
            req = self._parsed.get(text)
            if req is None:
                try:
                    req = self._parsed[text] = Requirement(text)
                except InvalidRequirement as e:
                    raise ResolutionImpossible(
                        f"{candidate} declares an invalid dependency {text!r}: {e}",
                        hint=f"Require another version of {candidate.name}.",
                    )
            parsed.append(req)
        return parsed

    def requirement(self, text: str) -> Requirement | None:
        """A Requires-Dist line parsed (and kept), None when it is invalid (for guesses)."""
        req = self._parsed.get(text)
        if req is None:
            try:
                req = self._parsed[text] = Requirement(text)
            except InvalidRequirement:
                return None
        return req

    def requires_python(self, text: str) -> tuple[SpecifierSet, bool]:
        """A metadata Requires-Python, parsed, and whether the interpreter satisfies it
        (:mod:`satchel.standards.requires_python`)."""
        known = self._requires_pythons.get(text)
        if known is None:
            known = (parse_requires_python(text), admits(text, self._python_version))
            self._requires_pythons[text] = known
        return known

    def marker(self, candidate: BaseCandidate | None, req: Requirement, extra: str) -> bool:
        """Whether ``req``'s marker holds for ``extra``. A marker that cannot be evaluated is
        false, with a warning naming ``candidate`` (none when it is None: the lookahead's
        guesses warn about nothing): the policy of :mod:`satchel.standards.markers`."""
        assert req.marker is not None
        # Memoized per (requirement, extra): the environment is fixed for the resolution, and
        # each requirement text is parsed once (requires), so releases share the objects.
        key = (id(req), extra)
        known = self._markers.get(key)
        if known is not None and known[0] is req:
            return known[1]
        try:
            result = marker_holds(req.marker, self._env, extra)
        except MarkerUndefined as e:
            if candidate is not None:
                self._warn(
                    f"Ignoring dependency '{req}' of {candidate}: cannot evaluate its marker ({e})"
                )
            return False  # not memoized: the warning names the candidate
        self._markers[key] = (req, result)  # keeps req alive, so its id stays its own
        return result
