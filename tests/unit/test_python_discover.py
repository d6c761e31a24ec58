"""Finding the target: -p, --system, $VIRTUAL_ENV, .venv in cwd or a parent, version requests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from satchel.errors import InterpreterError
from satchel.python.discover import (
    NO_VENV_HINT,
    VersionRequest,
    find_interpreter_for_version,
    find_target,
    parse_version_request,
)
from tests.support.pythons import pyenv_python


class World:
    """An isolated PATH directory and PYENV_ROOT, with fake interpreters in them."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.pyenv = root / "pyenv"
        (self.pyenv / "versions").mkdir(parents=True)
        self.cwd = root / "work"
        self.cwd.mkdir()
        monkeypatch.setenv("PATH", str(self.bin))
        monkeypatch.setenv("PYENV_ROOT", str(self.pyenv))
        monkeypatch.delenv("VIRTUAL_ENV", raising=False)

    def on_path(self, name: str, version: str, directory: Path | None = None) -> Path:
        """A fake python on PATH that answers the version query with ``version``."""
        directory = directory or self.bin
        directory.mkdir(parents=True, exist_ok=True)
        exe = directory / name
        exe.write_text(f"#!/bin/sh\necho {version}\n")
        exe.chmod(0o755)
        return exe

    def pyenv_version(self, name: str) -> Path:
        exe = self.pyenv / "versions" / name / "bin" / "python3"
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\nexit 1\n")  # never run: the version is in the directory name
        exe.chmod(0o755)
        return exe

    def venv(self, path: Path) -> Path:
        exe = path / "bin" / "python"
        exe.parent.mkdir(parents=True)
        exe.write_text("")
        (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
        return exe


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return World(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", VersionRequest(3)),
        ("3.10", VersionRequest(3, 10)),
        ("3.12.1", VersionRequest(3, 12, 1)),
        ("python3.11", VersionRequest(3, 11)),
        ("cpython3.10", VersionRequest(3, 10)),
        ("3.13t", VersionRequest(3, 13, freethreaded=True)),
        ("python3", None),  # a command name
        ("pypy3.10", None),
        ("3.x", None),
        ("./3.10", None),
    ],
)
def test_parse_version_request(text: str, expected: VersionRequest | None) -> None:
    assert parse_version_request(text) == expected


# -- precedence -------------------------------------------------------------------------------


def test_no_environment_is_an_error_with_a_hint(world: World) -> None:
    with pytest.raises(InterpreterError, match=r"^no virtual environment found$") as info:
        find_target(None, system=False, cwd=world.cwd)
    assert info.value.hint == NO_VENV_HINT


def test_dot_venv_in_cwd(world: World) -> None:
    exe = world.venv(world.cwd / ".venv")
    assert find_target(None, system=False, cwd=world.cwd) == exe


def test_dot_venv_in_a_parent(world: World) -> None:
    exe = world.venv(world.cwd / ".venv")
    deep = world.cwd / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_target(None, system=False, cwd=deep) == exe


def test_nearest_dot_venv_wins(world: World) -> None:
    world.venv(world.cwd / ".venv")
    sub = world.cwd / "sub"
    inner = world.venv(sub / ".venv")
    assert find_target(None, system=False, cwd=sub) == inner


def test_broken_dot_venv_is_an_error(world: World) -> None:
    (world.cwd / ".venv").mkdir()
    with pytest.raises(InterpreterError, match=r"\.venv is not a virtual environment"):
        find_target(None, system=False, cwd=world.cwd)


