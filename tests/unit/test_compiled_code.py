"""What the satchel program compiles while it starts, kept between runs (satchel.cli.compiled_code):
the same dataclass methods and regular expressions as the ones made without the table, for every
satchel record and every pattern a run compiles; the table's faults; Python's rules for writing
bytecode; and the wiring (the program keeps a table; other callers of main() do not)."""

from __future__ import annotations

import dataclasses
import marshal
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

from satchel.cli import compiled_code
from satchel.cli.compiled_code import CompiledCode, read_table, regex_compiler, table_path

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


def define(code: CompiledCode, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
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
    first = CompiledCode(path)
    made = define(first, monkeypatch)
    assert first.loaded["code"] == 0 and first.compiled["code"] >= 9  # Point: 6; Version: 3 + 4 orders
    assert first.save() and os.path.exists(path)

    second = CompiledCode(path)
    again = define(second, monkeypatch)
    assert second.loaded["code"] == first.compiled["code"] and second.compiled["code"] == 0
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
    code = CompiledCode(str(tmp_path / "table.bin"))
    namespace: dict[str, object] = {}
    code.exec(compile("x = 6 * 7", "<s>", "exec"), namespace)
    assert namespace["x"] == 42 and code.compiled["code"] == 0


# -- the same code as dataclasses' own, for every record satchel defines --------------------------

DUMP = textwrap.dedent(
    """
    import dataclasses, importlib, marshal, pkgutil, sys
    import satchel
    mode, path, out = sys.argv[1:4]
    if mode != "plain":
        from satchel.cli import compiled_code
        code = compiled_code.install(path)
    for info in pkgutil.walk_packages(satchel.__path__, "satchel."):
        if info.name.endswith(".__main__"):
            continue  # (runs the program)
        importlib.import_module(info.name)
    import typing
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("satchel"):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name:
                for field in dataclasses.fields(value):
                    if isinstance(field.type, str):
                        ref = typing.ForwardRef(field.type, is_argument=False, is_class=True)
                        found[f"annotation {field.type}"] = ref.__forward_code__
                for method, member in vars(value).items():
                    function = getattr(member, "__wrapped__", member)
                    c = getattr(function, "__code__", None)
                    if c is not None and c.co_filename == "<string>":
                        found[f"{name}.{value.__qualname__}.{method}"] = c
    with open(out, "wb") as fh:
        fh.write(marshal.dumps(found))
    if mode != "plain":
        print(code.loaded["code"], code.compiled["code"], code.loaded["regexes"], code.compiled["regexes"])
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
            # (a fixed hash seed: the email package builds patterns from sets of characters)
            env={**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONHASHSEED": "0"},
        )
        assert proc.returncode == 0, proc.stderr
        counts[mode] = proc.stdout.split()
        dumps[mode] = marshal.loads(out.read_bytes())
    plain = dumps["plain"]
    assert len(plain) > 300  # every record's methods (about 100 records)
    assert sum(key.startswith("annotation ") for key in plain) > 100  # and their annotations
    loaded, compiled, regexes_loaded, regexes_compiled = map(int, counts["compiling"])
    assert loaded == 0 and compiled > 200 and regexes_loaded == 0 and regexes_compiled > 50
    assert counts["reading"] == [str(compiled), "0", str(regexes_compiled), "0"]  # all from the table
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


    # The patterns those runs compiled (satchel's, packaging's, the standard library's), built
    # from the table, are the ones the compiler builds here.
    code, regexes = read_table(table)
    assert sum(mode == "eval" for mode, _ in code) > 100  # the annotations went through the table
    assert len(regexes) == regexes_compiled
    import _sre

    for (pattern, flags), args in regexes.items():
        assert _sre.compile(pattern, *args) == regex_compiler().compile(pattern, flags), pattern


# -- regular expressions: every kind of pattern --------------------------------------------------

PATTERNS: list[tuple[str | bytes, int]] = [
    (r"(?P<name>[A-Za-z0-9._-]+)\s*(?P<op>[<>=!~]=?)\s*(?P<version>[^\s;]+)", 0),
    (r"^\s*#.*$", re.MULTILINE),
    (r"(?i)linux_(x86_64|aarch64)", 0),
    (r"[ÀÉ]+\w", re.IGNORECASE),
    (r"a.b", re.DOTALL | re.ASCII),
    (r"""
        v?(?:(?:(?P<epoch>[0-9]+)!)?(?P<release>[0-9]+(?:\.[0-9]+)*))  # PEP 440's start
    """, re.VERBOSE | re.IGNORECASE),
    (rb"^PK\x03\x04(?P<rest>.{4})", re.DOTALL),
    (r"(a)(?:b)(?P<c>c)?\1", 0),
    (r"x{2,5}?y*+z(?=q)(?!r)(?<=s)", 0),
]


def install_on_compiler(code_of: Callable[[Callable[..., Any]], CompiledCode], monkeypatch: pytest.MonkeyPatch) -> CompiledCode:
    compiler = regex_compiler()
    code = code_of(compiler.compile)
    monkeypatch.setattr(compiler, "compile", code.compile_regex)
    monkeypatch.setattr(compiler, "_sre", compiled_code._NotingSre(compiler._sre, code.note_regex))
    return code


def test_patterns_from_the_table_are_the_compilers_and_match_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "table.bin")
    real = regex_compiler().compile
    samples = ["name >= 1.0", "  # note", "LINUX_X86_64", "àé", "a\nb", "v1!2.3", "x" * 3 + "yz", "abca"]
    with monkeypatch.context() as patch:
        first = install_on_compiler(lambda original: CompiledCode(path, original), patch)
        made = [first.compile_regex(p, f) for p, f in PATTERNS]
        assert first.compiled["regexes"] == len(PATTERNS) and first.save()
    with monkeypatch.context() as patch:
        second = install_on_compiler(lambda original: CompiledCode(path, original), patch)
        again = [second.compile_regex(p, f) for p, f in PATTERNS]
        assert second.loaded["regexes"] == len(PATTERNS) and second.compiled["regexes"] == 0
    for (pattern, flags), one, two in zip(PATTERNS, made, again, strict=True):
        fresh = real(pattern, flags)
        assert one == fresh and two == fresh, pattern
        assert (two.flags, two.groups, dict(two.groupindex)) == (fresh.flags, fresh.groups, dict(fresh.groupindex))
        for text in samples:
            subject: str | bytes = text.encode() if isinstance(pattern, bytes) else text
            got, want = two.search(subject), fresh.search(subject)  # type: ignore[arg-type]
            assert (got and got.groups(), got and got.span()) == (want and want.groups(), want and want.span())


def test_a_regex_entry_the_matcher_refuses_is_compiled_as_usual(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    pattern = r"(ab)+c"
    with monkeypatch.context() as patch:
        first = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        first.compile_regex(pattern, 0)
        assert first.save()
    # A table whose checksum is right but whose code is not the matcher's (a written bug, say).
    methods, regexes = read_table(str(path))
    flags, code, groups, groupindex, indexgroup = regexes[(pattern, 0)]
    regexes[(pattern, 0)] = (flags, [99999, *code[1:]], groups, groupindex, indexgroup)
    path.write_bytes(_with_body(_table_body(methods, regexes, compiled_code.regex_build())))
    with monkeypatch.context() as patch:
        second = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        compiled = second.compile_regex(pattern, 0)
        assert second.compiled["regexes"] == 1  # refused by _sre.compile, so compiled again
    assert compiled == regex_compiler().compile(pattern, 0) and compiled.fullmatch("ababc")


def test_regexes_of_another_interpreter_build_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    with monkeypatch.context() as patch:
        first = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        first.compile_regex(r"q+", 0)
        define(first, monkeypatch)
        assert first.save()
    methods, regexes = read_table(str(path))
    assert regexes and methods
    version, magic, size, top = compiled_code.regex_build()
    other = (version + " (patched)", magic, size, top)
    path.write_bytes(_with_body(_table_body(methods, regexes, other)))
    assert read_table(str(path)) == (methods, {})  # the methods are the bytecode's: still good


def test_a_table_past_its_bound_keeps_what_the_run_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patterns made anew by every run (a different text each time) cannot grow a table
    without bound: past MAX_ENTRIES it is written with what the writing run used."""
    monkeypatch.setattr(compiled_code, "MAX_ENTRIES", 20)
    path = str(tmp_path / "table.bin")
    for run in range(6):
        with monkeypatch.context() as patch:
            code = install_on_compiler(lambda original: CompiledCode(path, original), patch)
            for i in range(5):
                code.compile_regex(f"run{run}-{i}[a-z]+", 0)  # new texts every run
            code.compile_regex(r"stable\d+", 0)  # the same every run
            assert code.save()
        regexes = read_table(path)[1]
        assert (r"stable\d+", 0) in regexes and len(regexes) <= 20 + 6
    assert len(read_table(path)[1]) < 6 * 5 + 1


def test_patterns_whose_text_changes_order_from_run_to_run_are_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The email package builds patterns from sets of characters: a new order every run. Such a
    pattern is compiled (and the same as the compiler's) but not kept, so a run that only met
    one writes nothing; a new pattern is still kept."""
    path = str(tmp_path / "table.bin")
    with monkeypatch.context() as patch:
        first = install_on_compiler(lambda original: CompiledCode(path, original), patch)
        first.compile_regex(r"[^\[\]@<>:;,]+", 0)
        assert first.save()
    with monkeypatch.context() as patch:
        second = install_on_compiler(lambda original: CompiledCode(path, original), patch)
        again = second.compile_regex(r"[^<>@:\];\[,]+", 0)  # the same characters, another order
        assert second.compiled["regexes"] == 0 and not second.save()
        assert again == regex_compiler().compile(r"[^<>@:\];\[,]+", 0)
        second.compile_regex(r"[^<>@:\];\[,]+", re.IGNORECASE)  # other flags: another pattern
        second.compile_regex(r"new[0-9]+", 0)
        assert second.compiled["regexes"] == 2 and second.save()
    assert set(read_table(path)[1]) == {
        (r"[^\[\]@<>:;,]+", 0),
        (r"[^<>@:\];\[,]+", int(re.IGNORECASE)),
        (r"new[0-9]+", 0),
    }


def test_a_cold_install_leaves_the_table_as_it_found_it(tmp_path: Path) -> None:
    """The program's own case: the email package's patterns (imported by an install that
    downloads) with two hash seeds; the second run writes nothing."""
    code = (
        "import sys; from satchel.cli import compiled_code; "
        "c = compiled_code.install(sys.argv[1]); import email._header_value_parser; "
        "print(c.compiled['regexes'], c.save())"
    )
    table = str(tmp_path / "table.bin")
    runs = []
    for seed in ("1", "2"):
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code, table], capture_output=True, text=True, env=env, check=True)
        runs.append(proc.stdout.split())
    assert int(runs[0][0]) > 0 and runs[0][1] == "True"
    assert runs[1] == ["0", "False"]


# -- faults: anything but a table this interpreter wrote is an empty one, written anew -------------


def _valid_table(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = CompiledCode(str(path))
    define(code, monkeypatch)
    assert code.save()


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _with_body(body: bytes) -> bytes:
    return compiled_code._header() + compiled_code._digest(body) + body


def _table_body(code: dict[Any, Any], regexes: dict[Any, Any], build: object) -> bytes:
    """A table's body as the program writes one: every entry's value marshalled on its own."""
    return marshal.dumps(
        {
            "code": {key: marshal.dumps(value) for key, value in code.items()},
            "regexes": {key: marshal.dumps(value) for key, value in regexes.items()},
            "build": build,
        }
    )


FAULTS = {
    "damaged body": _flip_last_byte,
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "another interpreter's": lambda data: data[:8] + b"\x00\x00\r\n" + data[12:],
    "not a table": lambda data: b"#!/bin/sh\n" + data,
    "checksum right, body not marshal": lambda data: _with_body(b"\xff not marshal"),
    "checksum right, other values": lambda data: _with_body(
        marshal.dumps({"code": {("exec", "def f(): pass"): 1}, "regexes": {}, "build": compiled_code.regex_build()})
    ),
    "checksum right, entries not marshalled": lambda data: _with_body(
        marshal.dumps(
            {
                "code": {("exec", "pass"): compile("pass", "<string>", "exec")},
                "regexes": {},
                "build": compiled_code.regex_build(),
            }
        )
    ),
    "checksum right, not a dict": lambda data: _with_body(marshal.dumps([1, 2])),
    "checksum right, other keys": lambda data: _with_body(marshal.dumps({"code": {}})),
    "an older table": lambda data: _with_body(marshal.dumps({"methods": {}, "regexes": {}, "build": 0})),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_broken_table_is_an_empty_one_and_is_written_anew(
    fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    _valid_table(path, monkeypatch)
    path.write_bytes(FAULTS[fault](path.read_bytes()))
    assert read_table(str(path)) == ({}, {})
    code = CompiledCode(str(path))
    define(code, monkeypatch)
    assert code.loaded["code"] == 0 and code.compiled["code"] > 0
    assert code.save()
    assert len(read_table(str(path))[0]) == code.compiled["code"]  # healed: a whole table again


BAD_ENTRIES = {
    "not marshal": b"\xff\xfe not marshal",
    "not a code object": marshal.dumps(42),
    "regex arguments of the wrong shape": marshal.dumps((0, [1, 2], "one", {}, ())),
    "a regex group name that is not a string": marshal.dumps((32, [], 0, {1: 1}, (None,))),
}


@pytest.mark.parametrize("bad", sorted(BAD_ENTRIES))
def test_an_entry_that_is_not_what_it_should_be_is_compiled_as_usual_and_replaced(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are checked when a run uses them, not when the table is read: a bad one is a
    miss (compiled as usual), and the table the run writes holds the good entry instead."""
    path = tmp_path / "table.bin"
    pattern = r"(?P<word>\w+)-\d+"
    with monkeypatch.context() as patch:
        first = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        define(first, monkeypatch)
        first.compile_regex(pattern, 0)
        assert first.save()
    methods, regexes = read_table(str(path))
    stored = compiled_code.read_stored(str(path))
    victim = next(key for key in methods if key[0] == "exec")
    stored.code[victim] = BAD_ENTRIES[bad]
    stored.regexes[(pattern, 0)] = BAD_ENTRIES[bad]
    body = marshal.dumps({"code": stored.code, "regexes": stored.regexes, "build": compiled_code.regex_build()})
    path.write_bytes(_with_body(body))
    assert victim not in read_table(str(path))[0] and (pattern, 0) not in read_table(str(path))[1]

    with monkeypatch.context() as patch:
        second = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        again = define(second, monkeypatch)
        compiled = second.compile_regex(pattern, 0)
        assert second.loaded == {"code": len(methods), "regexes": 1}  # the file was read
        assert second.compiled == {"code": 1, "regexes": 1}  # only the bad entries were compiled
        assert second.save()
    assert compiled == regex_compiler().compile(pattern, 0) and compiled.fullmatch("ab-12")
    point = again["Point"](1, tags=("a",))  # type: ignore[operator]
    assert repr(point) == "Point(x=1, y=0, tags=('a',))" and point == again["Point"](1, 0, ("a",))  # type: ignore[operator]
    assert read_table(str(path)) == (methods, regexes)  # healed: the good entries are back


def test_reading_a_table_checks_no_entry_the_run_does_not_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run uses a part of the table (a no-op its ~40 patterns of ~160): reading the file makes
    none of its entries into objects, and using one entry checks that one only."""
    path = tmp_path / "table.bin"
    with monkeypatch.context() as patch:
        first = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        for pattern, flags in PATTERNS:
            first.compile_regex(pattern, flags)
        assert first.save()
    checked: list[object] = []
    real = compiled_code._regex_args
    monkeypatch.setattr(compiled_code, "_regex_args", lambda args, **kw: checked.append(args) or real(args, **kw))
    with monkeypatch.context() as patch:
        second = install_on_compiler(lambda original: CompiledCode(str(path), original), patch)
        second.compile_regex(*PATTERNS[0])
    assert second.loaded["regexes"] == len(PATTERNS) and second.compiled["regexes"] == 0
    assert len(checked) == 1


def test_a_directory_in_place_of_the_table_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    path.mkdir()
    code = CompiledCode(str(path))
    define(code, monkeypatch)
    assert code.loaded["code"] == 0 and code.compiled["code"] > 0
    assert not code.save()  # cannot be written there: the run goes on, nothing left behind
    assert path.is_dir() and os.listdir(tmp_path) == ["table.bin"]


# -- Python's rules for bytecode ---------------------------------------------------------------------


def test_nothing_is_written_when_python_may_not_write_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.bin"
    code = CompiledCode(str(path))
    define(code, monkeypatch)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert not code.save() and not path.exists()


def test_the_table_goes_where_python_puts_bytecode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", None)
    path = table_path("/opt/site/satchel")
    tag = sys.implementation.cache_tag
    assert path.startswith("/opt/site/satchel/__pycache__/compiled-code-")
    assert path.endswith(f".{tag}.bin") or path.endswith(f".{tag}.opt-{sys.flags.optimize}.bin")
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    assert table_path("/opt/site/satchel").startswith(f"{tmp_path}/opt/site/satchel/compiled-code-")


def test_the_program_keeps_a_table_and_main_called_by_others_does_not(tmp_path: Path) -> None:
    """`python -m satchel` writes the table where PYTHONPYCACHEPREFIX says, and a second run
    compiles nothing (the table is not written again); main() leaves dataclasses alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SATCHEL_"))}
    env.update(PYTHONPYCACHEPREFIX=str(tmp_path / "prefix"), SATCHEL_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "satchel", "list", "--python", sys.executable]
    subprocess.run(command, env=env, check=True, capture_output=True)
    tables = list((tmp_path / "prefix").rglob("compiled-code-*.bin"))
    methods, regexes = read_table(str(tables[0]))
    assert len(tables) == 1 and len(methods) > 20 and len(regexes) > 10
    written = tables[0].stat().st_mtime_ns
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert tables[0].stat().st_mtime_ns == written

    probe = (
        "import dataclasses, re; from satchel.cli.main import main; "
        "main(['list', '--python', sys.executable]); "
        "print('exec' in vars(dataclasses), type(re._compiler._sre).__name__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; " + probe], env=env, check=True, capture_output=True, text=True
    )
    assert proc.stdout.strip().endswith("False module")
