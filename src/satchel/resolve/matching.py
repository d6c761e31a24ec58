"""Which versions of a project a set of specifiers admits, without testing every version.

Backtracking asks the same question ("which versions of botocore satisfy >=1.18.18,<1.19.0")
for hundreds of different ranges over projects with thousands of versions. Testing each
version against each range is what made resolutions like ``urllib3<1.25.4 boto3`` take a
minute, so :class:`VersionIndex` narrows the versions to a window by binary search on the
bounds the specifiers imply, and tests only what the window cannot decide, with packaging's
own :meth:`Specifier.contains` (so the answer is exactly packaging's; the unit tests compare
it with testing every version).

How packaging 26 compares (prereleases allowed; public = the version without its local
label; public versions are ordered like the versions themselves):

* ``>=V``, ``<=V``, ``==V`` (V without a local label): the public version against V, which is
  exactly the window;
* ``<V``: ``v < V``, except pre-releases of V's release: the window, then the pre-releases in
  it are tested;
* ``>V``: ``v > V``, except post-releases and local versions of V: the window, then the
  post-releases and local versions in it are tested;
* ``~=V`` admits only ``>=V``; ``==V+local`` only versions whose public part is V; both are
  tested in that window;
* ``!=``, ``==X.*``, ``===``: no window, every version is tested.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version


class VersionIndex:
    """The versions of one project (newest first, all distinct), for :meth:`matching`."""

    __slots__ = ("_ascending", "_odd", "_pre", "_publics", "versions")

    def __init__(self, versions: Sequence[Version]) -> None:
        self.versions = tuple(versions)
        self._ascending = self.versions[::-1]
        if any(b <= a for a, b in zip(self._ascending, self._ascending[1:], strict=False)):
            raise ValueError("versions must be distinct and sorted newest first")
        self._publics = [_public(v) for v in self._ascending]
        # the versions that "<V" and ">V" may reject although the window admits them
        self._pre = [v.is_prerelease for v in self._ascending]
        self._odd = [v.is_postrelease or v.local is not None for v in self._ascending]

    def matching(self, specifiers: Sequence[SpecifierSet]) -> list[int]:
        """Positions (in ``versions``, ascending: newest first) of the versions that every
        one of ``specifiers`` contains, pre-releases included."""
        ascending, publics = self._ascending, self._publics
        lo, hi = 0, len(publics)
        # what the window does not decide, with the versions that need a look (None: all)
        checks: list[tuple[Specifier, list[bool] | None]] = []
        for specifier_set in specifiers:
            for spec in specifier_set:
                op = spec.operator
                bound = None if op == "===" else _bound(spec.version.removesuffix(".*"))
                if bound is None or (op == "==" and spec.version.endswith(".*")):
                    checks.append((spec, None))
                elif op == ">=":
                    lo = max(lo, bisect_left(publics, bound))
                elif op == "<=":
                    hi = min(hi, bisect_right(publics, bound))
                elif op == "==":
                    public = _public(bound)
                    lo = max(lo, bisect_left(publics, public))
                    hi = min(hi, bisect_right(publics, public))
                    if bound.local is not None:
                        checks.append((spec, None))
                elif op == "<" and bound.local is None:
                    # packaging: V > v, unless v is a pre-release of V's release
                    hi = min(hi, bisect_left(ascending, bound))
                    checks.append((spec, self._pre))
                elif op == ">" and bound.local is None:
                    # packaging: v > V, unless v is a post-release or a local version of V
                    lo = max(lo, bisect_right(ascending, bound))
                    checks.append((spec, self._odd))
                elif op == "~=" and bound.local is None:
                    lo = max(lo, bisect_left(publics, bound))  # ~=V implies >=V
                    checks.append((spec, None))
                else:
                    checks.append((spec, None))
        keep: Sequence[int] = range(hi - 1, lo - 1, -1)  # newest first
        for spec, flagged in checks:
            if flagged is None:
                keep = [i for i in keep if spec.contains(ascending[i], prereleases=True)]
            else:
                keep = [
                    i
                    for i in keep
                    if not flagged[i] or spec.contains(ascending[i], prereleases=True)
                ]
        last = len(publics) - 1
        return [last - i for i in keep]


def _public(version: Version) -> Version:
    return version if version.local is None else Version(version.public)


def _bound(text: str) -> Version | None:
    """The version in a specifier (None: not a version, e.g. for "===")."""
    try:
        return Version(text)
    except InvalidVersion:
        return None
