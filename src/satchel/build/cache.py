"""The built-wheel cache: exact keys and self-verifying entries in the ``built`` bucket.

Layout (every entry is a checked tree, written with ``Cache.build_tree``: assembled in a temp
directory, then renamed into place, under a per-entry flock)::

    built-v1/<name>/<source key>/<settings key>/<interpreter key>/wheel/      {manifest, tree/<file>.whl}
    built-v1/<name>/<source key>/<settings key>/<interpreter key>/metadata/   {manifest, tree/METADATA}
    built-v1/<name>/<source key>/<settings key>/<interpreter key>/editable/   (PEP 660 wheel)
    built-v1/<name>/<source key>/<settings key>/<interpreter key>/editable-metadata/
    built-v1/_unnamed/<source key>/...                 (metadata of sources whose name is dynamic)
    built-v1/_envs/<digest>/                           (build environments, see env.py)
    built-v1/_git/<digest>/                            (git databases, see git.py)

* source key: ``sha256-<sdist digest>``, ``git-<commit>``, ``dir-<fingerprint>`` (source.py);
* settings key: digest of the config settings and of whether the build was isolated (and, for
  editable builds, the project's path: an editable wheel points at it; for isolated builds
  under ``-b`` build constraints, the constraints);
* interpreter key: implementation, major.minor, ABI and platform of the target's most preferred
  tag, e.g. ``cpython-3.11-cp311-manylinux_2_36_x86_64``.

The entry's manifest (a record) holds the wheel's sha256. Reusing an entry checks it fully: every
file exists with its size and mtime (``get_tree``), the wheel hashes to the manifest's digest, it
is the only wheel, for the expected project, and one of its tags is supported by the target
interpreter. Anything else is a miss with one warning; the entry is removed and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from satchel.cache import atomic, buckets
from satchel.cache.manifest import verify_tree
from satchel.cache.store import Cache, Tree
from satchel.python.interpreter import Interpreter

ConfigSettings = Mapping[str, str | list[str]]

UNNAMED = "_unnamed"


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel in the built-wheel cache (read-only; unpack or copy it, never modify it)."""

    path: Path
    filename: str
    sha256: str
    name: str  # canonical
    version: Version
    cached: bool  # True when reused from the cache, False when built by this call


def interpreter_key(interpreter: Interpreter) -> str:
    """``<implementation>-<major>.<minor>-<abi>-<platform>`` from the most preferred tag."""
    major, minor = interpreter.version[:2]
    abi, platform = "none", "any"
    if interpreter.tags:
        parts = interpreter.tags[0].split("-")
        if len(parts) == 3:
            abi, platform = parts[1], parts[2]
    text = f"{interpreter.implementation}-{major}.{minor}-{abi}-{platform}"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def settings_key(
    config_settings: ConfigSettings | None,
    *,
    isolated: bool,
    editable_path: Path | None = None,
    build_constraints: Sequence[str] = (),
) -> str:
    """A digest of everything besides source and interpreter that changes a build's result:
    config settings, isolation, an editable's path, and the build constraints (``-b``) an
    isolated build's environment was made under -- a wheel built with ``setuptools<70`` is
    not the answer for a build without that pin. (Keys without constraints are as they were.)"""
    data: dict[str, object] = {
        "config_settings": dict(sorted((config_settings or {}).items())),
        "isolated": isolated,
    }
    if editable_path is not None:
        data["editable_path"] = str(editable_path)
    if build_constraints:
        data["build_constraints"] = sorted(set(build_constraints))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def entry_key(name: str | None, source_key: str, settings: str, interp: str, kind: str) -> str:
    return f"{name or UNNAMED}/{source_key}/{settings}/{interp}/{kind}"


def wheel_fits(filename: str, interpreter: Interpreter) -> bool:
    """True when one of the wheel's tags is supported by ``interpreter``."""
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    supported = set(interpreter.tags)
    return any(str(t) in supported for t in tags)


def _discard_broken(cache: Cache, entry: Path, reason: str) -> None:
    cache.warn_entry(entry, reason)
    if not cache.read_only or not entry.is_relative_to(cache.root):
        with contextlib.suppress(OSError):
            atomic.discard(entry)


def check_wheel_tree(
    tree: Tree, name: str, interpreter: Interpreter
) -> tuple[BuiltWheel | None, str | None]:
    """Fully check a built-wheel entry: (the wheel, None) or (None, the reason it is broken)."""
    problem = verify_tree(tree.path, tree.manifest)
    if problem is not None:
        return None, problem
    wheels = [f for f in tree.manifest.files if f.path.endswith(".whl") and "/" not in f.path]
    if len(wheels) != 1 or len(tree.manifest.files) != 1:
        return None, "entry does not hold exactly one wheel"
    entry = wheels[0]
    try:
        wname, version, _build, _tags = parse_wheel_filename(entry.path)
    except InvalidWheelFilename:
        return None, f"not a valid wheel file name: {entry.path}"
    if wname != canonicalize_name(name):
        return None, f"wheel {entry.path} is not for {name}"
    if not wheel_fits(entry.path, interpreter):
        return None, f"wheel {entry.path} does not fit the interpreter {interpreter.executable}"
    wheel = BuiltWheel(tree.path / entry.path, entry.path, entry.sha256, str(wname), version, True)
    return wheel, None


def lookup_wheel(cache: Cache, key: str, name: str, interpreter: Interpreter) -> BuiltWheel | None:
    """The built wheel under ``key``, fully checked; a broken entry is warned about, removed and
    reported as a miss (None)."""
    tree = cache.get_tree(buckets.BUILT, key)
    if tree is None:
        return None
    wheel, problem = check_wheel_tree(tree, name, interpreter)
    if problem is not None:
        _discard_broken(cache, tree.path.parent, problem)
        return None
    return wheel


def check_metadata_tree(tree: Tree) -> tuple[bytes | None, str | None]:
    problem = verify_tree(tree.path, tree.manifest)
    if problem is not None:
        return None, problem
    if [f.path for f in tree.manifest.files] != ["METADATA"]:
        return None, "entry does not hold exactly one METADATA file"
    try:
        return (tree.path / "METADATA").read_bytes(), None
    except OSError as exc:
        return None, exc.strerror or str(exc)


def lookup_metadata(cache: Cache, key: str) -> bytes | None:
    """The METADATA bytes under ``key``, fully checked (a broken entry is a warned miss)."""
    tree = cache.get_tree(buckets.BUILT, key)
    if tree is None:
        return None
    data, problem = check_metadata_tree(tree)
    if problem is not None:
        _discard_broken(cache, tree.path.parent, problem)
        return None
    return data


def discard_entry(cache: Cache, tree: Tree, reason: str) -> None:
    _discard_broken(cache, tree.path.parent, reason)


def discard_built_wheel(cache: Cache, path: Path, reason: str) -> bool:
    """A built wheel (``BuiltWheel.path``) that could not be read after all: its entry is
    warned about and removed, so the next build stores it again. False, doing nothing, when
    ``path`` is not a built wheel of this cache."""
    entry = path.parent.parent  # <built bucket>/<key>/tree/<wheel>
    if path.parent.name != "tree" or not any(
        entry.is_relative_to(cache.bucket_dir(buckets.BUILT, root)) for root in cache.read_roots()
    ):
        return False
    _discard_broken(cache, entry, reason)
    return True
