"""Installer.link: distributions are linked into the environment side by side, except those that
write the same file, which are installed one after the other in order."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
from packaging.version import Version

import satchel.install.wheel as wheel_module
from satchel.cache.store import Cache, Tree
from satchel.commands import pipeline
from satchel.commands.pipeline import Installer, Target
from satchel.commands.sources import BuildOptions, SourceFinder
from satchel.index.client import IndexClient
from satchel.install.link_worker import LinkWorker
from satchel.progress import Progress
from satchel.python.interpreter import Interpreter
from satchel.resolve import ResolvedPackage
from tests.support.installs import fake_scheme, unpack_into_cache
from tests.support.wheels import WheelSpec, build_wheel


class _Interp:
    executable = "/usr/bin/python3"
    version = (3, 11, 0)


def _setup(
    tmp_path: Path, specs: list[WheelSpec]
) -> tuple[Installer, Target, list[ResolvedPackage], dict[str, Tree]]:
    cache = Cache(tmp_path / "cache")
    trees: dict[str, Tree] = {}
    packages = []
    for spec in specs:
        wheel = build_wheel(spec, tmp_path / "wheels")
        trees[spec.name] = unpack_into_cache(cache, wheel, spec.name, spec.version)
        packages.append(ResolvedPackage(spec.name, Version(spec.version), None, None, True))
    installer = Installer(cache, cast(IndexClient, None), BuildOptions())
    paths = fake_scheme(tmp_path / "env")
    target = Target(cast(Interpreter, _Interp()), paths, "test env")
    return installer, target, packages, trees


def _link(installer: Installer, target: Target, packages: list[ResolvedPackage], trees: dict[str, Tree]) -> None:
    try:
        installer.link(cast(SourceFinder, None), target, [], packages, trees, Progress(enabled=False))
    finally:
        installer.close()


def _start_worker(installer: Installer, monkeypatch: pytest.MonkeyPatch | None = None) -> LinkWorker:
    """The installer's link worker, asked whatever the number of files (``monkeypatch``)."""
    if monkeypatch is not None:
        monkeypatch.setattr(pipeline, "LINK_WORKER_MIN_FILES", 0)
    installer.start_link_worker()
    worker = installer._link_worker
    if worker is None:
        pytest.skip("no link worker on this machine (one core, or no posix_spawn)")
    return worker


def test_distributions_are_installed_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = [WheelSpec(f"p{i}", "1.0") for i in range(3)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 8)
    # Every install waits until all three are under way: one at a time, the barrier breaks.
    barrier = threading.Barrier(3, timeout=20)
    real = wheel_module.install_tree

    def rendezvous(tree: Tree, **kwargs: Any) -> Any:
        barrier.wait()
        return real(tree, **kwargs)

    monkeypatch.setattr(wheel_module, "install_tree", rendezvous)
    _link(installer, target, packages, trees)
    site = Path(target.paths["purelib"])
    for spec in specs:
        assert (site / spec.dist_name / "__init__.py").read_text() == '__version__ = "1.0"\nTAG = "py3-none-any"\n'
        assert (site / spec.dist_info / "RECORD").is_file()


@pytest.mark.parametrize("linking", ["fast", "slow", "worker"])
def test_distributions_writing_the_same_file_are_installed_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linking: str
) -> None:
    """Also when linking is slow on 2 cores (a second thread would start), and with a link
    worker: then the overlap is found and the calling thread installs the rest alone, in
    order."""
    if linking == "slow":
        from satchel.commands import linking as adaptive

        monkeypatch.setattr(adaptive, "SAMPLE_FILES", 0)
        monkeypatch.setattr(adaptive, "SLOW_NS_PER_FILE", 0)
        monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    specs = [
        WheelSpec("first", "1.0", files={"common/shared.py": "owner = 'first'\n", "first/__init__.py": ""}),
        WheelSpec("other", "1.0"),
        WheelSpec("second", "1.0", files={"common/shared.py": "owner = 'second'\n", "second/__init__.py": ""}),
    ]
    installer, target, packages, trees = _setup(tmp_path, specs)
    if linking == "worker":
        _start_worker(installer, monkeypatch)
    assert pipeline._overlapping(packages, trees)
    active, most, order = [0], [0], []
    lock = threading.Lock()
    real = wheel_module.install_tree

    def counting(tree: Tree, **kwargs: Any) -> Any:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)  # long enough for any other install running alongside to show
            result = real(tree, **kwargs)
            order.append(result.name)
            return result
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(wheel_module, "install_tree", counting)
    _link(installer, target, packages, trees)
    assert most[0] == 1
    assert order == ["first", "other", "second"]
    site = Path(target.paths["purelib"])
    assert (site / "common" / "shared.py").read_text() == "owner = 'second'\n"


