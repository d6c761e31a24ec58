"""The probe: runs inside real interpreters (the running one, python3, each pyenv 3.8-3.13)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.markers import default_environment

from satchel.errors import InterpreterError
from satchel.python import probe_script
from satchel.python.probe import MARKER, probe_facts, run_probe
from satchel.python.probe import probe_script as script_text
from tests.support.pythons import SUPPORTED, pyenv_python


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_probe_running_interpreter() -> None:
    interp = run_probe(Path(sys.executable))
    assert interp.version == tuple(sys.version_info[:3])
    assert interp.implementation == sys.implementation.name
    assert interp.markers == default_environment()
    assert interp.prefix == sys.prefix
    assert interp.base_prefix == sys.base_prefix
    assert interp.is_venv == (sys.prefix != sys.base_prefix)
    scheme = sysconfig.get_preferred_scheme("prefix")
    expected = sysconfig.get_paths(scheme)
    for key in ("purelib", "platlib", "scripts", "data"):
        assert interp.paths[key] == expected[key]
    assert interp.executable == os.path.abspath(sys.executable)
    base = getattr(sys, "_base_executable", sys.executable)
    assert interp.base_executable == os.path.realpath(base)


def test_probe_facts_for_tags() -> None:
    facts = probe_facts(Path(sys.executable))
    assert facts.soabi == sysconfig.get_config_var("SOABI")
    assert facts.ext_suffix == sysconfig.get_config_var("EXT_SUFFIX")
    assert facts.platform == sysconfig.get_platform()
    assert facts.maxsize == sys.maxsize
    if sys.platform.startswith("linux"):
        libc = os.confstr("CS_GNU_LIBC_VERSION")
        if libc and libc.startswith("glibc"):
            assert facts.glibc_version == libc.split()[1]
            assert facts.musl_version is None
        assert facts.elf is not None


def test_probe_python3_on_path() -> None:
    exe = shutil.which("python3")
    if exe is None:
        pytest.skip("no python3 on PATH")
    interp = run_probe(Path(exe))
    assert interp.version >= (3, 8, 0)
    assert interp.tags
    assert interp.markers["python_version"] == "{}.{}".format(*interp.version[:2])


@pytest.mark.parametrize("minor", SUPPORTED)
def test_probe_pyenv_interpreters(minor: str) -> None:
    exe = pyenv_python(minor)
    if exe is None:
        pytest.skip(f"no pyenv Python {minor} installed")
    interp = run_probe(exe)
    assert interp.version_str.startswith(minor + ".")
    assert interp.markers["python_version"] == minor
    assert interp.implementation == "cpython"
    assert not interp.is_venv
    assert Path(interp.paths["purelib"]).is_relative_to(interp.prefix)
    assert Path(interp.paths["purelib"]).name == "site-packages"
    assert os.path.samefile(interp.base_executable, exe)
    nodot = minor.replace(".", "")
    assert interp.tags[0].startswith(f"cp{nodot}-cp{nodot}-")
    assert interp.tags[-1] == "py30-none-any"


PLATFORM_MARKERS = """
import json, os, platform, sys
print(json.dumps({
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
}))
"""


@pytest.mark.parametrize("minor", SUPPORTED)
def test_the_probes_markers_are_platforms(minor: str, tmp_path: Path) -> None:
    """The differential test of the probe's markers without ``platform`` (CPython on Linux):
    in a venv of each Python, the same values as ``platform`` gives there, and neither
    ``platform``, ``json`` nor ``re`` imported by the probe (the base interpreters' own
    ``.pth`` files may import ``re``; a fresh venv has none)."""
    base = pyenv_python(minor)
    if base is None:
        pytest.skip(f"no pyenv Python {minor} installed")
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    exe = tmp_path / "venv" / "bin" / "python"
    answer = subprocess.run([str(exe), "-E", "-s", "-c", PLATFORM_MARKERS], capture_output=True, text=True, check=True)
    want = json.loads(answer.stdout)
    markers = run_probe(exe).markers
    assert {key: markers[key] for key in want} == want
    if sys.platform.startswith("linux"):
        check = script_text() + "\nprint(sorted({'platform', 'json', 're'} & set(sys.modules)))"
        run = subprocess.run([str(exe), "-E", "-s", "-c", check], capture_output=True, text=True, check=True)
        assert run.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("minor", ["2.7", "3.6", "3.7"])
def test_too_old_interpreter_is_a_clear_error(minor: str) -> None:
    exe = pyenv_python(minor)
    if exe is None:
        pytest.skip(f"no pyenv Python {minor} installed")
    with pytest.raises(
        InterpreterError, match=r"is Python \d+\.\d+\.\d+; satchel supports Python 3\.8"
    ):
        run_probe(exe)


def test_missing_executable_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "python"
    with pytest.raises(InterpreterError, match="nope/python"):
        run_probe(missing)


def test_failing_executable_reports_last_stderr_line(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", 'echo "first line" >&2\necho "the real reason" >&2\nexit 3\n')
    with pytest.raises(InterpreterError) as info:
        run_probe(exe)
    message = str(info.value)
    assert str(exe) in message
    assert message.endswith("the real reason")
    assert "\n" not in message


def test_not_a_python(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", "echo hello\n")
    with pytest.raises(InterpreterError, match="cannot introspect"):
        run_probe(exe)


def test_non_executable_file(tmp_path: Path) -> None:
    exe = tmp_path / "python"
    exe.write_text("data")
    with pytest.raises(InterpreterError, match=str(exe)):
        run_probe(exe)


def test_timeout(tmp_path: Path) -> None:
    exe = script(tmp_path / "python", "exec sleep 10\n")
    with pytest.raises(InterpreterError, match=r"did not answer within 0\.5 seconds"):
        probe_facts(exe, timeout=0.5)


def test_noise_on_stdout_does_not_break_the_probe(tmp_path: Path) -> None:
    # A .pth file or a wrapper printing to stdout must not corrupt the answer.
    exe = script(tmp_path / "python", f'echo "noise {{not json"\nexec "{sys.executable}" "$@"\n')
    interp = run_probe(exe)
    assert interp.version == tuple(sys.version_info[:3])


def test_probe_ignores_modules_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed')\n")
    monkeypatch.chdir(tmp_path)
    interp = run_probe(Path(sys.executable))
    assert interp.version == tuple(sys.version_info[:3])


def test_probe_script_compiles_as_python_3_8() -> None:
    import ast

    ast.parse(script_text(), feature_version=(3, 8))


def test_probe_script_is_the_module_file() -> None:
    # What runs in the target is probe_script.py itself (linted and type-checked as a module).
    assert script_text() == Path(probe_script.__file__).read_text(encoding="utf-8")
    assert probe_script.MARKER == MARKER


def test_importing_the_probe_script_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    path = list(sys.path)
    importlib.reload(probe_script)
    assert sys.path == path
    assert capsys.readouterr().out == ""


def test_the_probes_version_pair_is_the_regular_expressions() -> None:
    """``version_pair`` is ``re.match(r"([0-9]+)\\.([0-9]+)", text)`` without ``re``."""
    import itertools
    import re

    pieces = ["2", "17", "0", "x", ".", "-", " ", "2a", "٣", "", "glibc"]
    texts = {"".join(p) for n in range(1, 5) for p in itertools.product(pieces, repeat=n)}
    assert len(texts) > 10_000
    for text in texts:
        m = re.match(r"([0-9]+)\.([0-9]+)", text)
        want = (int(m.group(1)), int(m.group(2))) if m else None
        assert probe_script.version_pair(text) == want, text


@pytest.mark.parametrize(
    "version",
    [
        "3.11.7 (main, Dec  6 2026, 10:00:00) [GCC 12.2.0]",
        "3.13.0rc1 (main, Sep  1 2024, 00:00:00) [GCC 12.2.0]",
        "3.12.0+ (heads/3.12:abcdef, Oct  2 2023, 00:00:00) [GCC 12.2.0]",
        "3.12 (main, Oct  2 2023, 00:00:00) [GCC 12.2.0]",
        "3.10.14 (tags/v3.10.14:abc, Mar 19 2024, 00:00:00) [Clang 15.0.0 ]",
    ],
)
def test_the_probes_python_version_is_platforms(version: str) -> None:
    """``leading_version`` is what ``platform.python_version()`` makes of a CPython
    ``sys.version`` (its parser takes the string as an argument)."""
    import platform

    assert probe_script.leading_version(version) == platform._sys_version(version)[1]  # type: ignore[attr-defined]


# -- the answer: JSON written without the json module ------------------------------------------

_CHARS = [
    *["a", "Z", "0", " ", "~", "/", "-", '"', "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f"],
    *["\x80", "é", "\xff", "Ā", "€", "\ufeff", "\uffff", "𝄞", "\U0010ffff", "\udc80", "\udcff", "\ud800"],
]


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, 1, -1, 7, 2**31, -(2**63), 2**70, sys.maxsize])
    if kind in (2, 3, 4):
        return "".join(rng.choice(_CHARS) for _ in range(rng.randrange(12)))
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 6:
        return tuple(_random_value(rng, depth + 1) for _ in range(rng.randrange(4)))
    return {str(_random_value(rng, 3)): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_the_probes_json_is_json_dumps() -> None:
    """The probe writes its answer without importing json (which imports re): what it writes is
    ASCII, and reads back as exactly what json.dumps writes for the same value."""
    rng = random.Random(11)
    values = [_random_value(rng) for _ in range(3000)]
    values += ["".join(_CHARS), {"paths": {"purelib": "/tmp/\udcff/lib"}}, [], {}, ""]
    for value in values:
        text = probe_script.to_json(value)
        assert text.isascii(), value
        assert json.loads(text) == json.loads(json.dumps(value)), value


def test_the_probes_json_refuses_what_json_would_not_write_as_plain_values() -> None:
    for value in (1.5, b"bytes", {1: "not a string key"}, object()):
        with pytest.raises(TypeError):
            probe_script.to_json(value)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 dataclasses imports ast through inspect")
def test_reading_a_probes_answer_imports_no_ast() -> None:
    """satchel's program defers inspect (satchel.cli.deferred); reading the probe's answer must
    not bring ast back (it was ~2.5 ms of a warm install into a new venv)."""
    code = (
        "import sys; from satchel.cli.deferred import defer; defer('inspect'); "
        "from satchel.python.probe import probe_facts; "
        "facts = probe_facts(sys.executable); "
        "print(facts.version_info == tuple(sys.version_info[:3]), 'ast' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
