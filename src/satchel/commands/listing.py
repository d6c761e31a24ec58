"""`satchel list [--format columns|freeze|json]` and `satchel freeze`."""

from __future__ import annotations

import argparse
import json
import sys

from satchel.commands.environment import target_interpreter
from satchel.install.installed import InstalledDist, list_installed
from satchel.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    interp = target_interpreter(args, settings)
    dists = list_installed(interp.paths)
    fmt = "freeze" if args.command == "freeze" else args.format
    out = sys.stdout
    if fmt == "json":
        out.write(json.dumps([{"name": d.display_name, "version": d.version} for d in dists]) + "\n")
    elif fmt == "freeze":
        for d in dists:
            out.write(_freeze_line(d) + "\n")
    else:
        rows = [(d.display_name, d.version) for d in dists]
        width = max([len("Package"), *(len(n) for n, _ in rows)])
        vwidth = max([len("Version"), *(len(v) for _, v in rows)])
        out.write(f"{'Package':<{width}} {'Version':<{vwidth}}\n{'-' * width} {'-' * vwidth}\n")
        for name, version in rows:
            out.write(f"{name:<{width}} {version}\n")
    return 0


def _freeze_line(d: InstalledDist) -> str:
    direct = d.direct_url
    if direct and isinstance(direct.get("url"), str) and not direct.get("dir_info", {}).get("editable"):
        return f"{d.display_name} @ {direct['url']}"
    if direct and direct.get("dir_info", {}).get("editable"):
        return f"-e {direct['url']}"
    return f"{d.display_name}=={d.version}"
