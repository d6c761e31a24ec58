"""The link worker's program (``satchel.install.link_worker``): the ``satchel`` program's own
start-up (deferred modules, the compiled-code table), then :func:`serve` on its standard input
and output, then :func:`satchel.cli.leave.leave`."""

from __future__ import annotations

import sys


def run() -> None:
    from satchel.cli.deferred import DEFERRED, defer
    from satchel.cli.leave import leave

    defer(*DEFERRED)
    from satchel.cli.compiled_code import install

    install()
    from satchel.install.link_worker import serve

    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the command went away
    leave(0)
