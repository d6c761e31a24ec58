"""Run-wide settings: the one piece of shared state, built once from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _default_ttl() -> float:
    try:
        return float(os.environ.get("SATCHEL_INDEX_TTL", "600"))
    except ValueError:
        return 600.0


@dataclass
class Settings:
    cache_dir: Path | None = None
    no_cache: bool = False
    offline: bool = False
    refresh: bool = False
    refresh_packages: frozenset[str] = frozenset()
    index_ttl: float = field(default_factory=_default_ttl)
    timeout: float = 15.0
    verbose: int = 0
    quiet: bool = False
    force: bool = False

    def must_refresh(self, name: str) -> bool:
        return self.refresh or name in self.refresh_packages
