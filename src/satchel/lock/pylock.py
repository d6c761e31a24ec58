"""A lock as a PEP 751 ``pylock.toml`` (lock-version 1.0), validated with ``packaging.pylock``
before it is written."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from packaging.markers import Marker

from satchel.errors import SatchelError
from satchel.lock import toml
from satchel.lock.models import Lock, LockedFile, LockedPackage

LOCK_VERSION = "1.0"
CREATED_BY = "satchel"

#: The marker variables that describe a compile target in ``environments``.
ENVIRONMENT_KEYS = ("sys_platform", "platform_machine", "implementation_name", "python_version")


def environment_marker(environment: dict[str, str]) -> str:
    """The target as one ``environments`` entry: its platform, machine, implementation and
    Python version (what the resolution was for)."""
    parts = [f"{key} == {_quote(environment[key])}" for key in ENVIRONMENT_KEYS if key in environment]
    return str(Marker(" and ".join(parts)))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "") + "'"


def to_document(lock: Lock, *, output_dir: Path | None = None) -> dict[str, Any]:
    """The lock as a dict in PEP 751's shape (keys in a readable order)."""
    doc: dict[str, Any] = {
        "lock-version": LOCK_VERSION,
        "created-by": CREATED_BY,
        "requires-python": lock.requires_python or f">={lock.python}",
        "environments": [environment_marker(lock.environment)],
    }
    if lock.extras:
        doc["extras"] = list(lock.extras)
    if lock.groups:
        doc["dependency-groups"] = list(lock.groups)
        doc["default-groups"] = list(lock.default_groups)
    doc["packages"] = [_package(pkg, output_dir) for pkg in lock.packages]
    return doc


def _package(pkg: LockedPackage, output_dir: Path | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": pkg.name}
    direct = pkg.direct or {}
    # PEP 751: version is required for index packages, optional (and best left out unless
    # static) for direct references; a VCS or archive version is still useful to readers.
    if pkg.version is not None and "dir_info" not in direct:
        entry["version"] = pkg.version
    if pkg.marker:
        entry["marker"] = pkg.marker
    if pkg.requires_python:
        entry["requires-python"] = pkg.requires_python
    if pkg.url is None:
        if pkg.index:
            entry["index"] = pkg.index
        sdists = [f for f in pkg.files if not f.is_wheel]
        wheels = [f for f in pkg.files if f.is_wheel]
        if sdists:
            entry["sdist"] = _file(sdists[0], output_dir, with_name=False)
        if wheels:
            entry["wheels"] = [_file(f, output_dir, with_name=False) for f in sorted(wheels, key=lambda f: f.filename)]
        return entry
    if "vcs_info" in direct:
        vcs = direct["vcs_info"]
        item: dict[str, Any] = {"type": vcs.get("vcs", "git"), "url": direct["url"]}
        if vcs.get("requested_revision"):
            item["requested-revision"] = vcs["requested_revision"]
        item["commit-id"] = vcs["commit_id"]
        if direct.get("subdirectory"):
            item["subdirectory"] = direct["subdirectory"]
        entry["vcs"] = item
    elif "dir_info" in direct:
        item = {"path": _local_path(direct["url"], output_dir)}
        if pkg.editable:
            item["editable"] = True
        entry["directory"] = item
    else:
        url = direct["url"]
        archive: dict[str, Any] = {}
        if url.startswith("file:"):
            archive["path"] = _local_path(url, output_dir)
        else:
            archive["url"] = url
        file = pkg.files[0] if pkg.files else None
        if file is not None and file.size is not None:
            archive["size"] = file.size
        if file is not None and file.upload_time:
            archive["upload-time"] = _datetime(file.upload_time)
        hashes = dict(file.hashes) if file is not None else {}
        info = direct.get("archive_info") or {}
        if not hashes and isinstance(info.get("hashes"), dict):
            hashes = dict(info["hashes"])
        archive["hashes"] = hashes
        if direct.get("subdirectory"):
            archive["subdirectory"] = direct["subdirectory"]
        entry["archive"] = archive
    return entry


def _file(file: LockedFile, output_dir: Path | None, *, with_name: bool) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if with_name:
        item["name"] = file.filename
    if file.url.startswith("file:"):
        item["path"] = _local_path(file.url, output_dir)
    else:
        item["url"] = file.url
    if file.upload_time:
        item["upload-time"] = _datetime(file.upload_time)
    if file.size is not None:
        item["size"] = file.size
    item["hashes"] = dict(sorted(file.hashes.items()))
    return item


def _local_path(url: str, output_dir: Path | None) -> str:
    """A ``file:`` URL as a path: relative to the lock file's directory where it can be
    (PEP 751 resolves relative paths against it), POSIX separators."""
    from urllib.parse import unquote, urlsplit

    path = Path(unquote(urlsplit(url.split("#", 1)[0]).path))
    if output_dir is not None:
        try:
            rel = os.path.relpath(path, output_dir)
        except ValueError:  # another drive
            return path.as_posix()
        return Path(rel).as_posix()
    return path.as_posix()


def _datetime(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def render(lock: Lock, *, output_dir: Path | None = None, header: bool = True) -> str:
    """The pylock.toml text, after checking the document with ``packaging.pylock`` and
    checking that the text reads back as the same document."""
    from packaging.pylock import Pylock, PylockValidationError

    doc = to_document(lock, output_dir=output_dir)
    try:
        Pylock.from_dict(doc)
    except PylockValidationError as exc:  # a bug, but say what, not a traceback
        raise SatchelError(f"the pylock.toml satchel made is not valid: {exc}") from exc
    text = toml.dumps(doc)
    if header:
        text = f"# This file was autogenerated by satchel via the following command:\n#    {lock.command}\n" + text
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    if Pylock.from_dict(tomllib.loads(text)) != Pylock.from_dict(doc):
        raise SatchelError("the pylock.toml satchel wrote does not read back as written")
    return text
