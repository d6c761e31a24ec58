"""PEP 440 versions and version specifiers in a narrow form, without packaging: the no-op
install's version checks.

A shortcut around a library: a version is accepted only in its normalized spelling (what
``str(packaging.version.Version(text))`` gives back: no leading zeros, ``a``/``b``/``rc``,
``.postN``, ``.devN``, a lower-case ``+local`` with ``.`` separators, an epoch only when not 0),
so the text is also what packaging would print. A specifier is accepted only with such a version
and an operator of ``==``, ``!=`` (both also as ``==1.2.*``), ``<=``, ``>=``, ``<``, ``>`` or
``~=`` where PEP 440 allows it; ``===`` and everything else is declined (None), and the caller
then asks packaging. Where accepted, ``contains`` answers exactly what
``SpecifierSet.contains(version, prereleases=True)`` answers: ``tests/unit/test_standards_versions.py``
compares both on many random versions and specifiers.
"""

from __future__ import annotations

import re

_NUM = r"(?:0|[1-9][0-9]*)"
_VERSION = re.compile(
    rf"(?:([1-9][0-9]*)!)?({_NUM}(?:\.{_NUM})*)(?:(a|b|rc)({_NUM}))?(?:\.post({_NUM}))?"
    rf"(?:\.dev({_NUM}))?(?:\+((?:[a-z0-9]*[a-z][a-z0-9]*|{_NUM})(?:\.(?:[a-z0-9]*[a-z][a-z0-9]*|{_NUM}))*))?"
)
# In a specifier the version's numbers may have leading zeros (``>=2024.05.06``) and its
# pre-release separators and number be left out (``<2.0a.0``, ``2.0-rc``): its value is what
# counts there, not its spelling.
_SPEC_VERSION = re.compile(
    r"(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)(?:[-_.]?(a|b|rc)[-_.]?([0-9]*))?(?:\.post([0-9]+))?"
    r"(?:\.dev([0-9]+))?(?:\+([a-z0-9]+(?:\.[a-z0-9]+)*))?"
)
_WILDCARD = re.compile(r"(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)\.\*")
_SPECIFIER = re.compile(r"[ \t]*(~=|==|!=|<=|>=|<|>)[ \t]*([^ \t]+)[ \t]*")
_PRE_RANK = {"a": 0, "b": 1, "rc": 2}


class NarrowVersion:
    """A version in the narrow form: its parts and packaging's ordering key."""

    __slots__ = ("dev", "epoch", "key", "local", "post", "pre", "public_key", "release", "text")

    def __init__(
        self,
        text: str,
        epoch: int,
        release: tuple[int, ...],
        pre: tuple[int, int] | None,
        post: int | None,
        dev: int | None,
        local: tuple[str, ...] | None,
    ) -> None:
        self.text = text
        self.epoch = epoch
        self.release = release
        self.pre = pre
        self.post = post
        self.dev = dev
        self.local = local
        trimmed = release
        while trimmed and trimmed[-1] == 0:
            trimmed = trimmed[:-1]
        if pre is None and post is None and dev is not None:
            pre_key: tuple[int, ...] = (0,)  # 1.0.dev0 sorts before 1.0a0
        elif pre is None:
            pre_key = (2,)
        else:
            pre_key = (1, *pre)
        self.public_key = (
            epoch,
            trimmed,
            pre_key,
            -1 if post is None else post,
            (1, 0) if dev is None else (0, dev),
        )
        if local is None:
            local_key: tuple[object, ...] = (0,)
        else:
            local_key = (1, tuple((1, int(s), "") if s.isdigit() else (0, 0, s) for s in local))
        self.key = (*self.public_key, local_key)

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None or self.dev is not None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<NarrowVersion {self.text!r}>"


def parse_version(text: str, *, normalized: bool = True) -> NarrowVersion | None:
    """``text`` as a version, if it is in the narrow (normalized) form; else None. With
    ``normalized=False`` numbers may have leading zeros (and the epoch may be 0): the value is
    packaging's, the text not what packaging prints."""
    m = (_VERSION if normalized else _SPEC_VERSION).fullmatch(text)
    if m is None:
        return None
    epoch, release, pre_l, pre_n, post, dev, local = m.groups()
    return NarrowVersion(
        text,
        int(epoch) if epoch else 0,
        tuple(int(p) for p in release.split(".")),
        None if pre_l is None else (_PRE_RANK[pre_l], int(pre_n or 0)),
        None if post is None else int(post),
        None if dev is None else int(dev),
        None if local is None else tuple(str(int(p)) if p.isdigit() else p for p in local.split(".")),
    )


