"""Installing side by side on few cores (satchel.commands.linking): the calling thread alone while
linking is fast, one more thread once it is slow, every item exactly once, failures raised."""

from __future__ import annotations

import threading
import time

import pytest

from satchel.commands import linking
from satchel.commands.linking import install_adaptively


def test_fast_linking_stays_on_the_calling_thread() -> None:
    seen: list[str] = []
    helped = install_adaptively(list(range(50)), lambda i: seen.append(threading.current_thread().name), lambda i: 100_000)
    assert helped is False
    assert seen == [threading.current_thread().name] * 50


def test_too_few_files_to_judge_stays_on_the_calling_thread() -> None:
    seen: list[int] = []

    def slow(i: int) -> None:
        time.sleep(0.002)
        seen.append(i)

    # 2 ms for 1 file is slow, but 20 files are fewer than SAMPLE_FILES: no decision yet.
    assert install_adaptively(list(range(20)), slow, lambda i: 1) is False
    assert seen == list(range(20))


def test_slow_linking_brings_in_a_second_thread_for_the_rest() -> None:
    """Each item takes >= 10 ms for 100 files (>= 100 us a file, over the 30 us threshold): after
    SAMPLE_FILES (two items) a helper starts, and both threads take items until none is left;
    every item is installed exactly once."""
    assert linking.SLOW_NS_PER_FILE < 100_000 and linking.SAMPLE_FILES <= 200
    by_thread: dict[str, list[int]] = {}
    lock = threading.Lock()
    helper_seen = threading.Event()

    def install(i: int) -> None:
        name = threading.current_thread().name
        with lock:
            by_thread.setdefault(name, []).append(i)
        if name == "satchel-link":
            helper_seen.set()
        elif i >= 2:  # the calling thread waits (bounded) until the helper has taken one
            helper_seen.wait(timeout=10)
        time.sleep(0.01)

    assert install_adaptively(list(range(12)), install, lambda i: 100) is True
    assert set(by_thread) == {threading.current_thread().name, "satchel-link"}
    assert sorted(i for items in by_thread.values() for i in items) == list(range(12))
    assert by_thread[threading.current_thread().name][:2] == [0, 1]  # judged on the first two


def test_a_fresh_venv_at_rest_counts_as_slow() -> None:
    """40 us a file, what linking into a fresh venv on a disk at rest took on the bench machine
    (every new directory there costs 100-400 us of system time), brings in the helper: two
    threads were 1.08-1.11x faster there. (The threshold was 60 us: such installs stayed on one
    thread.)"""
    helper_seen = threading.Event()

    def install(i: int) -> None:
        if threading.current_thread().name == "satchel-link":
            helper_seen.set()
        time.sleep(0.004)  # 100 files in >= 4 ms

    assert install_adaptively(list(range(8)), install, lambda i: 100) is True
    assert helper_seen.is_set()


def test_whether_items_may_go_side_by_side_is_asked_only_when_a_helper_would_start() -> None:
    """Fast linking never asks (finding out reads every manifest); slow linking asks once, and
    a no keeps every item on the calling thread, in order."""
    asked: list[bool] = []

    def ask(answer: bool) -> bool:
        asked.append(answer)
        return answer

    seen: list[int] = []
    assert install_adaptively(list(range(50)), seen.append, lambda i: 100_000, parallel=lambda: ask(True)) is False
    assert asked == [] and seen == list(range(50))

    order: list[tuple[str, int]] = []

    def slow(i: int) -> None:
        order.append((threading.current_thread().name, i))
        time.sleep(0.01)  # 100 files in >= 10 ms: slow

    assert install_adaptively(list(range(8)), slow, lambda i: 100, parallel=lambda: ask(False)) is False
    assert asked == [False]
    assert order == [(threading.current_thread().name, i) for i in range(8)]


