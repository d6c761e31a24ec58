"""`satchel uninstall NAME...`"""

from __future__ import annotations

import argparse

from packaging.utils import canonicalize_name

from satchel.commands.environment import target_interpreter
from satchel.commands.managed import check_not_externally_managed
from satchel.commands.request import project_names
from satchel.commands.say import say, warn
from satchel.errors import SatchelError
from satchel.install.installed import list_installed
from satchel.install.uninstall import uninstall
from satchel.settings import Settings
from satchel.units import count


def run(args: argparse.Namespace, settings: Settings) -> int:
    names = [*project_names("uninstall", args.names), *_names_in_files(args.requirement)]
    if not names:
        raise SatchelError("nothing to uninstall", hint="name packages, or pass -r requirements.txt")
    interp = target_interpreter(args, settings)
    check_not_externally_managed(interp.executable, interp.externally_managed, allowed=args.break_system_packages)
    installed = {d.name: d for d in list_installed(interp.paths)}
    wanted = list(dict.fromkeys(str(canonicalize_name(n)) for n in names))
    missing = [n for n in wanted if n not in installed]
    for name in missing:
        warn(f"{name} is not installed in {interp.prefix}")
    todo = [installed[n] for n in wanted if n in installed]
    if not todo:
        raise SatchelError(f"none of {', '.join(names)} is installed in {interp.prefix}")
    for dist in todo:
        uninstall(dist, interp.paths, prefix=interp.prefix)
        say(f" - {dist.name}=={dist.version}")
    say(f"Uninstalled {count(len(todo), 'package')}")
    return 0


def _names_in_files(files: list[str]) -> list[str]:
    """The project names that requirement files list (as pip's and uv's ``uninstall -r``):
    versions, markers and options do not matter; a line without a name (a bare path or URL)
    is an error naming its file and line."""
    if not files:
        return []
    from pathlib import Path

    from satchel.requirements.parser import parse_command_line

    parsed = parse_command_line(requirement_files=files, base_dir=Path.cwd())
    names = []
    for spec in parsed.requirements:
        if spec.name is None:
            raise SatchelError(
                f"{spec.source}: {spec.line!r} names no project to uninstall",
                hint="write it as NAME @ URL, or give the name on the command line",
            )
        names.append(spec.name)
    return names
