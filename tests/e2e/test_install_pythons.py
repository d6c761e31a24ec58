"""One requirement set into venvs of two interpreter versions: markers, Requires-Python and wheel
tags are evaluated for each target, not for the interpreter satchel runs on."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import Satchel, installed_files_match_record, pyenv_python, run_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec

PY310 = pyenv_python("3.10")
PY312 = pyenv_python("3.12")


@pytest.mark.skipif(PY310 is None or PY312 is None, reason="needs pyenv CPython 3.10 and 3.12")
def test_same_requirements_into_310_and_312(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec(
            "app", "1.0",
            requires=[
                'backport; python_version < "3.11"',
                "modern",
                "native",
                "pure",
            ],
        ),
        WheelSpec("backport", "1.0"),
        # Requires-Python filtering: 2.0 drops 3.10, so 3.10 gets 1.5.
        WheelSpec("modern", "1.5", requires_python=">=3.8"),
        WheelSpec("modern", "2.0", requires_python=">=3.11"),
        # One compiled-looking wheel per interpreter.
        WheelSpec("native", "1.0", tag="cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64",
                  root_is_purelib=False),
        WheelSpec("native", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
                  root_is_purelib=False),
        WheelSpec("pure", "1.0", tag="py3-none-any"),
    )  # fmt: skip
    assert PY310 is not None and PY312 is not None
    v310 = satchel.venv("v310", python="3.10")  # a version request, found in pyenv's versions
    v312 = satchel.venv("v312", python=PY312)
    assert run_python(v310, "import sys; print(sys.version_info[:2])") == "(3, 10)"
    assert run_python(v312, "import sys; print(sys.version_info[:2])") == "(3, 12)"

    r310 = satchel.run("install", "-p", v310, "app")
    r312 = satchel.run("install", "-p", v312, "app")

    assert " + backport==1.0" in r310.stderr
    assert " + modern==1.5" in r310.stderr
    assert "backport" not in r312.stderr
    assert " + modern==2.0" in r312.stderr

    probe = (
        "import json, importlib.util, modern, native, pure;"
        "print(json.dumps({'backport': importlib.util.find_spec('backport') is not None,"
        " 'modern': modern.__version__, 'native': native.TAG, 'pure': pure.TAG}))"
    )
    got310 = json.loads(run_python(v310, probe))
    got312 = json.loads(run_python(v312, probe))
    assert got310 == {"backport": True, "modern": "1.5", "pure": "py3-none-any",
                      "native": "cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64"}
    assert got312 == {"backport": False, "modern": "2.0", "pure": "py3-none-any",
                      "native": "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"}
    for venv in (v310, v312):
        installed_files_match_record(venv, "native")
        installed_files_match_record(venv, "pure")

    again = satchel.run("install", "-p", v310, "app")
    assert "Nothing to do" in again.stderr


@pytest.mark.skipif(PY310 is None, reason="needs pyenv CPython 3.10")
def test_no_wheel_for_the_target_is_a_clear_error(satchel: Satchel, index_server: IndexServer) -> None:
    publish(
        index_server,
        WheelSpec("only312", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64", root_is_purelib=False),
        WheelSpec("newpy", "1.0", requires_python=">=3.12"),
    )
    assert PY310 is not None
    venv = satchel.venv("v310", python=PY310)
    for name in ("only312", "newpy"):
        result = satchel.run("install", "-p", venv, name, check=False)
        assert result.returncode == 1, result
        assert any(line.startswith("error:") for line in result.stderr.splitlines()), result
        assert name in result.stderr
    assert run_python(venv, "import importlib.util as u; print(u.find_spec('newpy'))") == "None"