@pytest.mark.parametrize("who", ["calling", "helper"])
def test_a_failure_stops_the_rest_and_is_raised(who: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linking, "SLOW_NS_PER_FILE", 0)  # always slow: the helper starts at once
    monkeypatch.setattr(linking, "SAMPLE_FILES", 1)
    done: list[int] = []
    lock = threading.Lock()
    helper_took = threading.Event()

    def install(i: int) -> None:
        helper = threading.current_thread().name == "satchel-link"
        if helper:
            helper_took.set()
        elif i > 0:
            helper_took.wait(timeout=10)
        if (who == "helper") == helper and i > 0:
            raise RuntimeError(f"broken {i}")
        time.sleep(0.005)
        with lock:
            done.append(i)

    with pytest.raises(RuntimeError, match="broken"):
        install_adaptively(list(range(40)), install, lambda i: 1)
    assert len(done) == len(set(done)) and len(done) < 39, done  # stopped early, nothing twice


class _Other:
    """An ``Elsewhere`` that becomes ready when told, and records what it installed."""

    def __init__(self, ready_at: threading.Event | None = None, gone: bool = False) -> None:
        self.ready_at = ready_at or threading.Event()
        self.gone = gone
        self.installed: list[int] = []

    def ready(self, timeout: float) -> bool | None:
        if self.gone:
            return None
        return self.ready_at.wait(timeout)

    def __call__(self, item: int, /) -> bool:
        self.installed.append(item)
        return True


def test_another_process_takes_items_once_it_is_ready() -> None:
    other = _Other()
    here: list[int] = []

    def install(i: int) -> None:
        here.append(i)
        if i == 1:
            other.ready_at.set()
        time.sleep(0.01)

    assert install_adaptively(list(range(20)), install, lambda i: 1, elsewhere=other) is True
    assert sorted(here + other.installed) == list(range(20))
    assert other.installed and here[:2] == [0, 1]


def test_another_process_still_starting_holds_nothing_back() -> None:
    """Never ready: the calling thread installs everything, and the helper gives up as soon as
    nothing is left (not after some timeout of the other process)."""
    other = _Other()
    here: list[int] = []
    run = threading.Thread(
        target=install_adaptively, args=(list(range(5)), here.append, lambda i: 1), kwargs={"elsewhere": other},
        daemon=True,
    )
    run.start()
    run.join(timeout=5)
    assert not run.is_alive(), "the helper kept waiting for a process that was not ready"
    assert here == list(range(5)) and other.installed == []


def test_another_process_that_is_gone_leaves_all_to_the_calling_thread() -> None:
    other = _Other(gone=True)
    seen: list[str] = []
    install_adaptively(list(range(8)), lambda i: seen.append(threading.current_thread().name), lambda i: 1, elsewhere=other)
    assert seen == [threading.current_thread().name] * 8 and other.installed == []


def test_with_another_process_overlapping_items_stay_on_the_calling_thread_in_order() -> None:
    other = _Other()
    other.ready_at.set()
    here: list[int] = []
    install_adaptively(list(range(6)), here.append, lambda i: 1, parallel=lambda: False, elsewhere=other)
    assert here == list(range(6)) and other.installed == []


def test_an_item_the_other_process_gave_back_after_a_failure_is_not_installed_here() -> None:
    """The calling thread fails (an interrupt, say, which ends the other process too) while an
    item is with the other process: the item it gives back is not installed by the helper."""
    failed = threading.Event()
    here: list[int] = []

    class Interrupted(_Other):
        def __call__(self, item: int, /) -> bool:
            failed.wait(timeout=10)
            time.sleep(0.05)  # (the calling thread has recorded its failure by now)
            return False

    other = Interrupted()
    other.ready_at.set()

    def install(i: int) -> None:
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.05)  # (the helper has taken its item by now)
            failed.set()
            raise KeyboardInterrupt
        here.append(i)

    with pytest.raises(KeyboardInterrupt):
        install_adaptively([0, 1], install, lambda i: 1, elsewhere=other)
    assert here == []
