"""Modules the satchel program imports only when something uses them (satchel.cli.deferred)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
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
            print(*kinds, sorted(m for m in ("ast", "dis", "tokenize") if m in sys.modules))
        atexit.register(report)
        from satchel.cli.main import {entry}
        {call}
    """
    cache = tmp_path / "cache"
    run_python(code.format(entry="run", call="run()"), cache=cache)  # (probes the interpreter)
    program = run_python(code.format(entry="run", call="run()"), cache=cache)
    other = run_python(code.format(entry="main", call="main(sys.argv[1:])"), cache=cache)
    assert program.splitlines()[-1] == "Deferred Deferred []"
    assert other.splitlines()[-1] == "module module ['ast', 'dis', 'tokenize']"


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
