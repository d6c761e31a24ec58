"""The worker pool the index client's fetches run in, and its cancellation at close.

:class:`Scheduler` keeps one future per (kind, key) (a project's page, a wheel's metadata):
prefetches queue in a :class:`Pool` of daemon threads, and what someone waits for runs before
every prefetch, in the waiting thread itself when nobody started it yet. At the end of a
resolution the queued prefetches are dropped; at close, prefetches under way are not waited for.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any, TypeVar

T = TypeVar("T")


class Scheduler:
    """The one future of each (kind, key), run by a :class:`Pool` started when first needed."""

    def __init__(self, workers: int, name: str = "satchel") -> None:
        self._workers = workers
        self._name = name
        self._pool: Pool | None = None
        self._futures: dict[tuple[str, str], Future[Any]] = {}
        self._lock = threading.Lock()
        self._thens: list[list[Callable[[], None]]] = []  # callbacks of prefetches, until done

    def submit(self, kind: str, key: str, fn: Callable[[], T], *, urgent: bool) -> Future[T]:
        """The one future of (kind, key), started if need be. ``urgent``: someone waits for it
        now, so it goes before every prefetch still queued (and a queued prefetch of it moves
        up)."""
        with self._lock:
            fut = self._futures.get((kind, key))
            if fut is None or fut.cancelled():
                if self._pool is None:
                    self._pool = Pool(self._workers, self._name)
                fut = self._pool.submit(fn, urgent=urgent)
                self._futures[(kind, key)] = fut
            elif urgent:
                self._pool.promote(fut)  # type: ignore[union-attr]  # (a future implies a pool)
            return fut

    def then(self, fut: Future[Any], then: Callable[[], None] | None) -> None:
        """Call ``then`` when ``fut`` succeeds, unless :meth:`forget_queued` came first."""
        if then is None:
            return
        # Held here so that forget_queued can let go of it: a future keeps its callbacks,
        # and through them a whole resolver's state, which costs time to tear down at exit.
        holder = [then]
        with self._lock:
            self._thens.append(holder)

        def call(f: Future[Any]) -> None:
            if f.cancelled() or f.exception() is not None:
                return
            with self._lock:  # (forget_queued empties the holders under the same lock)
                callback = holder[0] if holder else None
            if callback is not None:
                callback()  # (outside the lock: it may schedule more work)

        fut.add_done_callback(call)

    def wait(self, kind: str, key: str, fn: Callable[[], T]) -> T:
        """The result of (kind, key): run now, in this thread, unless it is queued or under way
        already. Handing work nobody prefetched to a worker only to wait for it costs two
        thread switches, each of which waits for a core on a busy machine (a warm resolution
        of 37 cached pages and records spent more time there than decoding them)."""
        while True:
            with self._lock:
                fut = self._futures.get((kind, key))
                task: Task | None = None
                if fut is None or fut.cancelled():
                    task = Task(fn)
                    task.urgent = True
                    self._futures[(kind, key)] = task.future
                elif self._pool is not None:
                    # a prefetch not started yet is taken back and run here, not promoted: the
                    # workers may all be busy with prefetches nobody waits for yet
                    task = self._pool.take(fut)
            if task is not None:
                task.run()
                return task.future.result()
            try:
                return fut.result()  # type: ignore[union-attr]
            except CancelledError:  # a queued prefetch dropped in between: ask again
                continue

    def forget_queued(self) -> None:
        """Forget the prefetches nobody asked for yet (they are not started; a later request
        starts afresh), and let go of every ``then`` callback."""
        if self._pool is not None:
            self._pool.drop_queued()
        with self._lock:
            thens, self._thens = self._thens, []
            for holder in thens:
                holder.clear()

    def shutdown(self) -> None:
        """See :meth:`Pool.shutdown`."""
        if self._pool is not None:
            self._pool.shutdown()


class Pool:
    """Worker threads that run what someone waits for before any prefetch, and prefetches in
    the order they were asked for: a resolver that asks for a page or metadata nobody
    prefetched must not queue behind a hundred speculative fetches."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._cv = threading.Condition(threading.Lock())
        self._heap: list[tuple[int, int, Task]] = []  # (0 urgent / 1 prefetch, order, task)
        self._tasks: dict[Future[Any], Task] = {}  # queued, not started
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._running: set[Task] = set()
        self._idle = 0
        self._closed = False

    def submit(self, fn: Callable[[], T], *, urgent: bool) -> Future[T]:
        task = Task(fn)
        task.urgent = urgent
        with self._cv:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._tasks[task.future] = task
            heapq.heappush(self._heap, (0 if urgent else 1, next(self._order), task))
            self._cv.notify()
            if len(self._tasks) > self._idle and len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return task.future

    def take(self, future: Future[Any]) -> Task | None:
        """``future``'s task, taken out of the queue to be run by the caller, if it has not
        started yet."""
        with self._cv:
            task = self._tasks.pop(future, None)
        if task is not None:
            task.urgent = True
        return task

    def promote(self, future: Future[Any]) -> None:
        """Run ``future``'s task before every prefetch, if it has not started yet."""
        with self._cv:
            task = self._tasks.get(future)
            if task is not None and not task.urgent:
                task.urgent = True
                heapq.heappush(self._heap, (0, next(self._order), task))

    def drop_queued(self) -> None:
        """Cancel every queued prefetch (their futures report cancelled)."""
        with self._cv:
            dropped = [t for t in self._tasks.values() if not t.urgent]
            for task in dropped:
                del self._tasks[task.future]
        for task in dropped:
            task.future.cancel()

    def shutdown(self) -> None:
        """Cancel what is queued and wait for the tasks under way that someone asked for; a
        prefetch under way is left to finish in its (daemon) thread, unwaited for: a slow
        speculative request must not delay the end of a run."""
        with self._cv:
            self._closed = True
            queued = list(self._tasks.values())
            self._tasks.clear()
            self._cv.notify_all()
            running = [t for t in self._running if t.urgent]
        for task in queued:
            task.future.cancel()
        for task in running:
            with contextlib.suppress(BaseException):
                task.future.exception()

    def _work(self) -> None:
        while True:
            with self._cv:
                while True:
                    while self._heap and self._heap[0][2].future not in self._tasks:
                        heapq.heappop(self._heap)  # started already (promoted twice), or dropped
                    if self._heap:
                        task = heapq.heappop(self._heap)[2]
                        del self._tasks[task.future]
                        self._running.add(task)
                        break
                    if self._closed:
                        return
                    self._idle += 1
                    self._cv.wait()
                    self._idle -= 1
            try:
                task.run()
            finally:
                with self._cv:
                    self._running.discard(task)


class Task:
    """One piece of work and its future; ``urgent``: someone waits for it."""

    __slots__ = ("fn", "future", "urgent")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: Future[Any] = Future()
        self.urgent = False

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.fn()
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)
