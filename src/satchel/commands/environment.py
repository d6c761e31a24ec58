"""Finding the environment a non-install command looks at."""

from __future__ import annotations

import argparse
from pathlib import Path

from satchel.commands.common import open_cache
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings


def target_interpreter(args: argparse.Namespace, settings: Settings) -> Interpreter:
    """The environment named by -p/--system/$VIRTUAL_ENV/./.venv, introspected (cached)."""
    from satchel.python.cached import get_interpreter
    from satchel.python.discover import find_target

    cache = open_cache(settings, remote=False)
    try:
        exe = find_target(args.python, system=args.system, cwd=Path.cwd(), cache=cache)
        return get_interpreter(exe, cache)
    finally:
        cache.close()
