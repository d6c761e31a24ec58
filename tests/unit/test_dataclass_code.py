"""The compiled methods of dataclasses kept between runs (satchel.cli.dataclass_code): the same
code as dataclasses' own for every satchel record, the table's faults, Python's rules for
writing bytecode, and the wiring (the program keeps a table; other callers of main() do not)."""

from __future__ import annotations

import dataclasses
import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import CodeType

import pytest

from satchel.cli import dataclass_code
from satchel.cli.dataclass_code import DataclassCode, read_table, table_path

SOURCE = textwrap.dedent(
    """
    from __future__ import annotations
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: tuple[str, ...] = ()

    @dataclasses.dataclass(order=True)
    class Version:
        major: int
        minor: int = dataclasses.field(default=0, compare=False)
        extra: list[str] = dataclasses.field(default_factory=list)
    """
)


@pytest.fixture(autouse=True)
def may_write_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """(the shell running the tests may say PYTHONDONTWRITEBYTECODE; one test says it again)"""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def define(code: DataclassCode, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The classes of SOURCE, defined with ``code`` as the dataclasses module's exec."""
    monkeypatch.setattr(dataclasses, "exec", code.exec, raising=False)
    namespace: dict[str, object] = {"__name__": "satchel_test_records"}
    sys.modules["satchel_test_records"] = type(sys)("satchel_test_records")
    try:
        exec(compile(SOURCE, "<records>", "exec", dont_inherit=True), namespace)
    finally:
        del sys.modules["satchel_test_records"]
        monkeypatch.delattr(dataclasses, "exec")
    return namespace


def generated_code(cls: type) -> dict[str, CodeType]:
    """The methods dataclasses compiled for ``cls`` (a repr is wrapped: its __wrapped__)."""
    out = {}
    for name, value in vars(cls).items():
        function = getattr(value, "__wrapped__", value)
        code = getattr(function, "__code__", None)
        if code is not None and code.co_filename == "<string>":
            out[name] = code
    return out


# -- a table: written by one process, used by the next --------------------------------------------


def test_a_table_holds_what_one_run_compiled_and_the_next_run_compiles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "__pycache__" / "table.bin")
    first = DataclassCode(path)
    made = define(first, monkeypatch)
    assert first.loaded == 0 and first.compiled >= 9  # Point: 6 methods; Version: 3 + 4 orders
    assert first.save() and os.path.exists(path)

    second = DataclassCode(path)
    again = define(second, monkeypatch)
    assert second.loaded == first.compiled and second.compiled == 0
    assert not second.save()  # nothing new: the table is not written again
    for name in ("Point", "Version"):
        assert generated_code(again[name]) == generated_code(made[name])  # type: ignore[arg-type]
    point = again["Point"](1, tags=("a",))  # type: ignore[operator]
    assert point == again["Point"](1, 0, ("a",)) and hash(point) == hash((1, 0, ("a",)))  # type: ignore[operator]
    assert repr(point) == "Point(x=1, y=0, tags=('a',))"
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2
    assert again["Version"](1, 2) < again["Version"](2, 0)  # type: ignore[operator]


def test_other_sources_reach_the_builtin_exec_untouched(tmp_path: Path) -> None:
    code = DataclassCode(str(tmp_path / "table.bin"))
    namespace: dict[str, object] = {}
    code.exec(compile("x = 6 * 7", "<s>", "exec"), namespace)
    assert namespace["x"] == 42 and code.compiled == 0


# -- the same code as dataclasses' own, for every record satchel defines --------------------------

DUMP = textwrap.dedent(
    """
    import dataclasses, importlib, marshal, pkgutil, sys
    import satchel
    mode, path, out = sys.argv[1:4]
    if mode != "plain":
        from satchel.cli import dataclass_code
        code = dataclass_code.DataclassCode(path)
        dataclasses.exec = code.exec
    for info in pkgutil.walk_packages(satchel.__path__, "satchel."):
        if info.name.endswith(".__main__"):
            continue  # (runs the program)
        importlib.import_module(info.name)
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("satchel"):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name:
                for method, member in vars(value).items():
                    function = getattr(member, "__wrapped__", member)
                    c = getattr(function, "__code__", None)
                    if c is not None and c.co_filename == "<string>":
                        found[f"{name}.{value.__qualname__}.{method}"] = c
    with open(out, "wb") as fh:
        fh.write(marshal.dumps(found))
    if mode != "plain":
        print(code.loaded, code.compiled)
        code.save()
    """
)


