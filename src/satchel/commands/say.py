"""What a command tells its user on standard error: the summary lines (``Resolved ...``,
``Installed ...``, `` + name==version``, ``Saved ...``).

They go to satchel's logger at INFO, the level the CLI's handler prints as plain lines, so they
come out in order with the warnings, and ``-q`` hides them as pip's and uv's ``-q`` do (``-q``:
warnings and errors only; ``-qq``: errors only). What a command prints on standard output (a
lock, ``list``, ``freeze``) is its result, not a summary, and is never hidden.
"""

from __future__ import annotations

import logging

_log = logging.getLogger("satchel")


def say(text: str) -> None:
    """One summary line (hidden by ``-q``)."""
    _log.info("%s", text)


def warn(text: str) -> None:
    """One warning line, ``warning: `` added (hidden by ``-qq``)."""
    _log.warning("%s", text)


def say_timed(text: str, started: float) -> None:
    """One summary line ending in the time since ``started`` (``time.perf_counter``): ``text``
    then the time, as in ``Resolved 3 packages in 12ms``. (A replay of the run says the time
    the replay took: :mod:`satchel.commands.replaying`.)"""
    import time

    from satchel.units import human_time

    _log.info("%s%s", text, human_time(time.perf_counter() - started), extra={"satchel_timed": text})
