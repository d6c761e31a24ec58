"""Finding the environment a non-install command looks at."""

from __future__ import annotations

import argparse
from pathlib import Path

from satchel.cache.store import Cache
from satchel.python.interpreter import Interpreter


def target_interpreter(args: argparse.Namespace, cache: Cache) -> Interpreter:
    from satchel.python.cached import get_interpreter
    from satchel.python.discover import find_target

    exe = find_target(args.python, system=args.system, cwd=Path.cwd(), cache=cache)
    return get_interpreter(exe, cache)
