"""Installer.link: distributions are linked into the environment side by side, except those that
write the same file, which are installed one after the other in order."""

from __future__ import annotations

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
    installer.link(cast(SourceFinder, None), target, [], packages, trees, Progress(enabled=False))


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


@pytest.mark.parametrize("linking", ["fast", "slow"])
def test_distributions_writing_the_same_file_are_installed_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linking: str
) -> None:
    """Also when linking is slow on 2 cores (a second thread would start): then the overlap is
    found and the calling thread installs the rest alone, in order."""
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
