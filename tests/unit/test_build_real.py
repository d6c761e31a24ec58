"""Builds with the real backends (setuptools, flit_core, hatchling; their wheels fetched once per
session) through a pip-based ``install_requirements`` double: sdists, setup.py-only directories,
editable wheels, a C extension cached per interpreter, and the seed failures 003 (a broken cached
entry of a local directory package) and 004 (a built wheel reused for the wrong Python)."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.build import BuildRequest, Source, build_wheel, prepare_metadata
from satchel.build.cache import interpreter_key
from satchel.build.source import fingerprint_directory
from satchel.cache.store import Cache
from satchel.python.cached import get_interpreter
from satchel.python.interpreter import Interpreter
from tests.support.builds import (
    PipInstaller,
    _c_project,
    backend_wheels_fixture,  # noqa: F401
    built_entries,
    setuptools_project,
    temp_litter,
)
from tests.support.pythons import pyenv_python
from tests.support.wheels import build_sdist


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache root for the module, so build environments (setuptools, ...) are made once;
    every test uses its own project names and its own Cache object."""
    return tmp_path_factory.mktemp("build-cache")


@pytest.fixture
def cache(cache_root: Path) -> Iterator[Cache]:
    c = Cache(cache_root)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def installer(backend_wheels: Path) -> PipInstaller:
    return PipInstaller(backend_wheels)


@pytest.fixture
def interpreter(cache: Cache) -> Interpreter:
    return get_interpreter(Path(sys.executable), cache)