def test_virtual_env_beats_dot_venv(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.venv(world.cwd / ".venv")
    active = world.venv(world.root / "active")
    monkeypatch.setenv("VIRTUAL_ENV", str(world.root / "active"))
    assert find_target(None, system=False, cwd=world.cwd) == active


def test_virtual_env_without_python(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", str(world.root / "gone"))
    with pytest.raises(InterpreterError, match="gone"):
        find_target(None, system=False, cwd=world.cwd)


def test_system_uses_python3_on_path(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = world.on_path("python3", "3.11.4")
    world.venv(world.cwd / ".venv")
    monkeypatch.setenv("VIRTUAL_ENV", str(world.root / "active"))
    assert find_target(None, system=True, cwd=world.cwd) == exe


def test_system_without_python3(world: World) -> None:
    with pytest.raises(InterpreterError, match="no python3 found on PATH"):
        find_target(None, system=True, cwd=world.cwd)


def test_system_unwraps_a_shim(world: World, tmp_path: Path) -> None:
    real = tmp_path / "real-python"
    real.write_bytes(b"\x7fELF")
    shim = world.bin / "python3"
    shim.write_text(f"#!/bin/sh\necho {real}\n")
    shim.chmod(0o755)
    assert find_target(None, system=True, cwd=world.cwd) == real


# A macOS venv launcher sets __PYVENV_LAUNCHER__ for the Python it starts, which then reports the
# launcher as its sys.executable. These fakes behave like that when the variable reaches them.


def test_system_shim_is_asked_without_the_venv_launcher_variable(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real-python"
    real.write_bytes(b"\x7fELF")
    launcher = world.venv(tmp_path / "launching-venv")
    monkeypatch.setenv("__PYVENV_LAUNCHER__", str(launcher))
    shim = world.bin / "python3"
    shim.write_text(f'#!/bin/sh\necho "${{__PYVENV_LAUNCHER__:-{real}}}"\n')
    shim.chmod(0o755)
    assert find_target(None, system=True, cwd=world.cwd) == real


def test_version_query_runs_without_the_venv_launcher_variable(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("__PYVENV_LAUNCHER__", "/usr/bin/python3.9")
    exe = world.bin / "python3.11"
    exe.write_text('#!/bin/sh\nif [ -n "$__PYVENV_LAUNCHER__" ]; then echo 3.9.0; else echo 3.11.4; fi\n')
    exe.chmod(0o755)
    assert find_interpreter_for_version("3.11") == exe


def test_python_option_beats_everything(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.venv(world.cwd / ".venv")
    monkeypatch.setenv("VIRTUAL_ENV", str(world.root / "active"))
    other = world.venv(world.root / "other")
    assert find_target(str(world.root / "other"), system=True, cwd=world.cwd) == other


# -- -p with a path ----------------------------------------------------------------------------


def test_python_option_file_is_kept_as_given(world: World) -> None:
    venv_python = world.venv(world.cwd / "env")
    link = world.cwd / "py"
    link.symlink_to(venv_python)
    assert find_target("./py", system=False, cwd=world.cwd) == link  # not resolved
    assert find_target(str(venv_python), system=False, cwd=world.cwd) == venv_python


def test_python_option_venv_directory(world: World) -> None:
    exe = world.venv(world.cwd / "env")
    world.on_path("env", "not a python")  # a directory in cwd beats a command of that name
    assert find_target("env", system=False, cwd=world.cwd) == exe  # a bare name in cwd
    assert find_target("./env/", system=False, cwd=world.cwd) == exe


def test_python_option_missing_path_is_named(world: World) -> None:
    with pytest.raises(InterpreterError, match=r"/work/nowhere/python does not exist"):
        find_target("./nowhere/python", system=False, cwd=world.cwd)


def test_python_option_directory_without_python(world: World) -> None:
    (world.cwd / "empty").mkdir()
    with pytest.raises(InterpreterError, match="is a directory without bin/python"):
        find_target("./empty", system=False, cwd=world.cwd)


def test_python_option_command_name(world: World) -> None:
    exe = world.on_path("python3", "3.11.4")
    assert find_target("python3", system=False, cwd=world.cwd) == exe


def test_python_option_unknown(world: World) -> None:
    with pytest.raises(InterpreterError, match="no Python found for -p nosuchpython"):
        find_target("nosuchpython", system=False, cwd=world.cwd)


# -- -p with a version -------------------------------------------------------------------------


def test_version_picks_newest_pyenv_patch(world: World) -> None:
    world.pyenv_version("3.10.2")
    newest = world.pyenv_version("3.10.11")
    world.pyenv_version("3.11.1")
    assert find_target("3.10", system=False, cwd=world.cwd) == newest
    assert find_target("python3.10", system=False, cwd=world.cwd) == newest
    assert find_target("cpython3.10", system=False, cwd=world.cwd) == newest


def test_version_exact_patch(world: World) -> None:
    exact = world.pyenv_version("3.10.2")
    world.pyenv_version("3.10.11")
    assert find_interpreter_for_version("3.10.2") == exact


def test_version_compares_path_and_pyenv(world: World) -> None:
    on_path = world.on_path("python3.11", "3.11.4")
    world.pyenv_version("3.11.2")
    assert find_interpreter_for_version("3.11") == on_path
    newer = world.pyenv_version("3.11.9")
    assert find_interpreter_for_version("3.11") == newer


def test_version_major_only_picks_newest(world: World) -> None:
    world.on_path("python3.9", "3.9.1")
    newest = world.pyenv_version("3.12.0")
    world.pyenv_version("3.8.5")
    assert find_interpreter_for_version("3") == newest


def test_version_skips_pyenv_shims(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    shims = world.pyenv / "shims"
    world.on_path("python3.10", "3.10.99", directory=shims)
    monkeypatch.setenv("PATH", os.pathsep.join([str(shims), str(world.bin)]))
    real = world.pyenv_version("3.10.4")
    assert find_interpreter_for_version("3.10") == real


def test_version_skips_broken_path_entries(world: World) -> None:
    broken = world.bin / "python3.10"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    real = world.pyenv_version("3.10.4")
    assert find_interpreter_for_version("3.10") == real


def test_version_free_threaded_only_when_asked(world: World) -> None:
    normal = world.pyenv_version("3.13.0")
    threaded = world.pyenv_version("3.13.1t")
    assert find_interpreter_for_version("3.13") == normal
    assert find_interpreter_for_version("3.13t") == threaded


def test_version_not_found(world: World) -> None:
    world.pyenv_version("3.11.1")
    with pytest.raises(InterpreterError, match=r"^no Python 3\.9 found \(searched PATH and "):
        find_target("3.9", system=False, cwd=world.cwd)


def test_not_a_version(world: World) -> None:
    with pytest.raises(InterpreterError, match="not a Python version"):
        find_interpreter_for_version("latest")


def test_version_resolves_to_a_real_pyenv_interpreter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = pyenv_python("3.12")
    if real is None:
        pytest.skip("no pyenv Python 3.12 installed")
    monkeypatch.setenv("PATH", str(tmp_path))
    found = find_interpreter_for_version("3.12")
    assert found.parent == real.parent
    assert os.path.samefile(found, real)
