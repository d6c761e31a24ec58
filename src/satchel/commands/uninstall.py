"""`satchel uninstall NAME...`"""

from __future__ import annotations

import argparse
import sys

from packaging.utils import canonicalize_name

from satchel.commands.environment import target_interpreter
from satchel.commands.managed import check_not_externally_managed
from satchel.errors import SatchelError
from satchel.install.installed import list_installed
from satchel.install.uninstall import uninstall
from satchel.settings import Settings
from satchel.units import count


def run(args: argparse.Namespace, settings: Settings) -> int:
    interp = target_interpreter(args, settings)
    check_not_externally_managed(interp.executable, interp.externally_managed, allowed=args.break_system_packages)
    installed = {d.name: d for d in list_installed(interp.paths)}
    wanted = [str(canonicalize_name(n)) for n in args.names]
    missing = [n for n in wanted if n not in installed]
    for name in missing:
        sys.stderr.write(f"warning: {name} is not installed in {interp.prefix}\n")
    todo = [installed[n] for n in wanted if n in installed]
    if not todo:
        raise SatchelError(f"none of {', '.join(args.names)} is installed in {interp.prefix}")
    for dist in todo:
        uninstall(dist, interp.paths, prefix=interp.prefix)
        sys.stderr.write(f" - {dist.name}=={dist.version}\n")
    sys.stderr.write(f"Uninstalled {count(len(todo), 'package')}\n")
    return 0