def _builds(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Building ")]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


# -- sdists and directories ----------------------------------------------------------------------


def test_sdist_with_setuptools(
    tmp_path: Path,
    cache: Cache,
    interpreter: Interpreter,
    installer: PipInstaller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    sdist = build_sdist("st-sdist", "1.2", tmp_path, requires=["six>=1.0"])
    source = Source.sdist(sdist)
    meta = prepare_metadata(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert (meta.name, str(meta.version), meta.requires_dist) == ("st-sdist", "1.2", ("six>=1.0",))
    assert _builds(caplog) == []  # metadata without building a wheel
    wheel = build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert wheel.filename == "st_sdist-1.2-py3-none-any.whl" and not wheel.cached
    assert "st_sdist/__init__.py" in _members(wheel.path)
    assert build_wheel(BuildRequest(
        source, interpreter, cache=Cache(cache.root), install_requirements=installer
    )).cached
    assert len(_builds(caplog)) == 1


def test_setup_py_only_directory(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, installer: PipInstaller
) -> None:
    project = setuptools_project(tmp_path / "legacy", "legacy-dir", pyproject=False)
    source = Source.directory(project)
    assert source.name is None
    wheel = build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert wheel.name == "legacy-dir" and wheel.filename.startswith("legacy_dir-1.0-")
    # Built with setuptools' legacy backend in an environment holding setuptools>=40.8.0.
    assert ["setuptools>=40.8.0"] in [c[0] for c in installer.calls] or not installer.calls
    assert build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer)).cached


def test_flit_core_project(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, installer: PipInstaller
) -> None:
    root = tmp_path / "flitdemo"
    (root / "flitdemo").mkdir(parents=True)
    (root / "flitdemo" / "__init__.py").write_text('"""A flit demo."""\n')
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["flit_core>=3.4,<5"]
            build-backend = "flit_core.buildapi"

            [project]
            name = "flitdemo"
            version = "0.3"
            description = "demo"
            dependencies = ["attrs"]
            """
        )
    )
    source = Source.directory(root)
    assert source.name == "flitdemo"
    meta = prepare_metadata(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert (str(meta.version), meta.requires_dist) == ("0.3", ("attrs",))
    wheel = build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert wheel.filename.startswith("flitdemo-0.3-") and wheel.filename.endswith("-none-any.whl")


def test_hatchling_project_and_its_editable_wheel(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, installer: PipInstaller
) -> None:
    root = tmp_path / "hatchdemo"
    (root / "hatchdemo").mkdir(parents=True)
    (root / "hatchdemo" / "__init__.py").write_text("X = 1\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "hatchdemo"\nversion = "2.0"\n'
    )
    wheel = build_wheel(BuildRequest(
        Source.directory(root), interpreter, cache=cache, install_requirements=installer
    ))
    assert "hatchdemo/__init__.py" in _members(wheel.path)
    editable = build_wheel(BuildRequest(
        Source.directory(root),
        interpreter,
        cache=cache,
        install_requirements=installer,
        editable=True,
    ))
    pth = [m for m in _members(editable.path) if m.endswith(".pth")]
    assert pth and "hatchdemo/__init__.py" not in _members(editable.path)
    with zipfile.ZipFile(editable.path) as zf:
        assert str(root) in zf.read(pth[0]).decode()


def test_setuptools_editable_wheel_points_at_the_source(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, installer: PipInstaller
) -> None:
    project = setuptools_project(tmp_path / "edit-me", "edit-me")
    editable = build_wheel(BuildRequest(
        Source.directory(project),
        interpreter,
        cache=cache,
        install_requirements=installer,
        editable=True,
    ))
    members = _members(editable.path)
    assert any(m.startswith("__editable__.") and m.endswith(".pth") for m in members)
    with zipfile.ZipFile(editable.path) as zf:
        text = "".join(
            zf.read(m).decode("utf-8", "replace") for m in members if not m.endswith("RECORD")
        )
    assert str(project) in text  # the finder / .pth name the project directory
    assert "edit_me/__init__.py" not in members  # the code stays in the source tree


def test_a_local_directory_is_rebuilt_when_a_source_file_changes(
    tmp_path: Path, cache: Cache, interpreter: Interpreter, installer: PipInstaller
) -> None:
    project = setuptools_project(
        tmp_path / "changing", "changing", files={"changing/__init__.py": "V = 1\n"}
    )
    source = Source.directory(project, name="changing")
    first = build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert build_wheel(BuildRequest(
        Source.directory(project, name="changing"),
        interpreter,
        cache=cache,
        install_requirements=installer,
    )).cached
    before = fingerprint_directory(project)
    mod = project / "changing" / "__init__.py"
    mod.write_text("V = 2\n")
    st = mod.stat()
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert fingerprint_directory(project) != before
    second = build_wheel(BuildRequest(
        Source.directory(project, name="changing"),
        interpreter,
        cache=cache,
        install_requirements=installer,
    ))
    assert not second.cached and second.path != first.path
    with zipfile.ZipFile(second.path) as zf:
        assert zf.read("changing/__init__.py") == b"V = 2\n"


def test_build_environments_are_shared_between_projects(
    tmp_path: Path,
    cache: Cache,
    interpreter: Interpreter,
    installer: PipInstaller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    for name in ("share-one", "share-two"):
        sdist = build_sdist(
            name, "1.0", tmp_path / name, build_requires=["setuptools>=40.8.0", "wheel"]
        )
        build_wheel(BuildRequest(Source.sdist(sdist), interpreter, cache=cache, install_requirements=installer))
    created = [
        m for m in (r.getMessage() for r in caplog.records) if "creating a build environment" in m
    ]
    assert len(created) <= 1  # one for both (none if an earlier test of the module made it)
    assert len(_builds(caplog)) == 2


# -- a C extension, per interpreter (seed 004) ---------------------------------------------------


@pytest.mark.skipif(
    shutil.which("gcc") is None and shutil.which("cc") is None, reason="no C compiler"
)
def test_c_extension_built_once_per_interpreter(
    tmp_path: Path,
    cache: Cache,
    interpreter: Interpreter,
    installer: PipInstaller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other_exe = pyenv_python("3.12") if interpreter.version[:2] != (3, 12) else pyenv_python("3.11")
    if other_exe is None:
        pytest.skip("needs a second Python (pyenv 3.12 or 3.11) to build for")
    other = get_interpreter(other_exe, cache)
    caplog.set_level(logging.INFO)
    sdist = tmp_path / "dist"
    project = _c_project(tmp_path / "cext")
    source = Source.directory(project, name="cext-demo")
    tag = f"cp{interpreter.version[0]}{interpreter.version[1]}"

    first = build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    assert f"-{tag}-" in first.filename and any(m.endswith(".so") for m in _members(first.path))
    again = build_wheel(BuildRequest(
        source, interpreter, cache=Cache(cache.root), install_requirements=installer
    ))
    assert again.cached and again.sha256 == first.sha256
    assert len(_builds(caplog)) == 1  # built once, reused for the same interpreter

    other_tag = f"cp{other.version[0]}{other.version[1]}"
    theirs = build_wheel(BuildRequest(source, other, cache=cache, install_requirements=installer))
    assert not theirs.cached and f"-{other_tag}-" in theirs.filename
    assert interpreter_key(other) in str(theirs.path) and interpreter_key(interpreter) not in str(
        theirs.path
    )
    assert len(_builds(caplog)) == 2  # another Python version: rebuilt
    assert (
        build_wheel(BuildRequest(source, interpreter, cache=cache, install_requirements=installer)).sha256
        == first.sha256
    )
    assert build_wheel(BuildRequest(source, other, cache=cache, install_requirements=installer)).cached
    assert len(_builds(caplog)) == 2

    # Seed 004: even if an entry for one interpreter ends up under another's key, it is never handed
    # over: its tags are checked against the interpreter's on every reuse.
    ours_entry, theirs_entry = first.path.parent.parent, theirs.path.parent.parent
    shutil.rmtree(ours_entry)
    shutil.copytree(theirs_entry, ours_entry)
    caplog.clear()
    fixed = build_wheel(BuildRequest(
        source, interpreter, cache=Cache(cache.root), install_requirements=installer
    ))
    assert f"-{tag}-" in fixed.filename and not fixed.cached
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "does not fit" in warnings[0]
    del sdist


# -- seed 003: a broken cached entry of a local directory package --------------------------------


def _truncate(wheel: Path) -> None:
    os.chmod(wheel, 0o644)
    data = wheel.read_bytes()
    wheel.write_bytes(data[: len(data) // 2])


def _flip_bit(wheel: Path) -> None:
    """Flip one bit, keeping size and mtime: only the content hash can tell."""
    st = wheel.stat()
    os.chmod(wheel, 0o644)
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    wheel.write_bytes(bytes(data))
    os.chmod(wheel, 0o444)
    os.utime(wheel, ns=(st.st_atime_ns, st.st_mtime_ns))


def _remove(wheel: Path) -> None:
    wheel.unlink()


def _bad_record(wheel: Path) -> None:
    manifest = wheel.parent.parent / "manifest"
    os.chmod(manifest, 0o644)
    data = bytearray(manifest.read_bytes())
    data[-3] ^= 0xFF
    manifest.write_bytes(bytes(data))


def _empty_record(wheel: Path) -> None:
    manifest = wheel.parent.parent / "manifest"
    os.chmod(manifest, 0o644)
    manifest.write_bytes(b"")


@pytest.mark.parametrize(
    "fault",
    [_truncate, _flip_bit, _remove, _bad_record, _empty_record],
    ids=["truncated", "bit-flip", "missing-file", "bad-record", "empty-record"],
)
def test_seed_003_broken_built_entry_is_a_miss_warning_and_rebuild(
    tmp_path: Path,
    cache: Cache,
    interpreter: Interpreter,
    installer: PipInstaller,
    caplog: pytest.LogCaptureFixture,
    fault: object,
) -> None:
    name = f"seed3-{fault.__name__.strip('_').replace('_', '-')}"  # type: ignore[attr-defined]
    project = setuptools_project(
        tmp_path / "generated",
        name,
        pyproject=False,
        setup_py=textwrap.dedent(
            f"""
            from setuptools import find_packages, setup
            setup(name={name!r}, packages=find_packages(), include_package_data=True)
            """
        ),
    )
    caplog.set_level(logging.INFO)
    first = build_wheel(BuildRequest(
        Source.directory(project), interpreter, cache=cache, install_requirements=installer
    ))
    assert len(_builds(caplog)) == 1
    fault(first.path)  # type: ignore[operator]
    caplog.clear()
    # A new run (a new Cache object, as a new satchel process would have).
    second = build_wheel(BuildRequest(
        Source.directory(project),
        interpreter,
        cache=Cache(cache.root),
        install_requirements=installer,
    ))
    assert not second.cached and second.path.is_file()
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "ignoring broken cache entry" in warnings[0] and name in warnings[0]
    assert len(_builds(caplog)) == 1
    caplog.clear()
    third = build_wheel(BuildRequest(
        Source.directory(project),
        interpreter,
        cache=Cache(cache.root),
        install_requirements=installer,
    ))
    assert third.cached and third.sha256 == second.sha256 and _warnings(caplog) == []
    assert len(built_entries(cache, name)) == 1
    assert temp_litter(cache) == []


def test_seed_003_broken_metadata_entry(
    tmp_path: Path,
    cache: Cache,
    interpreter: Interpreter,
    installer: PipInstaller,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sdist = build_sdist("seed3-meta", "1.0", tmp_path)
    source = Source.sdist(sdist)
    prepare_metadata(BuildRequest(source, interpreter, cache=cache, install_requirements=installer))
    (entry,) = built_entries(cache, "seed3-meta")
    metadata = entry / "tree" / "METADATA"
    os.chmod(metadata, 0o644)
    metadata.write_text("garbage")
    caplog.set_level(logging.INFO)
    meta = prepare_metadata(BuildRequest(
        source, interpreter, cache=Cache(cache.root), install_requirements=installer
    ))
    assert meta.name == "seed3-meta"
    assert len(_warnings(caplog)) == 1
