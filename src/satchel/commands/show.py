"""`satchel show NAME...`"""

from __future__ import annotations

import argparse
import sys

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.commands.environment import target_interpreter
from satchel.errors import SatchelError
from satchel.install.installed import list_installed
from satchel.install.record import read_record
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
        if args.files and dist.record_path is not None:
            out.write("Files:\n")
            for entry in read_record(dist.record_path):
                out.write(f"  {entry.path}\n")
    if missing:
        raise SatchelError(f"package(s) not installed: {', '.join(missing)}")
    return 0


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
