"""Installing distributions side by side on a machine with few cores.

Linking a distribution into an environment is mostly ``mkdir`` and ``link`` system calls, which
run without the GIL. On 2 cores whether a second thread helps depends on how long those calls
take: when the filesystem answers in a few microseconds, two threads spend their time handing the
GIL back and forth (trio's 37 wheels: 104 ms on one thread, 139 ms on two, at twice the CPU);
when it is busy and a call takes a hundred microseconds or more, the kernel work of two threads
overlaps (the same install: 480-950 ms on one thread, ~480 ms on two). So the calling thread
starts alone, times what it links, and brings in one more thread for the rest when the files so
far took longer than :data:`SLOW_NS_PER_FILE` each.

The threshold was 60 us a file until the bench timed fresh venvs on a disk at rest: there a new
directory still costs 100-400 us of system time on this ext4 (every inode allocation does), a
file links in 35-46 us on average, the helper never started, and linking on two threads made
warm offline installs 1.08-1.11x faster (trio, django-seed and jupyter, 10-12 interleaved pairs
each). At 30 us a phase like round two's (29 us a file, where two threads were slower) still
stays on one thread.

Distributions that write the same file must be installed one after the other, in order (which
one wins must not depend on thread timing): the caller says whether they do with ``parallel``,
asked only when a helper would start -- finding out reads every manifest's file list (2.5 ms for
trio's 37 wheels, more for jupyter's), which a fast link, the usual case, never needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Elsewhere(Protocol[T_contra]):
    """Another process that installs items (``satchel.install.link_worker``, through
    ``commands/pipeline.py``)."""

    def ready(self, timeout: float) -> bool | None:
        """Whether it takes items: True, False (not yet: asked again), None (it never will)."""

    def __call__(self, item: T_contra, /) -> bool:
        """Install ``item`` there; False when that was not done (it is then installed here)."""


#: How long the helper waits for the other process at a time, between looks at what is left.
READY_POLL_S = 0.005

#: Time per linked file (wall clock, on the calling thread) above which a second thread helps.
SLOW_NS_PER_FILE = 30_000
#: Files to link before deciding (the first distributions are often small ones).
SAMPLE_FILES = 200


def install_adaptively(
    items: Sequence[T],
    install: Callable[[T], None],
    files: Callable[[T], int],
    parallel: Callable[[], bool] = lambda: True,
    elsewhere: Elsewhere[T] | None = None,
) -> bool:
    """``install(item)`` for every item, in order: on the calling thread, plus one helper thread
    once linking turns out slow (module docstring) and ``parallel()`` (asked at most once) says
    the items may be installed side by side. The first failure stops the rest (what is under
    way finishes) and is raised. Returns whether the helper was started.

    With ``elsewhere`` (another process that installs: ``satchel.install.link_worker``) the
    helper starts at once, asks ``parallel()`` itself (the calling thread links meanwhile),
    waits until ``elsewhere`` is ready -- giving up once nothing is left to take, so that a
    process still starting never holds an item back -- and hands each item it takes to
    ``elsewhere(item)``, which installs it there and says whether it did; an item it did not is
    installed by the helper itself, with ``install``."""
    lock = threading.Lock()
    failures: list[BaseException] = []
    taken = [0]  # items handed out so far

    def take() -> T | None:
        with lock:
            if failures or taken[0] == len(items):
                return None
            taken[0] += 1
            return items[taken[0] - 1]

    def left() -> bool:
        with lock:
            return not failures and taken[0] < len(items)

    def helper() -> None:
        try:
            if elsewhere is not None:
                if not parallel():
                    return  # the calling thread installs them all, in order
                while not (state := elsewhere.ready(READY_POLL_S)):
                    if state is None or not left():
                        return  # it never will, or there is nothing left for it
            while (item := take()) is not None:
                if elsewhere is not None:
                    if elsewhere(item):
                        continue
                    with lock:
                        if failures:
                            return  # the run failed meanwhile (an interrupt ended the other process)
                install(item)
        except BaseException as exc:  # handed to the calling thread, which raises it
            with lock:
                failures.append(exc)

    thread: threading.Thread | None = None
    alone = False  # parallel() said no: the calling thread installs the rest, in order
    started = time.perf_counter_ns()
    linked = 0
    if elsewhere is not None and len(items) > 1:
        thread = threading.Thread(target=helper, name="satchel-link", daemon=True)
        thread.start()
    try:
        while (item := take()) is not None:
            install(item)
            linked += files(item)
            if (
                thread is None
                and not alone
                and linked >= SAMPLE_FILES
                and (time.perf_counter_ns() - started) > SLOW_NS_PER_FILE * linked
                and len(items) - taken[0] > 1
            ):
                if not parallel():
                    alone = True
                    continue
                thread = threading.Thread(target=helper, name="satchel-link", daemon=True)
                thread.start()
    except BaseException as exc:
        with lock:
            failures.insert(0, exc)
    finally:
        if thread is not None:
            thread.join()
    if failures:
        raise failures[0]
    return thread is not None
