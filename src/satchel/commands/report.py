"""`satchel install --report FILE`: pip's installation report, format version "1".

The fields are pip's (docs: "Installation Report"): ``version``, ``pip_version`` (here the
satchel version that wrote it), ``install`` (one item per distribution installed, or that would
be with ``--dry-run``: ``metadata`` as PEP 566's JSON form of the core metadata, ``is_direct``,
``is_yanked``, ``download_info`` as PEP 610's direct URL data, ``requested``,
``requested_extras`` when the user asked for extras) and ``environment`` (the target's marker
environment).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from satchel import __version__
from satchel.errors import SatchelError
from satchel.resolve import ResolvedPackage

#: pip's list: (field, multiple use), in the order pip writes them.
METADATA_FIELDS = (
    ("Metadata-Version", False),
    ("Name", False),
    ("Version", False),
    ("Dynamic", True),
    ("Platform", True),
    ("Supported-Platform", True),
    ("Summary", False),
    ("Description", False),
    ("Description-Content-Type", False),
    ("Keywords", False),
    ("Home-page", False),
    ("Download-URL", False),
    ("Author", False),
    ("Author-email", False),
    ("Maintainer", False),
    ("Maintainer-email", False),
    ("License", False),
    ("License-Expression", False),
    ("License-File", True),
    ("Classifier", True),
    ("Requires-Dist", True),
    ("Requires-Python", False),
    ("Requires-External", True),
    ("Project-URL", True),
    ("Provides-Extra", True),
    ("Provides-Dist", True),
    ("Obsoletes-Dist", True),
)

ENVIRONMENT_KEYS = (
    "implementation_name",
    "implementation_version",
    "os_name",
    "platform_machine",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "platform_python_implementation",
    "python_version",
    "sys_platform",
)


def metadata_json(data: bytes) -> dict[str, Any]:
    """Core metadata (a METADATA / PKG-INFO file) as PEP 566's JSON: lower-case keys with
    underscores, multiple-use fields as lists, ``keywords`` as a list, the body as
    ``description`` -- as pip converts it."""
    import email.parser
    import email.policy

    # As pip reads it: the file as UTF-8 text, parsed with the compat32 policy.
    msg = email.parser.Parser(policy=email.policy.compat32).parsestr(data.decode("utf-8", "replace"))
    out: dict[str, Any] = {}
    for field, multiple in METADATA_FIELDS:
        if field not in msg:
            continue
        key = field.lower().replace("-", "_")
        if multiple:
            out[key] = [str(v) for v in msg.get_all(field, [])]
            continue
        value = str(msg.get(field))
        if key == "keywords":
            out[key] = [v.strip() for v in value.split(",")] if "," in value else value.split()
        else:
            out[key] = value
    payload = msg.get_payload()
    if isinstance(payload, str) and payload:
        out["description"] = payload
    return out


def report_item(
    pkg: ResolvedPackage,
    metadata: bytes,
    download_info: dict[str, Any],
    requested_extras: Iterable[str] | None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "download_info": download_info,
        "is_direct": pkg.url is not None,
        "is_yanked": pkg.file is not None and pkg.file.yanked is not None,
        "requested": pkg.is_direct,
        "metadata": metadata_json(metadata),
    }
    extras = sorted(requested_extras or ())
    if pkg.is_direct and extras:
        item["requested_extras"] = extras
    return item


def index_download_info(pkg: ResolvedPackage) -> dict[str, Any]:
    """PEP 610 data of an index file: its URL and hash."""
    assert pkg.file is not None
    info: dict[str, Any] = {"url": pkg.file.url, "archive_info": {}}
    hashes = dict(pkg.file.hashes)
    if hashes:
        best = "sha256" if "sha256" in hashes else sorted(hashes)[0]
        info["archive_info"] = {"hash": f"{best}={hashes[best]}", "hashes": hashes}
    return info


def archive_hashes(path: Path) -> dict[str, Any]:
    """PEP 610 ``archive_info`` of a local archive: its sha256."""
    from satchel.cache.store import sha256_of

    digest = sha256_of(path)
    return {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}


def write_report(
    destination: str,
    packages: Sequence[ResolvedPackage],
    *,
    metadata_of: Callable[[ResolvedPackage], bytes],
    download_info_of: Callable[[ResolvedPackage], dict[str, Any]],
    requested_extras: Mapping[str, Iterable[str]],
    markers: Mapping[str, str],
) -> None:
    """Write the report to ``destination`` ("-": standard output)."""
    report = {
        "version": "1",
        "pip_version": __version__,
        "install": [
            report_item(pkg, metadata_of(pkg), download_info_of(pkg), requested_extras.get(pkg.name))
            for pkg in packages
        ],
        "environment": {k: markers[k] for k in ENVIRONMENT_KEYS if k in markers},
    }
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(destination)
    if not path.name:  # "." or "/": a directory, with no name to make a temp file's from
        raise SatchelError(f"cannot write the report to {destination}: Is a directory")
    tmp = path.with_name(f".{path.name}.satchel-tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        # (a directory at ``path``, a full disk: leave no temp file behind)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise SatchelError(f"cannot write the report to {destination}: {exc.strerror or exc}") from None


def dist_info_metadata(tree_path: Path, files: Iterable[str]) -> bytes:
    """The METADATA of an unpacked wheel (``files``: its paths, relative to ``tree_path``)."""
    for name in files:
        top, _, rest = name.partition("/")
        if rest == "METADATA" and top.endswith(".dist-info"):
            return (tree_path / name).read_bytes()
    raise SatchelError(f"no .dist-info/METADATA in the unpacked wheel at {tree_path}")


def requested_extras_of(specs: Iterable[Any]) -> dict[str, set[str]]:
    """Extras the user asked for, per normalized name (from the root requirement specs)."""
    out: dict[str, set[str]] = {}
    for spec in specs:
        req = spec.requirement
        if req is None:
            continue
        out.setdefault(str(canonicalize_name(req.name)), set()).update(
            str(canonicalize_name(e)) for e in req.extras
        )
    return out
