"""`satchel venv [PATH] [-p PYTHON]`: a virtual environment without pip, fast."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from satchel.commands.common import open_cache
from satchel.settings import Settings
from satchel.units import human_time


def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.python.discover import resolve_python_option
    from satchel.python.venv import create_venv

    started = time.perf_counter()
    cache = open_cache(settings, remote=False)
    try:
        if args.python:
            base = resolve_python_option(args.python, cwd=Path.cwd(), cache=cache)
        else:
            import shutil

            found = shutil.which("python3")
            base = Path(found) if found else Path(sys.executable)
        path = args.path.absolute()
        exe = create_venv(
            path,
            base,
            prompt=args.prompt,
            clear=args.clear,
            system_site_packages=args.system_site_packages,
            cache=cache,
        )
    finally:
        cache.close()
    sys.stderr.write(f"Created virtual environment at {path} in {human_time(time.perf_counter() - started)}\n")
    sys.stderr.write(f"Python: {exe}\nActivate with: source {os.path.join(path, 'bin', 'activate')}\n")
    return 0