def test_every_satchel_record_gets_the_methods_dataclasses_compiles_itself(tmp_path: Path) -> None:
    """The differential test: each record's generated methods, in three fresh interpreters --
    dataclasses alone, through an empty table, and through the table the second one wrote --
    are equal code objects (bytecode, constants, names, line table), from the same file name."""
    table = str(tmp_path / "table.bin")
    dumps = {}
    counts = {}
    for mode in ("plain", "compiling", "reading"):
        out = tmp_path / f"{mode}.marshal"
        proc = subprocess.run(
            [sys.executable, "-c", DUMP, mode, table, str(out)],
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        )
        assert proc.returncode == 0, proc.stderr
        counts[mode] = proc.stdout.split()
        dumps[mode] = marshal.loads(out.read_bytes())
    plain = dumps["plain"]
    assert len(plain) > 300  # every record's methods (about 100 records)
    assert counts["compiling"][0] == "0" and int(counts["compiling"][1]) > 200
    assert counts["reading"] == [counts["compiling"][1], "0"]  # all from the table
    for mode in ("compiling", "reading"):
        assert dumps[mode].keys() == plain.keys()
        for key, code in plain.items():
            other = dumps[mode][key]
            assert other == code, key
            assert (other.co_filename, other.co_name, other.co_firstlineno) == (
                code.co_filename,
                code.co_name,
                code.co_firstlineno,
            ), key


# -- faults: anything but a table this interpreter wrote is an empty one, written anew -------------


def _valid_table(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = DataclassCode(str(path))
    define(code, monkeypatch)
    assert code.save()


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _with_body(body: bytes) -> bytes:
    return dataclass_code._header() + dataclass_code._digest(body) + body


FAULTS = {
    "damaged body": _flip_last_byte,
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "another interpreter's": lambda data: data[:8] + b"\x00\x00\r\n" + data[12:],
    "not a table": lambda data: b"#!/bin/sh\n" + data,
    "checksum right, body not marshal": lambda data: _with_body(b"\xff not marshal"),
    "checksum right, other values": lambda data: _with_body(marshal.dumps({"def f(): pass": 1})),
    "checksum right, not a dict": lambda data: _with_body(marshal.dumps([1, 2])),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_broken_table_is_an_empty_one_and_is_written_anew(
    fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    _valid_table(path, monkeypatch)
    path.write_bytes(FAULTS[fault](path.read_bytes()))
    assert read_table(str(path)) == {}
    code = DataclassCode(str(path))
    define(code, monkeypatch)
    assert code.loaded == 0 and code.compiled > 0
    assert code.save()
    assert len(read_table(str(path))) == code.compiled  # healed: a whole table again


def test_a_directory_in_place_of_the_table_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    path.mkdir()
    code = DataclassCode(str(path))
    define(code, monkeypatch)
    assert code.loaded == 0 and code.compiled > 0
    assert not code.save()  # cannot be written there: the run goes on, nothing left behind
    assert path.is_dir() and os.listdir(tmp_path) == ["table.bin"]


# -- Python's rules for bytecode ---------------------------------------------------------------------


def test_nothing_is_written_when_python_may_not_write_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    code = DataclassCode(str(path))
    define(code, monkeypatch)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert not code.save() and not path.exists()


def test_the_table_goes_where_python_puts_bytecode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", None)
    path = table_path("/opt/site/satchel")
    tag = sys.implementation.cache_tag
    assert path.startswith("/opt/site/satchel/__pycache__/dataclass-methods-")
    assert path.endswith(f".{tag}.bin") or path.endswith(f".{tag}.opt-{sys.flags.optimize}.bin")
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    assert table_path("/opt/site/satchel").startswith(f"{tmp_path}/opt/site/satchel/dataclass-methods-")


def test_the_program_keeps_a_table_and_main_called_by_others_does_not(tmp_path: Path) -> None:
    """`python -m satchel` writes the table where PYTHONPYCACHEPREFIX says, and a second run
    compiles nothing (the table is not written again); main() leaves dataclasses alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SATCHEL_"))}
    env.update(PYTHONPYCACHEPREFIX=str(tmp_path / "prefix"), SATCHEL_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "satchel", "list", "--python", sys.executable]
    subprocess.run(command, env=env, check=True, capture_output=True)
    tables = list((tmp_path / "prefix").rglob("dataclass-methods-*.bin"))
    assert len(tables) == 1 and len(read_table(str(tables[0]))) > 20
    written = tables[0].stat().st_mtime_ns
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert tables[0].stat().st_mtime_ns == written

    probe = "import dataclasses; from satchel.cli.main import main; main(['list', '--python', sys.executable]); print('exec' in vars(dataclasses))"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; " + probe], env=env, check=True, capture_output=True, text=True
    )
    assert proc.stdout.strip().endswith("False")
