"""`satchel venv [PATH] [-p PYTHON]`: a virtual environment, fast; without pip unless ``--seed``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from satchel.commands.common import open_cache
from satchel.commands.say import say
from satchel.settings import Settings
from satchel.units import human_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.commands.request import IndexChoice


def run(args: argparse.Namespace, settings: Settings) -> int:
    from satchel.commands.request import check_index_options
    from satchel.python.discover import resolve_python_option
    from satchel.python.venv import create_venv

    started = time.perf_counter()
    # (URLs and --exclude-newer checked before anything is created, with --seed or not)
    index = check_index_options(args)
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
            force=args.force,
            system_site_packages=args.system_site_packages,
            cache=cache,
        )
        if args.seed:
            from satchel.python.cached import get_facts

            version = get_facts(exe, cache).version_info
    finally:
        cache.close()
    say(f"Created virtual environment at {path} in {human_time(time.perf_counter() - started)}")
    say(f"Python: {exe}")
    if args.seed:
        code = _seed(exe, version, index, args.exclude_newer, settings)
        if code:
            return code
    say(f"Activate with: source {os.path.join(path, 'bin', 'activate')}")
    return 0


def _seed(
    exe: Path, version: tuple[int, int, int], index: IndexChoice, exclude_newer: str | None, settings: Settings
) -> int:
    """``--seed``, as uv's: pip into the new environment, and setuptools and wheel too before
    Python 3.12 (what ``python -m venv`` put there), installed by satchel from the index
    (files uploaded after ``exclude_newer``, --exclude-newer as given, left out)."""
    from satchel.commands import install
    from satchel.commands.request import InstallRequest
    from satchel.requirements.parser import parse_command_line

    seeds = ["pip"] if version[:2] >= (3, 12) else ["pip", "setuptools", "wheel"]
    request = InstallRequest(
        requirements=parse_command_line(seeds), python=str(exe), index=index, exclude_newer=exclude_newer
    )
    return install.run(request, settings)
