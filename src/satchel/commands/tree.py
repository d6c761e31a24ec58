"""`satchel tree`: the installed dependency graph, drawn as `uv pip tree` draws it.

Roots are the installed packages nothing else requires (with ``--invert``: those that require
nothing); children are the installed requirements whose markers hold in the environment, without
extras, and whose specifier the installed version satisfies (as uv does), sorted by name. A
package whose children were drawn once is drawn again as ``name vX (*)``, unless
``--no-dedupe``; a cycle stops at the package already on the path. Names are shown normalized,
as uv shows them. (uv picks the root of a group of packages that only require each other with a
feedback-arc-set heuristic; satchel takes the first by name.)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.commands.environment import target_interpreter
from satchel.install.installed import InstalledDist, list_installed
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings

Edge = tuple[str, str]  # (normalized name, version specifier as required)

log = logging.getLogger("satchel")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.commands.request import check_index_options, project_names

    check_index_options(args)  # (used with --outdated; checked whenever given)
    project_names("--prune", args.prune)
    project_names("tree", args.names)
    project_names("--package", args.package)
    interp = target_interpreter(args, settings)
    pruned = {str(canonicalize_name(n)) for n in args.prune}
    installed = list_installed(interp.paths)
    dists = {d.name: d for d in installed if d.name not in pruned}
    latest: dict[str, str] = {}
    if args.outdated:
        latest = _outdated(args, settings, interp, dists)
    # name -> [(child, shown specifier)], one edge per applicable requirement (as uv: an
    # installed version outside the specifier is no edge)
    graph: dict[str, list[Edge]] = {name: [] for name in dists}
    for name, dist in dists.items():
        for child, spec in _requirements(dist, interp.markers, dists):
            if args.invert:
                # (uv shows the requirement with its name here: "[requires: leaf >=1]")
                graph[child].append((name, f"{child} {spec or '*'}"))
            else:
                graph[name].append((child, spec or "*"))
    wanted = {str(canonicalize_name(n)) for n in [*args.names, *args.package]}
    for name in sorted(wanted - {d.name for d in installed}):  # (as uv, no error: the rest's tree)
        log.warning("package not installed: %s", name)
    if wanted:
        graph = _reachable(graph, wanted)
    roots = _roots(graph)
    lines: list[str] = []
    visited: dict[str, list[str]] = {}  # expanded packages -> their children's names

    def label(name: str) -> str:
        return f"{name} v{dists[name].version}"

    def visit(name: str, spec: str | None, path: list[str]) -> list[str]:
        if len(path) > args.depth:
            return []
        line = label(name)
        if spec is not None and args.show_version_specifiers:
            line += f" [{'requires' if args.invert else 'required'}: {spec}]"
        seen = visited.get(name)
        if seen is not None and (not args.no_dedupe or name in path):
            return [f"{line} (*)" if seen else line]
        if name in latest:
            line += f" (latest: v{latest[name]})"
        children = sorted(graph[name], key=lambda edge: edge[0])
        out = [line]
        visited[name] = [child for child, _ in children]
        path.append(name)
        for i, (child, child_spec) in enumerate(children):
            last = i == len(children) - 1
            for j, text in enumerate(visit(child, child_spec, path)):
                prefix = ("└── " if last else "├── ") if j == 0 else ("    " if last else "│   ")
                out.append(prefix + text)
        path.pop()
        return out

    for root in roots:
        lines.extend(visit(root, None, []))
    out = sys.stdout
    if lines:
        out.write("\n".join(lines) + "\n")
    if any(line.endswith("(*)") for line in lines):
        if args.no_dedupe:
            out.write("(*) Package tree is a cycle and cannot be shown\n")
        else:
            out.write("(*) Package tree already displayed\n")
    return 0


def _reachable(graph: dict[str, list[Edge]], wanted: set[str]) -> dict[str, list[Edge]]:
    """``graph`` cut down to what ``wanted`` reaches (uv's ``--package``)."""
    seen = {name for name in wanted if name in graph}
    stack = list(seen)
    while stack:
        for child, _ in graph[stack.pop()]:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return {name: edges for name, edges in graph.items() if name in seen}


def _roots(graph: dict[str, list[Edge]]) -> list[str]:
    """Packages nothing (still in ``graph``) points to, sorted; in a group of packages that only
    reach each other (a cycle), the first by name."""
    has_parent = {child for edges in graph.values() for child, _ in edges}
    roots = sorted(n for n in graph if n not in has_parent)
    return roots + _cycle_roots(graph, roots)


def _requirements(dist: InstalledDist, markers: dict[str, str], dists: dict[str, InstalledDist]) -> list[Edge]:
    """``dist``'s requirements that apply here without extras and that an installed
    distribution satisfies, in order: (name, specifier as written)."""
    env = {**markers, "extra": ""}
    out: list[Edge] = []
    for text in dist.requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and not _holds(req.marker, env):
            continue
        name = str(canonicalize_name(req.name))
        installed = dists.get(name)
        if installed is None:
            continue
        if req.url is not None:
            out.append((name, req.url))
            continue
        try:
            if req.specifier and not req.specifier.contains(Version(installed.version), prereleases=True):
                continue
        except InvalidVersion:
            continue
        out.append((name, str(req.specifier)))
    return out


def _holds(marker: Marker, env: dict[str, str]) -> bool:
    try:
        return marker.evaluate(env)
    except Exception:  # an undefined or malformed marker: the requirement does not apply
        return False


def _cycle_roots(graph: dict[str, list[Edge]], roots: Iterable[str]) -> list[str]:
    """The first (by name) package of each group not reachable from ``roots``."""
    seen: set[str] = set()

    def visit(name: str) -> None:
        stack = [name]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(child for child, _ in graph.get(current, []))

    for root in roots:
        visit(root)
    extra = []
    for name in sorted(graph):
        if name not in seen:
            extra.append(name)
            visit(name)
    return extra


def _outdated(
    args: argparse.Namespace, settings: Settings, interp: Interpreter, dists: dict[str, InstalledDist]
) -> dict[str, str]:
    from satchel.commands.common import open_cache
    from satchel.commands.latest import index_client, latest_versions
    cache = open_cache(settings)
    try:
        client = index_client(args, settings, cache)
        try:
            found = latest_versions(client, interp, dists, pre=args.pre)
        finally:
            client.close()
    finally:
        cache.close()
    out = {}
    for name, latest in found.items():
        try:
            newer = latest.version > Version(dists[name].version)
        except InvalidVersion:
            newer = True
        if newer:
            out[name] = str(latest.version)
    return out