def test_overlap_counts_data_purelib_as_the_library(tmp_path: Path) -> None:
    specs = [
        WheelSpec("a", "1.0", files={"ns/mod.py": "a = 1\n"}),
        WheelSpec("b", "1.0", files={"b/__init__.py": ""}, data={"purelib": {"ns/mod.py": "b = 1\n"}}),
        WheelSpec("c", "1.0", files={"c/__init__.py": ""}, data={"scripts": {"ns/mod.py": "#!python\n"}}),
    ]
    _, _, packages, trees = _setup(tmp_path, specs)
    assert pipeline._overlapping(packages[:2], trees)
    assert not pipeline._overlapping([packages[0], packages[2]], trees)


def test_a_failing_install_is_the_error_of_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = [WheelSpec(f"p{i}", "1.0") for i in range(4)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    real = wheel_module.install_tree

    def failing(tree: Tree, **kwargs: Any) -> Any:
        if tree is trees["p1"]:
            raise RuntimeError("p1 cannot be installed")
        return real(tree, **kwargs)

    monkeypatch.setattr(wheel_module, "install_tree", failing)
    with pytest.raises(RuntimeError, match="p1 cannot be installed"):
        _link(installer, target, packages, trees)


def test_overlap_counts_scripts_and_entry_point_launchers(tmp_path: Path) -> None:
    specs = [
        WheelSpec("a", "1.0", console_scripts={"tool": "a:main"}),
        WheelSpec("b", "1.0", gui_scripts={"tool": "b:main"}),
        WheelSpec("c", "1.0", data={"scripts": {"tool": "#!python\n"}}),
        WheelSpec("d", "1.0", console_scripts={"other-tool": "d:main"}),
    ]
    _, _, packages, trees = _setup(tmp_path, specs)
    a, b, c, d = packages
    assert pipeline._overlapping([a, b], trees)  # two launchers named "tool"
    assert pipeline._overlapping([c, a], trees)  # a script file and a launcher
    assert not pipeline._overlapping([a, d], trees)
    assert not pipeline._overlapping([b, d], trees)


def test_on_two_cores_distributions_are_installed_by_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (threads linking side by side on 2 cores took longer and twice the CPU when the filesystem
    # is fast: GIL and kernel lock contention after every mkdir and link; a few small wheels are
    # too few files to judge, so they stay on the calling thread: commands/linking.py)
    specs = [WheelSpec(f"p{i}", "1.0") for i in range(3)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    threads: list[str] = []
    real = wheel_module.install_tree

    def record(tree: Tree, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(tree, **kwargs)

    monkeypatch.setattr(wheel_module, "install_tree", record)
    _link(installer, target, packages, trees)
    assert threads == [threading.current_thread().name] * 3
    site = Path(target.paths["purelib"])
    assert all((site / spec.dist_info / "RECORD").is_file() for spec in specs)


def test_on_two_cores_slow_linking_brings_in_a_second_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When linking turns out slow (here: declared slow, threshold 0), a second thread installs
    the rest beside the calling one, and every distribution ends up whole."""
    from satchel.commands import linking

    specs = [WheelSpec(f"p{i}", "1.0") for i in range(6)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(linking, "SLOW_NS_PER_FILE", 0)
    monkeypatch.setattr(linking, "SAMPLE_FILES", 1)
    threads: list[str] = []
    helper_took = threading.Event()
    real = wheel_module.install_tree

    def record(tree: Tree, **kwargs: Any) -> Any:
        name = threading.current_thread().name
        threads.append(name)
        if name == "satchel-link":
            helper_took.set()
        elif len(threads) > 1:
            helper_took.wait(timeout=20)  # the calling thread goes on once the helper has one
        return real(tree, **kwargs)

    monkeypatch.setattr(wheel_module, "install_tree", record)
    _link(installer, target, packages, trees)
    assert set(threads) == {threading.current_thread().name, "satchel-link"} and len(threads) == 6
    site = Path(target.paths["purelib"])
    for spec in specs:
        assert (site / spec.dist_info / "RECORD").is_file()
        assert (site / spec.dist_name / "__init__.py").is_file()


def _linked_by_worker(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    for record in caplog.records:
        message = record.getMessage()
        if "installed by the link worker" in message:
            done, _, total = message.split(": ", 1)[1].split(" distributions")[0].partition(" of ")
            return int(done), int(total)
    raise AssertionError("the link worker was not used")


def test_a_link_worker_installs_beside_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker takes distributions while this process links others (made slow here, so that
    the worker surely gets some); every distribution ends up whole, once."""
    specs = [WheelSpec(f"p{i}", "1.0", console_scripts={f"tool{i}": f"p{i}:main"}) for i in range(6)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    _start_worker(installer, monkeypatch)
    here: list[str] = []
    real = wheel_module.install_tree

    def slow(tree: Tree, **kwargs: Any) -> Any:
        time.sleep(0.3)
        result = real(tree, **kwargs)
        here.append(result.name)
        return result

    monkeypatch.setattr(wheel_module, "install_tree", slow)
    caplog.set_level("DEBUG", logger="satchel")
    _link(installer, target, packages, trees)
    done, total = _linked_by_worker(caplog)
    assert total == 6 and done >= 1 and done + len(here) == 6
    site, bin_dir = Path(target.paths["purelib"]), Path(target.paths["scripts"])
    for i, spec in enumerate(specs):
        assert (site / spec.dist_info / "RECORD").is_file()
        assert (site / spec.dist_name / "__init__.py").is_file()
        assert (bin_dir / f"tool{i}").read_text().startswith("#!/usr/bin/python3")
    assert not list(site.glob(".satchel-*"))


def test_a_dead_link_worker_leaves_the_install_to_this_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal

    specs = [WheelSpec(f"p{i}", "1.0") for i in range(4)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    worker = _start_worker(installer, monkeypatch)
    os.kill(worker.pid, signal.SIGKILL)
    caplog.set_level("DEBUG", logger="satchel")
    _link(installer, target, packages, trees)
    assert _linked_by_worker(caplog) == (0, 4)
    site = Path(target.paths["purelib"])
    assert all((site / spec.dist_info / "RECORD").is_file() for spec in specs)


@pytest.mark.parametrize("with_worker", [False, True])
def test_an_install_that_fails_in_the_worker_fails_here_with_this_process_error(
    tmp_path: Path, with_worker: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's failure is not the error: the distribution is installed here again, and
    this process's error (the same with or without a worker) is the run's."""
    from satchel.errors import InstallError

    specs = [WheelSpec(f"p{i}", "1.0", console_scripts={f"tool{i}": f"p{i}:main"}) for i in range(3)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    if with_worker:
        _start_worker(installer, monkeypatch)
    scripts = Path(target.paths["scripts"])
    scripts.parent.mkdir(parents=True, exist_ok=True)
    scripts.write_text("not a directory\n")
    with pytest.raises(InstallError) as caught:
        _link(installer, target, packages, trees)
    assert re.match(r"cannot install p\d 1\.0: ", caught.value.message)
    assert str(scripts) in caught.value.message


@pytest.mark.parametrize("damage", ["hash-mismatch", "truncated", "metadata-name"])
def test_a_bad_wheel_fails_to_unpack_the_same_with_a_worker(tmp_path: Path, damage: str) -> None:
    """An unpack the worker fails is done again here: the error, and what the cache is left
    with, are those of a run without a worker."""
    from satchel.cache import buckets
    from satchel.errors import InstallError
    from satchel.install.link_worker import UnpackJob
    from tests.unit.test_install_unpack import tamper
    from tests.unit.test_link_worker import _unpack_when_ready

    spec = WheelSpec("demo", "1.0", metadata_name="other" if damage == "metadata-name" else None,
                     files={"demo/__init__.py": "x = 1\n"})
    wheel = build_wheel(spec, tmp_path / "wheels")
    if damage == "truncated":
        wheel.write_bytes(wheel.read_bytes()[:-40])
    elif damage == "hash-mismatch":
        tamper(wheel)
    pkg = ResolvedPackage("demo", Version("1.0"), None, None, True)
    messages = []
    for with_worker in (False, True):
        cache = Cache(tmp_path / f"cache-{with_worker}")
        installer = Installer(cache, cast(IndexClient, None), BuildOptions())
        if with_worker:
            worker = _start_worker(installer)
            good = build_wheel(WheelSpec("warm", "1.0"), tmp_path / "good")
            assert _unpack_when_ready(worker, UnpackJob(str(good), str(tmp_path / "w"), "warm", "1.0"))
        try:
            with pytest.raises(InstallError) as caught:
                installer._unpack(pkg, lambda: (wheel, "0" * 64, wheel.name), lambda path, reason: False)
        finally:
            installer.close()
        messages.append(caught.value.message)
        bucket = cache.bucket_dir(buckets.ARCHIVES)
        assert not bucket.exists() or [p for p in bucket.rglob("*") if not p.name.endswith(".lock")] == [
            p for p in bucket.rglob("*") if p.is_dir()
        ]
    assert "demo-1.0-py3-none-any.whl" in messages[0]
    assert messages[1] == messages[0]


def test_a_wheel_unpacked_by_the_worker_is_a_sound_cache_entry(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from satchel.cache import buckets
    from satchel.cache.manifest import verify_tree
    from satchel.install.link_worker import UnpackJob
    from tests.unit.test_link_worker import _unpack_when_ready

    cache = Cache(tmp_path / "cache")
    installer = Installer(cache, cast(IndexClient, None), BuildOptions())
    worker = _start_worker(installer)
    good = build_wheel(WheelSpec("warm", "1.0"), tmp_path / "good")
    assert _unpack_when_ready(worker, UnpackJob(str(good), str(tmp_path / "w"), "warm", "1.0"))
    spec = WheelSpec("demo", "1.0", console_scripts={"demo": "demo:main"})
    wheel = build_wheel(spec, tmp_path / "wheels")
    pkg = ResolvedPackage("demo", Version("1.0"), None, None, True)
    caplog.set_level("DEBUG", logger="satchel")
    try:
        tree = installer._unpack(pkg, lambda: (wheel, "ab" * 32, wheel.name), lambda path, reason: False)
    finally:
        installer.close()
    assert any("unpacked by the link worker" in r.getMessage() for r in caplog.records)
    assert verify_tree(tree.path, tree.manifest) is None
    again = cache.get_tree(buckets.ARCHIVES, "demo/" + "ab" * 32)
    assert again is not None and again.manifest == tree.manifest


def test_a_small_install_is_linked_without_the_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Fewer files than LINK_WORKER_MIN_FILES: the worker is not asked (it would cost more than
    it saves), and the install is whole."""
    specs = [WheelSpec(f"p{i}", "1.0") for i in range(4)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    assert sum(len(t.manifest.files) for t in trees.values()) < pipeline.LINK_WORKER_MIN_FILES
    _start_worker(installer)
    caplog.set_level("DEBUG", logger="satchel")
    _link(installer, target, packages, trees)
    assert not any("link worker" in r.getMessage() for r in caplog.records)
    site = Path(target.paths["purelib"])
    assert all((site / spec.dist_info / "RECORD").is_file() for spec in specs)


@pytest.mark.parametrize("mode", ["symlink", "clone"])
def test_links_of_other_modes_stay_in_this_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The worker links hard links and copies only (symlinks and reflinks are left to this
    process, whose Linker decides and warns about fallbacks); it is still there to unpack."""
    specs = [WheelSpec(f"p{i}", "1.0") for i in range(4)]
    installer, target, packages, trees = _setup(tmp_path, specs)
    installer.link_mode = mode
    worker = _start_worker(installer, monkeypatch)
    assert installer._link_worker is worker
    caplog.set_level("DEBUG", logger="satchel")
    _link(installer, target, packages, trees)
    assert not any("installed by the link worker" in r.getMessage() for r in caplog.records)
    site = Path(target.paths["purelib"])
    assert all((site / spec.dist_info / "RECORD").is_file() for spec in specs)
