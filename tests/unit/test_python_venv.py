"""Creating venvs without pip: valid for the interpreter that runs them, fast when cached."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from satchel.cache.store import Cache
from satchel.errors import InterpreterError
from satchel.python import probe
from satchel.python.cached import get_facts
from satchel.python.facts import ProbeFacts
from satchel.python.probe import run_probe
from satchel.python.venv import create_venv, protected_reason
from tests.support.pythons import pyenv_python

CHECK = (
    "import json, site, sys; "
    "print(json.dumps([sys.prefix != sys.base_prefix, sys.prefix, site.getsitepackages()]))"
)


def interpreters() -> list[Any]:
    params: list[Any] = [pytest.param(Path(sys.executable), id="running")]
    for minor in ("3.8", "3.12"):
        exe = pyenv_python(minor)
        params.append(
            pytest.param(
                exe,
                id=f"pyenv-{minor}",
                marks=pytest.mark.skipif(exe is None, reason=f"no pyenv Python {minor} installed"),
            )
        )
    return params


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


@pytest.mark.parametrize("base", interpreters())
def test_venv_is_a_working_venv(base: Path, tmp_path: Path, cache: Cache) -> None:
    venv = tmp_path / "my env"  # a space, to check the quoting
    python = create_venv(venv, base, cache=cache)
    assert python == venv / "bin" / "python"
    out = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, check=True)
    is_venv, prefix, site_packages = json.loads(out.stdout)
    assert is_venv is True
    assert prefix == str(venv)
    assert site_packages
    assert all(Path(p).is_relative_to(venv) for p in site_packages)
    assert Path(site_packages[0]).is_dir()

    interp = run_probe(python)
    assert interp.is_venv
    assert interp.prefix == str(venv)
    purelib = Path(interp.paths["purelib"])
    assert purelib.is_relative_to(venv) and purelib.is_dir()
    assert Path(interp.paths["scripts"]) == venv / "bin"

    # What an installer puts in site-packages is importable.
    (purelib / "satchel_probe_module.py").write_text("VALUE = 42\n")
    out = subprocess.run(
        [str(python), "-c", "import satchel_probe_module as m; print(m.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "42"


@pytest.mark.parametrize("base", interpreters())
def test_venv_layout(base: Path, tmp_path: Path) -> None:
    facts = probe.probe_facts(base)
    venv = tmp_path / "env"
    create_venv(venv, base)
    major, minor, micro = facts.version_info
    real_base = Path(facts.base_executable)
    for name in ("python", "python3", f"python{major}.{minor}"):
        assert os.path.samefile(venv / "bin" / name, real_base)
    assert os.readlink(venv / "bin" / "python") == str(real_base)
    cfg = dict(
        (k.strip(), v.strip())
        for k, _, v in (
            line.partition("=") for line in (venv / "pyvenv.cfg").read_text().splitlines()
        )
    )
    assert cfg["home"] == str(real_base.parent)
    assert cfg["include-system-site-packages"] == "false"
    assert cfg["version"] == f"{major}.{minor}.{micro}"
    assert cfg["executable"] == str(real_base)
    assert "prompt" not in cfg
    assert (venv / ".gitignore").read_text() == "*\n"
    if sys.maxsize > 2**32 and sys.platform != "darwin":
        assert os.readlink(venv / "lib64") == "lib"
    assert (venv / f"lib/python{major}.{minor}/site-packages").is_dir()
    activate = (venv / "bin" / "activate").read_text()
    assert f"VIRTUAL_ENV={venv}\n" in activate


def test_venv_of_a_venv_uses_the_base_interpreter(tmp_path: Path, cache: Cache) -> None:
    first = create_venv(tmp_path / "one", Path(sys.executable), cache=cache)
    second = create_venv(tmp_path / "two", first, cache=cache)
    assert os.readlink(second) == os.readlink(first)
    assert "one" not in (tmp_path / "two" / "pyvenv.cfg").read_text()


def test_cached_creation_runs_no_subprocess(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    get_facts(Path(sys.executable), cache)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"unexpected subprocess: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    python = create_venv(tmp_path / "venv", Path(sys.executable), cache=cache)
    assert python.is_file()


def test_uncached_creation_probes_once(
    tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = probe.probe_facts

    def counting(executable: Path, **kwargs: Any) -> ProbeFacts:
        calls.append(executable)
        return real(executable, **kwargs)

    monkeypatch.setattr(probe, "probe_facts", counting)
    create_venv(tmp_path / "a", Path(sys.executable), cache=cache)
    create_venv(tmp_path / "b", Path(sys.executable), cache=cache)
    assert len(calls) == 1


def test_prompt(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    create_venv(venv, Path(sys.executable), prompt="my project")
    assert "prompt = my project\n" in (venv / "pyvenv.cfg").read_text()
    assert "VIRTUAL_ENV_PROMPT='my project'\n" in (venv / "bin" / "activate").read_text()


def test_default_prompt_is_the_directory_name(tmp_path: Path) -> None:
    venv = tmp_path / "proj-env"
    create_venv(venv, Path(sys.executable))
    assert "VIRTUAL_ENV_PROMPT=proj-env\n" in (venv / "bin" / "activate").read_text()


def test_existing_non_venv_directory_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "stuff"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(InterpreterError, match="exists and is not a virtual environment") as info:
        create_venv(target, Path(sys.executable))
    assert info.value.hint and "--clear --force" in info.value.hint
    assert (target / "precious.txt").read_text() == "keep me"


def test_clear_alone_empties_only_a_virtual_environment(tmp_path: Path) -> None:
    # uv's rule: --clear replaces a venv; a directory that is not one takes --force as well.
    target = tmp_path / "stuff"
    (target / "sub").mkdir(parents=True)
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(InterpreterError, match="not a virtual environment") as info:
        create_venv(target, Path(sys.executable), clear=True)
    assert info.value.hint and "--force" in info.value.hint
    assert (target / "precious.txt").read_text() == "keep me"
    assert (target / "sub").is_dir()


def test_clear_and_force_empty_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "stuff"
    (target / "sub").mkdir(parents=True)
    (target / "old.txt").write_text("x")
    create_venv(target, Path(sys.executable), clear=True, force=True)
    assert not (target / "old.txt").exists()
    assert not (target / "sub").exists()
    assert (target / "pyvenv.cfg").is_file()


def test_the_root_and_home_directories_are_protected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (the root itself is only ever asked about, never passed to create_venv: a test that failed
    # there would empty the machine)
    assert protected_reason(Path("/")) == "it is the root of the file system"
    assert protected_reason(Path("/usr/..")) == "it is the root of the file system"
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious.txt").write_text("keep me")
    (home / "pyvenv.cfg").write_text("home = /usr/bin\n")  # (python -m venv ~ was run once)
    link = tmp_path / "link-to-home"
    link.symlink_to(home)
    monkeypatch.setenv("HOME", str(home))
    assert protected_reason(link) == "it is your home directory"
    assert protected_reason(tmp_path) is None
    for path in (home, link):
        with pytest.raises(InterpreterError, match="your home directory, and satchel never empties it"):
            create_venv(path, Path(sys.executable), clear=True, force=True)
    assert (home / "precious.txt").read_text() == "keep me"


def test_existing_venv_is_replaced_only_with_clear(tmp_path: Path, cache: Cache) -> None:
    # (uv 0.13's rule: what is installed there would go without a word)
    venv = tmp_path / "env"
    create_venv(venv, Path(sys.executable), cache=cache)
    (venv / "leftover").write_text("x")
    with pytest.raises(InterpreterError, match="is a virtual environment already") as info:
        create_venv(venv, Path(sys.executable), cache=cache)
    assert info.value.hint and "--clear" in info.value.hint
    assert (venv / "leftover").read_text() == "x"
    python = create_venv(venv, Path(sys.executable), clear=True, cache=cache)
    assert not (venv / "leftover").exists()
    assert python.is_file()


def test_empty_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    assert create_venv(tmp_path / "env", Path(sys.executable)).is_file()


def test_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "env").write_text("")
    with pytest.raises(InterpreterError, match="exists and is not a directory"):
        create_venv(tmp_path / "env", Path(sys.executable))


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_activate_and_deactivate_in_bash(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    create_venv(venv, Path(sys.executable))
    script = (
        'PS1="$ "; PATH=/usr/bin:/bin; . "$1/bin/activate"; '
        'echo "$VIRTUAL_ENV|$PS1|$(command -v python)"; '
        'deactivate; echo "${VIRTUAL_ENV:-unset}|$PS1|$PATH"; '
        "type deactivate >/dev/null 2>&1 && echo still-defined || echo gone"
    )
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script, "bash", str(venv)],
        capture_output=True,
        text=True,
        check=True,
    )
    active, after, gone = out.stdout.splitlines()
    assert active == f"{venv}|(env) $ |{venv}/bin/python"
    assert after == "unset|$ |/usr/bin:/bin"
    assert gone == "gone"
