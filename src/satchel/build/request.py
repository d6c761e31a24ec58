"""What to build and how: the one argument of ``build_wheel`` and ``prepare_metadata``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from satchel.build.env import InstallRequirements
from satchel.build.source import Source
from satchel.cache.store import Cache
from satchel.python.interpreter import Interpreter

ConfigSettings = Mapping[str, str | list[str]]


@dataclass(frozen=True)
class BuildRequest:
    """A build of ``source`` for ``interpreter``, cached in ``cache``.

    ``install_requirements`` installs build requirements into a build environment (None: builds
    that need any fail). ``editable`` asks for a PEP 660 editable wheel (local directories only).
    Without ``build_isolation`` hooks run in ``interpreter`` itself and nothing is installed.
    ``config_settings`` go to every hook. ``building`` is the chain of builds in progress (from
    the ``install_requirements`` callback; empty at top level). ``log_dir`` keeps the logs of
    failed builds. ``build_constraints`` (``-b``) constrain what build environments get."""

    source: Source
    interpreter: Interpreter
    cache: Cache
    install_requirements: InstallRequirements | None = None
    editable: bool = False
    build_isolation: bool = True
    config_settings: ConfigSettings | None = None
    building: Collection[str] = ()
    log_dir: Path | None = None
    build_constraints: tuple[str, ...] = ()
