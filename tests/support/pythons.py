"""The pyenv interpreters tests run against (moved from tests/unit/test_python_probe.py)."""

from __future__ import annotations

import os
from pathlib import Path

SUPPORTED = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def pyenv_python(minor: str) -> Path | None:
    """The newest ~/.pyenv (or $PYENV_ROOT) interpreter of a minor version, if installed."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for d in root.glob(f"{minor}.*"):
        parts = d.name.split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts) and (d / "bin" / "python").exists():
            found.append((tuple(map(int, parts)), d / "bin" / "python"))
    return max(found)[1] if found else None
