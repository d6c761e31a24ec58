"""Installer.prepare: downloads first, then unpacking the biggest wheels first, a core's worth of
big ones at a time; results and the first error in the order asked."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import pytest
from packaging.version import Version

from satchel.cache.store import Cache, Tree
from satchel.commands import pipeline
from satchel.commands.pipeline import Installer
from satchel.commands.sources import BuildOptions, SourceFinder
from satchel.index.client import IndexClient
from satchel.index.models import IndexFile
from satchel.progress import Progress
from satchel.resolve import ResolvedPackage


class FakeClient:
    """Wheel shapes as a ranged METADATA read would have learned them; downloads recorded."""

    def __init__(self, shapes: dict[str, tuple[int | None, int | None]]) -> None:
        self.shapes = shapes
        self.downloads: list[str] = []
        self.lock = threading.Lock()

    def file_shape(self, file: IndexFile) -> tuple[int | None, int | None]:
        return self.shapes.get(file.filename, (None, None))

    def download(self, name: str, file: IndexFile) -> Path:
        with self.lock:
            self.downloads.append(name)
        time.sleep(self.delays.get(name, 0))
        return Path("/nonexistent")

    delays: dict[str, float] = {}


Slot = Callable[[], AbstractContextManager[None]] | None


def package(name: str, *, sdist: bool = False) -> ResolvedPackage:
    filename = f"{name}-1.0.tar.gz" if sdist else f"{name}-1.0-py3-none-any.whl"
    file = IndexFile(filename, f"https://files.invalid/{filename}", {"sha256": "0" * 63 + str(len(name) % 10)})
    return ResolvedPackage(name, Version("1.0"), file, None, True)


def installer(tmp_path: Path, client: FakeClient) -> Installer:
    return Installer(Cache(tmp_path / "cache"), cast(IndexClient, client), BuildOptions())


def run(inst: Installer, packages: list[ResolvedPackage]) -> dict[str, Tree]:
    return inst.prepare(cast(SourceFinder, None), packages, Progress(enabled=False))


def test_biggest_first_and_a_slot_per_core_for_big_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes: dict[str, tuple[int | None, int | None]] = {
        "huge-1.0-py3-none-any.whl": (1_000_000, 5000),
        "big-1.0-py3-none-any.whl": (20_000_000, 1000),
        "mid-1.0-py3-none-any.whl": (100_000, 400),
        "small-1.0-py3-none-any.whl": (10_000, 5),
    }
    client = FakeClient(shapes)
    # Ready to unpack in this order (whoever is ready first may take a free slot): huge, big, mid.
    client.delays = {"big": 0.05, "mid": 0.1, "small": 0.1, "unknown": 0.1}
    inst = installer(tmp_path, client)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    started: list[str] = []
    running: set[str] = set()
    most_big = 0
    lock = threading.Lock()

    def tree_for(self: Installer, finder: Any, pkg: ResolvedPackage, *, fresh: bool = False, unpacking: Slot = None) -> Any:
        nonlocal most_big
        with unpacking() if unpacking else contextlib.nullcontext():
            with lock:
                started.append(pkg.name)
                running.add(pkg.name)
                most_big = max(most_big, len(running & {"huge", "big", "mid", "src"}))
            time.sleep(0.2)
            with lock:
                running.discard(pkg.name)
        return f"tree of {pkg.name}"

    monkeypatch.setattr(Installer, "tree_for", tree_for)
    packages = [package(n) for n in ("mid", "small", "unknown", "big", "huge")] + [package("src", sdist=True)]
    trees = run(inst, packages)
    assert list(trees) == [p.name for p in packages]
    assert trees["huge"] == "tree of huge"  # type: ignore[comparison-overlap]
    assert sorted(client.downloads) == ["big", "huge", "mid", "small", "unknown"]  # not the sdist
    big_ones = [n for n in started if n in ("src", "huge", "big", "mid")]
    assert big_ones == ["src", "huge", "big", "mid"]  # a build, then by files (and bytes)
    assert most_big == 2


def test_small_wheels_just_downloaded_take_a_slot_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every unpacker's system calls hand the interpreter lock to the others: eight small
    # wheels unpacked at once cost more than two at a time (docs/performance.md).
    names = [f"small{i}" for i in range(8)]
    client = FakeClient({f"{n}-1.0-py3-none-any.whl": (10_000, 5) for n in names})
    inst = installer(tmp_path, client)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    running = 0
    most = 0
    lock = threading.Lock()

    def tree_for(self: Installer, finder: Any, pkg: ResolvedPackage, *, fresh: bool = False, unpacking: Slot = None) -> Any:
        nonlocal running, most
        assert unpacking is not None
        with unpacking():
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)
            with lock:
                running -= 1
        return f"tree of {pkg.name}"

    monkeypatch.setattr(Installer, "tree_for", tree_for)
    trees = run(inst, [package(n) for n in names])
    assert list(trees) == names
    assert sorted(client.downloads) == names  # all eight downloaded, in parallel
    assert most == 2


def test_the_first_error_in_order_and_no_second_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing(FakeClient):
        def download(self, name: str, file: IndexFile) -> Path:
            super().download(name, file)
            if name in ("b", "d"):
                raise RuntimeError(f"download of {name} failed")
            return Path("/nonexistent")

    client = Failing({"d-1.0-py3-none-any.whl": (10**8, 10**5)})  # d goes first
    inst = installer(tmp_path, client)
    unpacked: list[str] = []
    monkeypatch.setattr(Installer, "tree_for", lambda self, finder, pkg, fresh=False, unpacking=None: unpacked.append(pkg.name))
    with pytest.raises(RuntimeError, match="download of b failed"):
        run(inst, [package(n) for n in "abcd"])
    assert sorted(client.downloads) == ["a", "b", "c", "d"]  # each once
    assert sorted(unpacked) == ["a", "c"]  # everything else was still prepared


def test_cached_trees_are_looked_up_in_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checking a cached tree is Python work and a stat per file: threads only queue for the GIL.
    from satchel.cache import buckets
    from satchel.install.unpack import unpack_wheel
    from tests.support.wheels import WheelSpec, build_wheel

    inst = installer(tmp_path, FakeClient({}))
    packages = []
    for name in ("one", "two"):
        wheel = build_wheel(WheelSpec(name, "1.0", files={f"{name}/__init__.py": ""}), tmp_path / "w")
        sha = pipeline_sha(wheel)
        inst.cache.build_tree(
            buckets.ARCHIVES,
            f"{name}/{sha}",
            lambda d, w=wheel, n=name: unpack_wheel(w, d, expected_name=n, expected_version="1.0"),
            source=wheel.name,
        )
        packages.append(ResolvedPackage(name, Version("1.0"), IndexFile(wheel.name, f"https://files.invalid/{wheel.name}", {"sha256": sha}), None, True))
    packages.append(package("missing"))
    looked_up_in: list[str] = []
    real_get_tree = Cache.get_tree

    def get_tree(self: Cache, bucket: Any, key: str, **kwargs: Any) -> Tree | None:
        looked_up_in.append(threading.current_thread().name)
        return real_get_tree(self, bucket, key, **kwargs)

    unpacked: list[str] = []
    monkeypatch.setattr(Cache, "get_tree", get_tree)
    monkeypatch.setattr(Installer, "tree_for", lambda self, finder, pkg, fresh=False, unpacking=None: unpacked.append(pkg.name) or "made")
    trees = run(inst, packages)
    assert list(trees) == ["one", "two", "missing"]
    assert trees["one"].path.is_dir() and trees["two"].manifest.source.startswith("two-")
    assert trees["missing"] == "made"  # type: ignore[comparison-overlap]
    assert unpacked == ["missing"]  # only what the cache does not hold goes to the workers
    assert looked_up_in == [threading.current_thread().name] * 3


def test_a_wheel_gives_its_slot_up_before_its_tree_is_made_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The slots are for unpacking (a core's work). Making the finished tree durable (a syncfs)
    # waits on the disk: the next wheels unpack meanwhile, so more wheels are in hand than
    # there are slots. (Before, a wheel held its slot through the syncfs: never more than 2.)
    from satchel.cache import atomic
    from satchel.install import unpack
    from tests.support.wheels import WheelSpec, build_wheel

    names = ["w1", "w2", "w3", "w4"]
    wheels = {n: build_wheel(WheelSpec(n, "1.0", files={f"{n}/__init__.py": ""}), tmp_path / "w") for n in names}

    class Serving(FakeClient):
        def download(self, name: str, file: IndexFile) -> Path:
            super().download(name, file)
            return wheels[name]

    inst = installer(tmp_path, Serving({}))
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    in_hand = unpacking = most_in_hand = most_unpacking = 0
    lock = threading.Lock()

    @contextlib.contextmanager
    def counted(step: str) -> Iterator[None]:
        nonlocal in_hand, unpacking, most_in_hand, most_unpacking
        with lock:
            in_hand += 1
            unpacking += step == "unpack"
            most_in_hand = max(most_in_hand, in_hand)
            most_unpacking = max(most_unpacking, unpacking)
        try:
            yield
        finally:
            with lock:
                in_hand -= 1
                unpacking -= step == "unpack"

    real_unpack, real_sync = unpack.unpack_wheel, atomic.sync_tree

    def unpack_wheel(*args: Any, **kwargs: Any) -> Any:
        with counted("unpack"):
            time.sleep(0.05)
            return real_unpack(*args, **kwargs)

    def sync_tree(path: Path) -> None:
        with counted("sync"):
            time.sleep(0.3)
            real_sync(path)

    monkeypatch.setattr(unpack, "unpack_wheel", unpack_wheel)
    monkeypatch.setattr(atomic, "sync_tree", sync_tree)
    packages = [
        ResolvedPackage(n, Version("1.0"), IndexFile(w.name, f"https://files.invalid/{w.name}", {"sha256": pipeline_sha(w)}), None, True)
        for n, w in wheels.items()
    ]
    trees = run(inst, packages)
    assert [t.manifest.source for t in trees.values()] == [w.name for w in wheels.values()]
    assert all((t.path / n / "__init__.py").is_file() for n, t in trees.items())
    assert most_unpacking == 2  # still a slot per core for the unpacking itself
    assert most_in_hand > 2  # the syncing ones gave their slots up


def pipeline_sha(path: Path) -> str:
    from satchel.cache.store import sha256_of

    return sha256_of(path)


def test_wheels_downloaded_before_but_not_unpacked_take_a_slot_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wheel file in the cache without its unpacked tree (a run stopped after its downloads, a
    # pruned tree) is unpacked like one just downloaded: a core's worth at a time. (They were
    # unpacked all at once, outside the slots, on the guess that a cached file meant a cached
    # tree, which the lookup of cached trees had already ruled out.)
    from satchel.index.options import IndexOptions
    from satchel.install import unpack
    from tests.support.wheels import WheelSpec, build_wheel

    names = [f"w{i}" for i in range(6)]
    wheels = {n: build_wheel(WheelSpec(n, "1.0", files={f"{n}/__init__.py": ""}), tmp_path / "w") for n in names}
    cache = Cache(tmp_path / "cache")
    for name, wheel in wheels.items():
        with cache.file_writer(name, wheel.name, pipeline_sha(wheel)) as writer:
            writer.write(wheel.read_bytes())
    # a real client: it finds every file in the cache, so it never goes to this index
    client = IndexClient(cache, IndexOptions(["http://127.0.0.1:9/simple/"]))
    inst = Installer(cache, client, BuildOptions())
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    unpacking = most = 0
    lock = threading.Lock()
    real_unpack = unpack.unpack_wheel

    def unpack_wheel(*args: Any, **kwargs: Any) -> Any:
        nonlocal unpacking, most
        with lock:
            unpacking += 1
            most = max(most, unpacking)
        try:
            time.sleep(0.05)
            return real_unpack(*args, **kwargs)
        finally:
            with lock:
                unpacking -= 1

    monkeypatch.setattr(unpack, "unpack_wheel", unpack_wheel)
    packages = [
        ResolvedPackage(n, Version("1.0"), IndexFile(w.name, f"http://127.0.0.1:9/{w.name}", {"sha256": pipeline_sha(w)}), None, True)
        for n, w in wheels.items()
    ]
    try:
        trees = run(inst, packages)
    finally:
        client.close()
    assert all((t.path / n / "__init__.py").is_file() for n, t in trees.items())
    assert client.stats["downloads"] == 0
    assert most == 2
