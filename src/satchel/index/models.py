"""What an index says about a project: its files, as parsed from a simple-API page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One distribution file listed by an index page (PEP 503 / PEP 691).

    ``url`` is absolute and has no fragment. ``hashes`` maps algorithm -> hex digest.
    ``yanked`` is None when not yanked, else the reason ("" when none was given).
    ``metadata_hashes`` is None when the index does not serve a PEP 658 metadata file,
    else the hashes of that file (possibly empty when the index gave ``true``).

    Stored as a row (``satchel.cache.schema``): a cached page holds thousands of them.
    """

    __schema_row__: ClassVar[bool] = True

    filename: str
    url: str
    hashes: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    requires_python: str | None = None
    yanked: str | None = None
    metadata_hashes: dict[str, str] | None = field(default=None, hash=False)
    size: int | None = None
    upload_time: str | None = None

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def metadata_url(self) -> str:
        return self.url + ".metadata"


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """All files of one project on one index (or find-links source)."""

    name: str  # normalized (PEP 503)
    source: str  # index URL or find-links location the page came from
    files: tuple[IndexFile, ...]
