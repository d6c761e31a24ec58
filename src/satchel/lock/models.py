"""What a lock holds, whatever its format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satchel.errors import SatchelError

REQUIREMENTS_TXT = "requirements.txt"
PYLOCK_TOML = "pylock.toml"
FORMATS = (REQUIREMENTS_TXT, PYLOCK_TOML)

_PYLOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")


def lock_format(requested: str | None, output: str | Path | None) -> str:
    """``--format``, else what the output file's name says (``pylock.toml``,
    ``pylock.NAME.toml``: PEP 751's names), else requirements.txt."""
    if requested is not None:
        if requested not in FORMATS:
            raise SatchelError(
                f"unknown --format {requested!r}", hint="use requirements.txt or pylock.toml"
            )
        if requested == PYLOCK_TOML and output is not None and str(output) != "-":
            name = Path(output).name
            if not _PYLOCK_NAME.match(name):
                raise SatchelError(
                    f"{output}: a pylock.toml must be named pylock.toml or pylock.NAME.toml (PEP 751)",
                    hint="name the output pylock.toml, or pylock.<name>.toml",
                )
        return requested
    if output is not None and _PYLOCK_NAME.match(Path(output).name):
        return PYLOCK_TOML
    return REQUIREMENTS_TXT


@dataclass(frozen=True)
class LockedFile:
    """A distribution file of a pinned version: ``url`` absolute (``file:`` for local files),
    ``hashes`` algorithm -> hex digest, ``upload_time`` as the index gave it (ISO 8601)."""

    filename: str
    url: str
    hashes: dict[str, str] = field(hash=False)
    size: int | None = None
    upload_time: str | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.lower().endswith(".whl")


@dataclass(frozen=True)
class LockedPackage:
    """One pin.

    ``name`` is canonical. An index pin has ``files`` (every file of ``version`` the index
    lists, when known) and ``index`` (the index URL it came from, None for find-links).
    A direct reference has ``url`` (as written) and ``direct`` (its PEP 610 direct_url.json
    data: ``vcs_info``, ``dir_info`` or ``archive_info``), plus ``files`` for an archive.
    ``via`` are the annotations (``-r requirements.in``, a dependent's name, ...);
    ``marker`` is set when the package is only needed under it.
    """

    name: str
    version: str | None
    files: tuple[LockedFile, ...] = ()
    index: str | None = None
    url: str | None = None
    direct: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    editable: bool = False
    extras: tuple[str, ...] = ()
    via: tuple[str, ...] = ()
    marker: str | None = None
    requires_python: str | None = None

    @property
    def is_direct(self) -> bool:
        return self.url is not None

    def hashes(self) -> list[str]:
        """``algo:digest`` of every file, sha256 preferred (as pip-compile writes them), sorted."""
        out: set[str] = set()
        for f in self.files:
            if "sha256" in f.hashes:
                out.add(f"sha256:{f.hashes['sha256']}")
            elif f.hashes:
                algo = sorted(f.hashes)[0]
                out.add(f"{algo}:{f.hashes[algo]}")
        return sorted(out)


@dataclass(frozen=True)
class Lock:
    """A whole lock: the pins (sorted by name), what produced it and for which target.

    ``command`` is the command line for the header; ``python`` the target's ``X.Y``;
    ``environment`` the target's marker environment; ``index_urls`` / ``find_links`` for
    ``--emit-index-url``; ``extras`` / ``groups`` what the pyproject sources had (for
    pylock.toml's ``extras``, ``dependency-groups`` and ``default-groups``).
    """

    packages: tuple[LockedPackage, ...]
    command: str
    python: str
    environment: dict[str, str]
    index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()
    requires_python: str | None = None