class NarrowSpecifier:
    """One specifier in the narrow form."""

    __slots__ = ("epoch", "operator", "prefix", "version")

    def __init__(
        self, operator: str, version: NarrowVersion | None, epoch: int, prefix: tuple[int, ...]
    ) -> None:
        self.operator = operator
        self.version = version  # None for a wildcard (==1.2.*, !=1.2.*)
        self.epoch = epoch
        self.prefix = prefix  # the wildcard's release, or ~='s release without its last part

    def contains(self, v: NarrowVersion) -> bool:
        """``Specifier.contains(v, prereleases=True)``."""
        op = self.operator
        spec = self.version
        if spec is None:
            return _prefix_matches(v, self.epoch, self.prefix) == (op == "==")
        if op == "==" or op == "!=":
            equal = v.public_key == spec.public_key if spec.local is None else v.key == spec.key
            return equal == (op == "==")
        if op == ">=":
            return v.public_key >= spec.public_key
        if op == "<=":
            return v.public_key <= spec.public_key
        if op == "~=":
            return v.public_key >= spec.public_key and _prefix_matches(v, self.epoch, self.prefix)
        if op == "<":
            if not v.key < spec.key:
                return False
            if not spec.is_prerelease and v.is_prerelease:
                earliest = NarrowVersion("", spec.epoch, spec.release, None, spec.post, 0, None)
                if v.key >= earliest.key:
                    return False
            return True
        # ">"
        if not v.key > spec.key:
            return False
        if spec.post is None and v.post is not None:
            base = NarrowVersion("", v.epoch, v.release, v.pre, None, None, None)
            if base.key == spec.key:
                return False
        return not (v.local is not None and v.public_key == spec.public_key)


def _prefix_matches(v: NarrowVersion, epoch: int, prefix: tuple[int, ...]) -> bool:
    """packaging's prefix match (``==1.2.*``): the epoch, and the release padded with zeros."""
    if v.epoch != epoch:
        return False
    release = v.release + (0,) * (len(prefix) - len(v.release))
    return release[: len(prefix)] == prefix


def parse_specifier(text: str) -> NarrowSpecifier | None:
    """One specifier (``>=1.0``, ``== 1.2.*``; blanks and tabs around allowed) in the narrow
    form, else None."""
    m = _SPECIFIER.fullmatch(text)
    if m is None:
        return None
    op, version = m.groups()
    if version.endswith(".*"):
        w = _WILDCARD.fullmatch(version)
        if w is None or op not in ("==", "!="):
            return None
        return NarrowSpecifier(op, None, int(w.group(1) or 0), tuple(int(p) for p in w.group(2).split(".")))
    # (~= takes its prefix from the text as written: only the normalized spelling here)
    v = parse_version(version, normalized=op == "~=")
    if v is None or (v.local is not None and op not in ("==", "!=")):
        return None
    if op == "~=":
        if len(v.release) < 2:
            return None
        return NarrowSpecifier(op, v, v.epoch, v.release[:-1])
    return NarrowSpecifier(op, v, v.epoch, ())


def parse_specifiers(text: str) -> list[NarrowSpecifier] | None:
    """A comma-separated specifier set (empty text: no specifiers) in the narrow form, else None."""
    if not text.strip(" \t"):
        return []
    out = []
    for part in text.split(","):
        spec = parse_specifier(part)
        if spec is None:
            return None
        out.append(spec)
    return out


def contains_all(specifiers: list[NarrowSpecifier], version: NarrowVersion) -> bool:
    """``SpecifierSet.contains(version, prereleases=True)`` for these specifiers."""
    return all(s.contains(version) for s in specifiers)


_SEPARATORS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """``packaging.utils.canonicalize_name`` (PEP 503)."""
    return _SEPARATORS.sub("-", name).lower()
