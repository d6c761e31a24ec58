"""Writing lock files for tests: PEP 751 pylock.toml (rendered by hand: no TOML writer is a
dependency) and hashed requirements files, for files a local index serves."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.cli import site_packages
from tests.support.index_server import IndexServer


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string for what tests write
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def render_pylock(packages: Sequence[Mapping[str, Any]], **top: Any) -> str:
    """A pylock.toml: ``top`` keys (underscores become dashes; default lock-version 1.0 and
    created-by "tests") and one ``[[packages]]`` table per mapping."""
    head = {"lock-version": "1.0", "created-by": "tests"}
    head.update({k.replace("_", "-"): v for k, v in top.items()})
    lines = [f"{k} = {toml_value(v)}" for k, v in head.items() if v is not None]
    for package in packages:
        lines += ["", "[[packages]]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in package.items()]
    return "\n".join(lines) + "\n"


def file_entry(server: IndexServer, path: Path, **extra: Any) -> dict[str, Any]:
    """A pylock wheel/sdist table for a file ``server`` serves: url, size and sha256."""
    data = path.read_bytes()
    entry: dict[str, Any] = {
        "url": server.file_url(path.name),
        "size": len(data),
        "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
    }
    entry.update(extra)
    return entry


def hashed_line(name: str, version: str, *files: Path) -> str:
    """``name==version --hash=sha256:...`` for each file."""
    hashes = " ".join(f"--hash=sha256:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files)
    return f"{name}=={version} {hashes}".rstrip()


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and mtime: equal snapshots, nothing changed."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if "__pycache__" in p.parts:
                continue
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def installed(venv: Path) -> dict[str, str]:
    """name -> version of every distribution in ``venv`` (from the .dist-info names)."""
    out = {}
    for d in site_packages(venv).glob("*.dist-info"):
        name, _, version = d.name[: -len(".dist-info")].partition("-")
        out[name.replace("_", "-").lower()] = version
    return out
