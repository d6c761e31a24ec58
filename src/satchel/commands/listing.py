"""`satchel list [--format columns|freeze|json] [--outdated|--uptodate]` and `satchel freeze`."""

from __future__ import annotations

import argparse
import json
import sys

from satchel.commands.environment import target_interpreter
from satchel.errors import SatchelError
from satchel.install.installed import InstalledDist, list_installed
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    interp = target_interpreter(args, settings)
    dists = list_installed(interp.paths)
    fmt = "freeze" if args.command == "freeze" else args.format
    if args.command == "list" and (args.outdated or args.uptodate):
        return _list_against_index(args, settings, interp, dists, fmt)
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


def _list_against_index(
    args: argparse.Namespace,
    settings: Settings,
    interp: Interpreter,
    dists: list[InstalledDist],
    fmt: str,
) -> int:
    """``--outdated`` / ``--uptodate``, as pip shows them: the newest version the index offers
    for each installed package (cached pages under the usual freshness rules), and the kind of
    file it would be installed from. Packages the index does not have are left out."""
    from satchel.commands.common import open_cache
    from satchel.commands.latest import index_client, latest_versions

    if args.outdated and args.uptodate:
        raise SatchelError("--outdated and --uptodate cannot be combined")
    if fmt == "freeze":
        raise SatchelError(
            "list format 'freeze' cannot be used with --outdated or --uptodate",
            hint="use --format columns or --format json",
        )
    from packaging.version import InvalidVersion, Version

    cache = open_cache(settings)
    try:
        client = index_client(args, settings, cache)
        try:
            latest = latest_versions(client, interp, [d.name for d in dists], pre=args.pre)
        finally:
            client.close()
    finally:
        cache.close()
    rows: list[tuple[InstalledDist, str, str]] = []
    for d in dists:
        found = latest.get(d.name)
        if found is None:
            continue
        try:
            newer = found.version > Version(d.version)
        except InvalidVersion:
            newer = True
        if newer == bool(args.outdated):
            rows.append((d, str(found.version), found.filetype))
    out = sys.stdout
    if fmt == "json":
        items: list[dict[str, str]] = []
        for d, version, filetype in rows:
            item = {"name": d.display_name, "version": d.version}
            if args.outdated:  # like pip: the latest_* fields only with --outdated
                item.update(latest_version=version, latest_filetype=filetype)
            items.append(item)
        out.write(json.dumps(items) + "\n")
        return 0
    table = [("Package", "Version", "Latest", "Type")]
    table += [(d.display_name, d.version, version, filetype) for d, version, filetype in rows]
    if len(table) == 1:
        return 0  # pip prints nothing at all when nothing matches
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    table.insert(1, tuple("-" * w for w in widths))  # type: ignore[arg-type]
    for row in table:
        out.write(" ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0
