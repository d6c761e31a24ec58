"""`satchel tree`: the installed dependency graph, drawn as `uv pip tree` draws it.

Roots are the installed packages nothing else requires (with ``--invert``: those that require
nothing); children are the installed requirements whose markers hold in the environment, without
extras (as uv does), sorted by name. A package whose children were drawn once is drawn again as
``name vX (*)``, unless ``--no-dedupe``; a cycle stops at the package already on the path.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.commands.environment import target_interpreter
from satchel.install.installed import InstalledDist, list_installed
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings

Edge = tuple[str, str]  # (normalized name, version specifier as required)


def run(args: argparse.Namespace, settings: Settings) -> int:
    interp = target_interpreter(args, settings)
    dists = {d.name: d for d in list_installed(interp.paths)}
    requires = {name: _requirements(d, interp.markers, dists) for name, d in dists.items()}
    latest: dict[str, str] = {}
    if args.outdated:
        latest = _outdated(args, settings, interp, dists)
    graph: dict[str, list[Edge]]
    if args.invert:
        graph = {name: [] for name in dists}
        for name, edges in requires.items():
            for child, spec in edges:
                # (uv shows the requirement with its name here: "[requires: leaf >=1]")
                graph[child].append((name, f"{child} {spec or '*'}"))
        for edges in graph.values():
            edges.sort()
    else:
        graph = requires
    has_parent = {child for edges in graph.values() for child, _ in edges}
    wanted = [str(canonicalize_name(n)) for n in [*args.names, *args.package]]
    if wanted:
        roots = [n for n in sorted(set(wanted)) if n in dists]
    else:
        roots = sorted(n for n in dists if n not in has_parent)
        # Packages only reachable through a cycle have a parent but no root above them.
        roots += _cycle_roots(graph, roots)
    pruned = {str(canonicalize_name(n)) for n in args.prune}
    lines: list[str] = []
    drawn: set[str] = set()
    marked = False

    def label(name: str, spec: str | None, *, again: bool = False) -> str:
        text = f"{dists[name].display_name} v{dists[name].version}"
        if spec is not None and args.show_version_specifiers:
            text += f" [{'requires' if args.invert else 'required'}: {spec or '*'}]"
        if name in latest and not again:  # (uv leaves it off a package drawn again)
            text += f" (latest: v{latest[name]})"
        return text

    def draw(name: str, spec: str | None, prefix: str, branch: str, depth: int, path: tuple[str, ...]) -> None:
        nonlocal marked
        children = [(c, s) for c, s in graph.get(name, []) if c not in pruned]
        if not args.no_dedupe and name in drawn and children and depth < args.depth:
            lines.append(f"{prefix}{branch}{label(name, spec, again=True)} (*)")
            marked = True
            return
        lines.append(f"{prefix}{branch}{label(name, spec)}")
        if depth >= args.depth or name in path:
            return
        drawn.add(name)
        inner = prefix + ("" if not branch else "    " if branch.startswith("└") else "│   ")
        for i, (child, child_spec) in enumerate(children):
            last = i == len(children) - 1
            draw(child, child_spec, inner, "└── " if last else "├── ", depth + 1, (*path, name))

    for root in roots:
        if root not in pruned:
            draw(root, None, "", "", 0, ())
    if marked:
        lines.append("(*) Package tree already displayed")
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _requirements(dist: InstalledDist, markers: dict[str, str], dists: dict[str, InstalledDist]) -> list[Edge]:
    """``dist``'s installed requirements that apply here without extras: (name, specifier)."""
    env = {**markers, "extra": ""}
    out: dict[str, str] = {}
    for text in dist.requires_dist:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and not _holds(req.marker, env):
            continue
        name = str(canonicalize_name(req.name))
        if name in dists and name != dist.name and name not in out:
            out[name] = str(req.specifier)
    return sorted(out.items())


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
    from packaging.version import InvalidVersion, Version

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
