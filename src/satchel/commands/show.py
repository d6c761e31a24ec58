"""`satchel show NAME...`"""

from __future__ import annotations

import argparse
import sys

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.commands.environment import target_interpreter
from satchel.errors import SatchelError
from satchel.install.installed import InstalledDist, list_installed
from satchel.install.record import RecordError, read_record
from satchel.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    interp = target_interpreter(args, settings)
    dists = list_installed(interp.paths)
    by_name = {d.name: d for d in dists}
    out = sys.stdout
    missing = []
    first = True
    for raw in args.names:
        dist = by_name.get(str(canonicalize_name(raw)))
        if dist is None:
            missing.append(raw)
            continue
        if not first:
            out.write("---\n")
        first = False
        meta = dist.metadata
        required_by = sorted(
            d.display_name for d in dists if dist.name in _dep_names(d.requires_dist)
        )
        out.write(f"Name: {dist.display_name}\nVersion: {dist.version}\n")
        for field in ("Summary", "Home-page", "Author", "Author-email", "License"):
            if meta.get(field):
                out.write(f"{field}: {meta.get(field)}\n")
        out.write(f"Location: {dist.site_packages}\n")
        out.write(f"Installer: {dist.installer or ''}\n")
        out.write(f"Requires: {', '.join(sorted(_dep_names(dist.requires_dist)))}\n")
        out.write(f"Required-by: {', '.join(required_by)}\n")
        if args.files:
            out.write(_files_section(dist))
    if missing:
        raise SatchelError(f"package(s) not installed: {', '.join(missing)}")
    return 0


def _files_section(dist: InstalledDist) -> str:
    """The ``Files:`` section of ``show -f``: RECORD's paths, indented; or, when there is no
    readable RECORD, one line saying why the installed files are unknown (pip's "Cannot locate
    RECORD or installed-files.txt"), not an error: the rest of what show says is still true."""
    record = dist.record_path
    if record is None:
        return f"Files:\nCannot locate RECORD: {dist.dist_info} is .egg-info metadata, {_UNKNOWN}\n"
    try:
        entries = read_record(record)
    except (FileNotFoundError, NotADirectoryError):
        return f"Files:\nCannot locate RECORD: {record} is missing, {_UNKNOWN}\n"
    except OSError as exc:
        return f"Files:\nCannot read RECORD: {record} ({exc.strerror or exc}), {_UNKNOWN}\n"
    except RecordError as exc:
        return f"Files:\nCannot read RECORD: {record} ({exc}), {_UNKNOWN}\n"
    return "Files:\n" + "".join(f"  {entry.path}\n" for entry in entries)


_UNKNOWN = "so the installed files are unknown"


def _dep_names(requires: list[str]) -> set[str]:
    names = set()
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue
        names.add(str(canonicalize_name(req.name)))
    return names
