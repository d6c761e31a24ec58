"""What the user asked for, as the resolver's callers hand it over: :class:`RootRequirement`.
Kept apart from the resolver's own requirement types (``resolve/requirements.py``), which need
its candidates."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


@dataclass(frozen=True, slots=True)
class RootRequirement:
    """Something the user asked for (or constrained), with where it came from.

    ``url`` is the direct reference when there is one; it defaults to ``requirement.url``
    (``name @ url``). ``source`` says where the requirement was written, for messages
    ("requirements.txt:3", "command line"). ``hashes`` are ``"algo:hexdigest"`` strings
    (``--hash``); when given, only files matching one of them may be chosen.
    """

    requirement: Requirement
    url: str | None = None
    source: str = ""
    hashes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    @property
    def direct_url(self) -> str | None:
        return self.url or self.requirement.url

    def __str__(self) -> str:
        return str(self.requirement)
