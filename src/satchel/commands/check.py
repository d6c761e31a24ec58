"""`satchel check`: every installed distribution's requirements are installed and compatible."""

from __future__ import annotations

import argparse
import logging
import sys

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.commands.environment import target_interpreter
from satchel.install.installed import list_installed
from satchel.settings import Settings
from satchel.standards.markers import MarkerUndefined, marker_holds

log = logging.getLogger("satchel")


def run(args: argparse.Namespace, settings: Settings) -> int:
    interp = target_interpreter(args, settings)
    dists = list_installed(interp.paths)
    by_name = {d.name: d for d in dists}
    problems = []
    for dist in dists:
        for text in dist.requires_dist:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                problems.append(f"{dist.display_name} {dist.version} has an invalid requirement {text!r}")
                continue
            if req.marker is not None:
                try:
                    if not marker_holds(req.marker, interp.markers):
                        continue
                except MarkerUndefined as e:  # left out with a warning, as the resolver does
                    log.warning(
                        "Ignoring requirement %r of %s %s: cannot evaluate its marker (%s)",
                        text, dist.display_name, dist.version, e,
                    )
                    continue
            dep = by_name.get(str(canonicalize_name(req.name)))
            if dep is None:
                problems.append(f"{dist.display_name} {dist.version} requires {req.name}, which is not installed.")
                continue
            try:
                ok = req.specifier.contains(Version(dep.version), prereleases=True)
            except InvalidVersion:
                ok = False
            if not ok:
                problems.append(
                    f"{dist.display_name} {dist.version} has requirement {req}, but you have "
                    f"{dep.display_name} {dep.version}."
                )
    for line in problems:
        sys.stdout.write(line + "\n")
    if problems:
        return 1
    sys.stdout.write("No broken requirements found.\n")
    return 0
