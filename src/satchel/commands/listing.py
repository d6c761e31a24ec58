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
    """Like pip freeze: ``name==version``, or the PEP 610 direct reference (with the archive's
    hash and subdirectory as URL fragments, and ``vcs+url@commit`` for VCS checkouts)."""
    direct = d.direct_url
    if not direct or not isinstance(direct.get("url"), str):
        return f"{d.display_name}=={d.version}"
    url: str = direct["url"]
    dir_info = direct.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        return f"-e {url}"
    fragments = []
    vcs_info = direct.get("vcs_info")
    archive_info = direct.get("archive_info")
    if isinstance(vcs_info, dict) and vcs_info.get("vcs") and vcs_info.get("commit_id"):
        url = f"{vcs_info['vcs']}+{url}@{vcs_info['commit_id']}"
    elif isinstance(archive_info, dict):
        digest = archive_info.get("hash")
        hashes = archive_info.get("hashes")
        if not isinstance(digest, str) and isinstance(hashes, dict) and hashes.get("sha256"):
            digest = f"sha256={hashes['sha256']}"
        if isinstance(digest, str) and "=" in digest:
            fragments.append(digest)
    if isinstance(direct.get("subdirectory"), str):
        fragments.append(f"subdirectory={direct['subdirectory']}")
    if fragments:
        url += "#" + "&".join(fragments)
    return f"{d.display_name} @ {url}"
