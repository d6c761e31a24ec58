"""Modules the satchel program imports only when something uses them (satchel.cli.deferred)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from satchel.cli import deferred


def run_python(code: str, *, path: Path | None = None, cache: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SATCHEL_"))}
    if cache is not None:
        env["SATCHEL_CACHE_DIR"] = str(cache)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), *sys.path])
    else:
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def test_a_deferred_module_runs_when_first_used_and_is_then_the_real_one() -> None:
    out = run_python(
        """
        import sys
        from satchel.cli.deferred import defer
        defer("inspect")
        import inspect
        before = "dis" in sys.modules or "ast" in sys.modules
        stand_in = inspect
        def f(a, b=2): pass
        sig = str(inspect.signature(f))
        real = sys.modules["inspect"]
        print(before, sig, real is not stand_in, type(real).__name__,
              stand_in.signature is real.signature, "dis" in sys.modules)
        try:
            stand_in.no_such_name
        except AttributeError:
            print("AttributeError")
        """
    )
    assert out.splitlines() == ["False (a, b=2) True module True True", "AttributeError"]


def test_threads_asking_at_once_all_get_the_whole_module(tmp_path: Path) -> None:
    """The real module runs once, under a lock: a thread asking while it runs waits for it and
    never sees a module half run (a module that takes 0.2 s, eight threads at a barrier)."""
    (tmp_path / "slow_module.py").write_text(
        "import time\nFIRST = 1\ntime.sleep(0.2)\nLAST = 2\nRUNS = []\nRUNS.append(1)\n"
    )
    out = run_python(
        """
        import threading
        from satchel.cli.deferred import defer
        defer("slow_module")
        import slow_module
        barrier = threading.Barrier(8)
        seen, errors = [], []
        def ask():
            barrier.wait()
            try:
                seen.append((slow_module.FIRST, slow_module.LAST))
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        import sys
        print(sorted(set(seen)), errors, len(sys.modules["slow_module"].RUNS))
        """,
        path=tmp_path,
    )
    assert out == "[(1, 2)] [] 1"


def test_a_module_that_fails_to_import_fails_each_time_it_is_used(tmp_path: Path) -> None:
    (tmp_path / "broken_module.py").write_text("raise RuntimeError('broken')\n")
    out = run_python(
        """
        from satchel.cli.deferred import defer
        defer("broken_module")
        import broken_module
        for _ in range(2):
            try:
                broken_module.anything
            except RuntimeError as exc:
                print(exc)
        """,
        path=tmp_path,
    )
    assert out.splitlines() == ["broken", "broken"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 dataclasses uses inspect for every class")
def test_the_program_does_not_import_inspect_for_its_records(tmp_path: Path) -> None:
    """`satchel list` (records defined, cache records decoded, the table of compiled code read,
    logging set up) never asks inspect or traceback for anything, so neither is run, nor ast
    (the interpreter's facts are in the cache: no probe answer to read), dis and tokenize;
    main() called by other programs leaves them alone."""
    code = """
        import sys, atexit
        sys.argv = ["satchel", "list", "--python", sys.executable]
        def report():
            kinds = [type(sys.modules.get(name)).__name__ for name in ("inspect", "traceback")]
            real = [m for m in ("ast", "dis", "tokenize", "subprocess", "ipaddress")
                    if type(sys.modules.get(m)).__name__ == "module"]
            print(*kinds, sorted(real))
        atexit.register(report)
        from satchel.cli.main import {entry}
        {call}
    """
    cache = tmp_path / "cache"
    run_python(code.format(entry="run", call="run()"), cache=cache)  # (probes the interpreter)
    program = run_python(code.format(entry="run", call="run()"), cache=cache)
    other = run_python(code.format(entry="main", call="main(sys.argv[1:])"), cache=cache)
    assert program.splitlines()[-1] == "Deferred Deferred []"
    kinds, _, real = other.splitlines()[-1].partition(" [")
    assert kinds == "module module"
    # (ipaddress too where urllib.parse imports it: from 3.11.4)
    assert {"'ast'", "'dis'", "'subprocess'", "'tokenize'"} <= set(real.rstrip("]").split(", ")), real


def test_inspect_is_deferred_exactly_where_dataclasses_leaves_it_alone() -> None:
    """The premise, on this Python: a documented record class defined with inspect deferred
    leaves inspect unrun before 3.12 (DEFERRED holds it), and runs it from 3.12 on (DEFERRED is
    empty: nothing to save)."""
    out = run_python(
        """
        import sys
        from satchel.cli.deferred import defer
        defer("inspect")
        import dataclasses
        @dataclasses.dataclass(frozen=True)
        class Record:
            \"\"\"Documented.\"\"\"
            name: str
            size: int = 0
        print(type(sys.modules["inspect"]).__name__)
        """
    )
    assert out == ("Deferred" if "inspect" in deferred.DEFERRED else "module")


# -- the stand-in's inspect.signature, for the record classes dataclasses documents ------------

_TYPES = ("int", "str", "bytes", "float", "bool", "None", "object", "list[int]", "dict[str, int]",
          "tuple[int, ...]", "Optional[int]", "Any", "Path", "Forward", "int | None", "type",
          "'quoted'", "frozenset", "Callable[[int], str]", "ClassVar[int]", "InitVar[int]")
_DEFAULTS = ("0", "-1", "10**20", "1.5", "float('nan')", "None", "True", "''", "'it''s'",
             "'é\\\\n\\\\x00'", "b'\\\\xff'", "(1, 'a')", "frozenset()", "Path('/x')", "str",
             "field(default_factory=list)", "field(default=3)", "field(init=False, default=0)",
             "field(kw_only=True)", "field(kw_only=True, default='k')", "field(repr=False)")


def _random_record(rng: random.Random, index: int) -> str:
    lines = []
    if rng.random() < 0.5:
        lines.append("from __future__ import annotations")
    lines += [
        "import dataclasses",
        "from dataclasses import InitVar, KW_ONLY, field",
        "from pathlib import Path",
        "from typing import Any, Callable, ClassVar, Optional",
        "class Forward: pass",
    ]
    options = rng.choice(["", "frozen=True", "kw_only=True", "order=True, frozen=True", "init=False",
                          "slots=True", "eq=False"])
    lines += [f"@dataclasses.dataclass({options})", f"class Record{index}:"]
    if rng.random() < 0.1:
        lines.append("    def __init__(self, *args, **kwargs): pass")
    names = rng.sample(["a", "b", "name", "size", "_private", "métier", "self_", "value", "x"],
                       rng.randint(0, 6))
    for i, name in enumerate(names):
        if rng.random() < 0.1 and i:
            lines.append("    _: KW_ONLY")
        line = f"    {name}: {rng.choice(_TYPES)}"
        if rng.random() < 0.5:
            line += " = " + rng.choice(_DEFAULTS)
        lines.append(line)
    lines.append("    pass")
    return "\n".join(lines) + "\n"


def test_the_record_signature_is_inspects_text() -> None:
    """Differential: for 1,500 generated record classes (string and evaluated annotations,
    builtin and other types, defaults of many kinds, factories, keyword-only fields, InitVar and
    ClassVar, hand-written ``__init__``), the stand-in's text is ``str(inspect.signature(cls))``
    wherever it gives one, and it gives one for most of them."""
    import inspect

    rng = random.Random(20261207)
    answered = compared = 0
    for index in range(1500):
        source = _random_record(rng, index)
        module = types.ModuleType(f"generated_{index}")
        sys.modules[module.__name__] = module  # (dataclasses looks string annotations up there)
        try:
            exec(compile(source, f"<record {index}>", "exec"), module.__dict__)
        except (TypeError, ValueError):
            continue  # (an order dataclasses refuses: a field without default after one with)
        finally:
            del sys.modules[module.__name__]
        cls = getattr(module, f"Record{index}")
        assert isinstance(cls, type)
        compared += 1
        text = deferred.record_signature(cls)
        if text is not None:
            answered += 1
            assert text == str(inspect.signature(cls)), source
    assert compared > 900
    assert answered > compared // 3


def test_the_record_signature_declines_what_inspect_looks_at_first() -> None:
    import functools

    class WithNew:
        def __new__(cls, a: int) -> WithNew:
            return object.__new__(cls)

        def __init__(self, a: int) -> None:
            pass

    class Meta(type):
        pass

    class WithMeta(metaclass=Meta):
        def __init__(self, a: int) -> None:
            pass

    class Wrapped:
        @functools.wraps(lambda b: None)
        def __init__(self, a: int) -> None:
            pass

    class Signed:
        __signature__ = None

        def __init__(self, a: int) -> None:
            pass

    class PositionalOnly:
        def __init__(self, a: int, /) -> None:
            pass

    class Plain:
        def __init__(self, a: int, b: str = "x", *, c: None = None) -> None:
            pass

    for cls in (WithNew, WithMeta, Wrapped, Signed, PositionalOnly):
        assert deferred.record_signature(cls) is None, cls
    assert deferred.record_signature(Plain) == "(a: 'int', b: 'str' = 'x', *, c: 'None' = None) -> 'None'"


_DEFINE_RECORDS = """
    import sys
    from satchel.cli.deferred import DEFERRED, defer
    if {defer}:
        defer(*DEFERRED)
    import dataclasses, typing
    def kinds():
        return " ".join(type(sys.modules.get(m)).__name__ for m in ("inspect", "ast"))
    @dataclasses.dataclass(frozen=True)
    class Plain:
        name: str
        size: int = 0
    import packaging.requirements
    packaging.requirements.Requirement({requirement!r})
    from packaging._tokenizer import Token
    before = kinds()
    @dataclasses.dataclass
    class Other:
        items: typing.Optional[int] = None
    print(before, "|", kinds(), "|", Plain.__doc__, "|", Token.__doc__, "|", Other.__doc__)
"""


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from 3.12 dataclasses uses inspect for every class")
@pytest.mark.parametrize(
    ("requirement", "ast_kind"), [("trio>=0.2", "Deferred"), ('cffi; os_name == "nt"', "module")]
)
def test_records_without_docstrings_leave_inspect_unrun_and_get_its_docstring(
    requirement: str, ast_kind: str
) -> None:
    """packaging's undocumented ``Token``, defined when a requirement is parsed, and a plain
    record are documented by the stand-in without running inspect (ast runs only for a quoted
    marker string); a record it declines (an evaluated ``typing`` annotation) runs it. Every
    docstring is the one the real inspect writes (the same code without stand-ins)."""
    deferred_out = run_python(_DEFINE_RECORDS.format(defer=True, requirement=requirement))
    plain_out = run_python(_DEFINE_RECORDS.format(defer=False, requirement=requirement))
    kinds_before, kinds_after, *docs = deferred_out.split(" | ")
    assert kinds_before == f"Deferred {ast_kind}"
    assert kinds_after == "module module"
    assert docs == plain_out.split(" | ")[2:]
    assert docs[1].startswith("Token(name: ")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="inspect is not deferred from 3.12")
def test_any_other_caller_of_the_stand_ins_signature_gets_the_real_one() -> None:
    out = run_python(
        """
        import sys
        from satchel.cli.deferred import defer
        defer("inspect")
        import inspect
        class Plain:
            def __init__(self, a: int) -> None: pass
        sig = inspect.signature(Plain)
        print(type(sig).__name__, list(sig.parameters), type(sys.modules["inspect"]).__name__)
        """
    )
    assert out == "Signature ['a'] module"


def test_threads_using_inspect_and_ast_at_once_all_succeed() -> None:
    """inspect asks the deferred ast for a class while it is imported (under the lock, on its
    thread); threads asking ast meanwhile wait for it rather than deadlock or see half a module."""
    out = run_python(
        """
        import threading
        from satchel.cli.deferred import defer
        defer("inspect", "ast")
        import inspect, ast
        barrier = threading.Barrier(8)
        seen, errors = [], []
        def f(a, b=2): pass
        def use(i):
            barrier.wait()
            try:
                if i % 2:
                    seen.append(str(inspect.signature(f)))
                else:
                    seen.append(type(ast.parse("x = 1")).__name__)
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join(timeout=30)
        print(sorted(set(seen)), errors, any(t.is_alive() for t in threads))
        """
    )
    assert out == "['(a, b=2)', 'Module'] [] False"
