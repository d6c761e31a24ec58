"""Leaving the process once a command is done, without tearing the interpreter down.

A Python process that ends normally frees every object it made before it exits: after a warm
install of 37 packages that is ~40 ms (index pages, candidates, manifests), 10 % of the run,
spent on memory the kernel takes back at once anyway. :func:`leave` does what a normal exit does
that matters -- the output flushed, the ``atexit`` functions run (logging's shutdown among them),
nothing cut short that a normal exit would have waited for -- and then ends the process with
``os._exit``, skipping the teardown.

This is no weaker than the cache's contract: every cache write is atomic and checked on read, so
the cache is consistent at any instant a process may die (the crash suites kill satchel at every
write). Only the ``satchel`` program leaves this way; ``satchel.cli.main.main`` returns, because
other programs (the tests) call it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from typing import NoReturn


def waiting_threads() -> list[threading.Thread]:
    """The threads a normal exit would wait for: alive, not daemons, not the main thread. (None
    when ``threading`` was never imported: ``satchel --version`` does not import it.)"""
    threading = sys.modules.get("threading")
    if threading is None:
        return []
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


def watched() -> bool:
    """True while a profiler (cProfile, pyinstrument), a tracer (coverage) or a debugger runs."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: coverage's sys.monitoring core
    return monitoring is not None and any(monitoring.get_tool(i) is not None for i in range(6))


def leave(code: int) -> NoReturn:
    """End the process with ``code`` as a normal exit would, minus freeing every object.

    Falls back to a normal exit (``SystemExit``) when one would do more than this: a thread it
    would wait for (an executor's workers, say) is still alive, a profiler, tracer or debugger
    is watching (they write their results once the program returns), or flushing the output
    fails (the interpreter then reports it and exits with its own status, as always)."""
    # main() turns the cyclic collector back on when it returns, and the allocations it kept
    # from collecting start one at the next allocation: ~4 ms after a no-op install, to free
    # nothing that matters now. (Hence also leave is imported before main() runs.)
    import gc

    gc.disable()
    if waiting_threads() or watched():
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        raise SystemExit(code) from None
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        os._exit(120)  # what Python exits with when the final flush fails
    os._exit(code)
