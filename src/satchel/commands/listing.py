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
    from satchel.commands.request import check_index_options

    check_index_options(args)  # (list: used with --outdated/--uptodate; checked whenever given)
    excluded = _excluded(args.exclude)
    interp = target_interpreter(args, settings)
    installed = list_installed(interp.paths)
    if getattr(args, "not_required", False):
        excluded |= required_names(installed, interp.markers)
    dists = [
        d
        for d in installed
        if d.name not in excluded
        and not (args.exclude_editable and is_editable(d))
        and (is_editable(d) if getattr(args, "editable", False) else True)
    ]
    fmt = "freeze" if args.command == "freeze" else args.format
    if args.command == "list" and (args.outdated or args.uptodate):
        return _list_against_index(args, settings, interp, dists, fmt)
    out = sys.stdout
    if fmt == "json":
        out.write(json.dumps([_json_row(d) for d in dists]) + "\n")
    elif fmt == "freeze":
        for d in dists:
            out.write(_freeze_line(d) + "\n")
    else:
        # pip's columns: a third, "Editable project location", when anything is editable
        rows = [(d.display_name, d.version, editable_location(d) or "") for d in dists]
        headers = ("Package", "Version", "Editable project location")[: 3 if any(r[2] for r in rows) else 2]
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
        lines = [headers, tuple("-" * w for w in widths), *(r[: len(headers)] for r in rows)]
        for line in lines:
            out.write(" ".join(f"{cell:<{w}}" for cell, w in zip(line, widths, strict=True)).rstrip() + "\n")
    return 0


def _json_row(d: InstalledDist) -> dict[str, str]:
    row = {"name": d.display_name, "version": d.version}
    location = editable_location(d)
    if location is not None:
        row["editable_project_location"] = location
    return row


def required_names(dists: list[InstalledDist], markers: dict[str, str]) -> set[str]:
    """The names some installed distribution requires (its Requires-Dist lines whose markers
    hold here without extras; versions do not matter), as pip's ``list --not-required`` sees
    them. Lines that cannot be read or evaluated require nothing."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from satchel.standards.markers import MarkerUndefined, marker_holds

    required: set[str] = set()
    for dist in dists:
        for text in dist.requires_dist:
            try:
                req = Requirement(text)
                if req.marker is None or marker_holds(req.marker, markers):
                    required.add(str(canonicalize_name(req.name)))
            except (InvalidRequirement, MarkerUndefined):
                continue
    return required


def _excluded(names: list[str]) -> set[str]:
    """``--exclude`` values, checked and canonicalized (as pip's)."""
    from packaging.utils import canonicalize_name

    from satchel.commands.request import project_names

    project_names("--exclude", names)
    return {str(canonicalize_name(n)) for n in names}


def is_editable(d: InstalledDist) -> bool:
    """Installed in editable mode: PEP 610 ``dir_info.editable`` (as pip and uv mark it)."""
    dir_info = (d.direct_url or {}).get("dir_info")
    return isinstance(dir_info, dict) and dir_info.get("editable") is True


def editable_location(d: InstalledDist) -> str | None:
    """The project directory of an editable install (its ``file:`` URL as a path), else None."""
    if not is_editable(d):
        return None
    from urllib.parse import unquote, urlsplit

    url = (d.direct_url or {}).get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "file":
        return None
    return unquote(parts.path)


def _freeze_line(d: InstalledDist) -> str:
    """Like pip freeze: ``name==version``, or the PEP 610 direct reference (with the archive's
    hash and subdirectory as URL fragments, and ``vcs+url@commit`` for VCS checkouts)."""
    direct = d.direct_url
    if not direct or not isinstance(direct.get("url"), str):
        return f"{d.display_name}=={d.version}"
    url: str = direct["url"]
    if is_editable(d):
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
