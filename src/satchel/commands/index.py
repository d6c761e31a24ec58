"""`satchel index versions NAME [--json]`: the versions an index offers, in pip's output form.

Versions are those with a file the target interpreter could install (a compatible wheel or an
sdist, Requires-Python admitting it, not yanked), pre-releases only with ``--pre``; the target
is the environment satchel would install into, else the ``python3`` on PATH (pip reports for
the interpreter it runs in), or what pip's --platform/--python-version/--implementation/--abi
describe. Its installed version is shown as pip shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache.store import Cache
from satchel.commands.common import open_cache
from satchel.errors import SatchelError
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.index_command != "versions":
        raise SatchelError("usage: satchel index versions NAME", hint="see satchel index --help")
    from satchel.commands.latest import index_client
    from satchel.commands.targets import described_interpreter
    from satchel.install.installed import find_installed
    from satchel.resolve.candidates import FileParser, FilePolicy, select_files

    name = str(canonicalize_name(args.name))
    cache = open_cache(settings)
    try:
        interp = described_interpreter(args, _interpreter(args, cache), resolving=False)
        client = index_client(args, settings, cache)
        try:
            files = client.find_files(name)
        finally:
            client.close()
    finally:
        cache.close()
    ranks = {tag: i for i, tag in enumerate(interp.tags)}
    policy = FilePolicy(tag_ranks=ranks, python_version=Version(interp.version_str))
    project = select_files(name, files, policy, FileParser(ranks, policy.python_version))
    versions = [
        str(v)
        for i, v in enumerate(project.versions)
        if (args.pre or not v.is_prerelease) and project.entry(i).file is not None
    ]
    if not versions:
        raise SatchelError(f"no matching distribution found for {args.name}")
    latest = versions[0]
    dist = find_installed(interp.paths, name)
    installed = dist.version if dist is not None else None
    out = sys.stdout
    if args.json:
        doc: dict[str, object] = {"name": args.name, "versions": versions, "latest": latest}
        if installed is not None:
            doc["installed_version"] = installed
        out.write(json.dumps(doc) + "\n")
        return 0
    out.write(f"{args.name} ({latest})\nAvailable versions: {', '.join(versions)}\n")
    if installed is not None:
        if installed == latest:
            out.write(f"  INSTALLED: {installed} (latest)\n")
        else:
            out.write(f"  INSTALLED: {installed}\n")
            if Version(latest).is_prerelease:
                out.write(f"  LATEST:    {latest} (pre-release; install with `satchel install --pre`)\n")
            else:
                out.write(f"  LATEST:    {latest}\n")
    return 0


def _interpreter(args: argparse.Namespace, cache: Cache) -> Interpreter:
    from satchel.python.cached import get_interpreter
    from satchel.python.discover import find_target

    try:
        exe = find_target(args.python, system=args.system, cwd=Path.cwd(), cache=cache)
    except SatchelError:
        if args.python is not None or args.system:
            raise
        exe = find_target(None, system=True, cwd=Path.cwd(), cache=cache)
    return get_interpreter(exe, cache)
