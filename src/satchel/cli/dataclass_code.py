"""The compiled methods of dataclasses, kept between runs of the ``satchel`` program.

:mod:`dataclasses` writes a record's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and,
for a frozen one, ``__setattr__`` and ``__delattr__`` as source text, and compiles each text with
``exec`` when the class is defined. On this machine a compile takes ~90 us and a frozen record
~0.75 ms; a warm install defines 45 of them, 30-40 ms of its run, the same every time. Python
keeps the compiled code of modules in ``__pycache__``; this keeps the compiled code of those texts
beside it, in :func:`table_path`.

:func:`install` (``satchel.cli.main``, for the program only: not for other programs that call
``main``) routes the one ``exec`` of the dataclasses module through :meth:`DataclassCode.exec`,
which looks the text up in the table and compiles only a text it does not hold. When the program
ends, the table is written back if anything was compiled.

Why this is exactly what :mod:`dataclasses` does without it:

- A code object is a function of its text, its file name, the compiler flags and the
  optimisation level. The table is keyed by the whole text; a text missing from it is compiled
  as ``exec`` compiles it from dataclasses' frame (file ``<string>``, no inherited ``__future__``
  flags: ``dont_inherit``); the optimisation level and the interpreter (cache tag, and the magic
  number of its bytecode in the header) are in the table's name.
  ``tests/unit/test_dataclass_code.py`` compares every method of every satchel record built
  from the table with the one dataclasses builds itself.
- The table is replaced whole (a temporary file renamed over it), and read only when its
  header and the CRC-32 of its body are right (a check against damage, like the one Python's
  bytecode files do without: the directory is as trusted as the bytecode beside it; sha256
  took ~1 ms a run, CRC-32 0.1), and when it holds nothing but texts and code.
  Anything else -- missing, unreadable, damaged, another interpreter's -- is an empty table: the
  texts are compiled as they would be, and the table is written anew.
- Writing follows Python's own rules for bytecode: nothing is written when
  ``sys.dont_write_bytecode`` is set (``PYTHONDONTWRITEBYTECODE``, ``-B``), the table goes where
  ``sys.pycache_prefix`` puts ``__pycache__`` (``PYTHONPYCACHEPREFIX``), and a directory that
  cannot be written is no error. The file name holds satchel's version: an upgrade starts a new
  table rather than carrying the old one's texts along.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading

from satchel import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType
    from typing import Any

#: Identifies a table file (then the bytecode's magic number, then the body's CRC-32).
MAGIC = b"SATCHDC\x01"
_DIGEST_SIZE = 4


def table_path(package_dir: str) -> str:
    """Where the table of the satchel installed in ``package_dir`` goes: beside that package's
    bytecode, named for satchel's version, the interpreter and the optimisation level."""
    from importlib.util import cache_from_source

    # (a name no module can have, so that no bytecode of a real module is ever this file)
    pyc = cache_from_source(os.path.join(package_dir, f"dataclass-methods-{__version__}.py"))
    return pyc[: -len(".pyc")] + ".bin"


class DataclassCode:
    """The table of compiled dataclass methods stored at ``path``, read on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._table: dict[str, CodeType] | None = None
        self._lock = threading.Lock()
        self.loaded = 0  # texts found in the file
        self.compiled = 0  # texts compiled by this process (written back by save())

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """``exec(source, globals, locals)``, with ``source`` compiled once for all runs."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)
            return
        table = self._table if self._table is not None else self._load()
        code = table.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            with self._lock:
                table[source] = code
                self.compiled += 1
        builtins.exec(code, globals, locals)

    def _load(self) -> dict[str, CodeType]:
        with self._lock:
            if self._table is None:
                self._table = read_table(self.path)
                self.loaded = len(self._table)
            return self._table

    def save(self) -> bool:
        """Write the table back when this process compiled anything (and Python may write
        bytecode). Returns whether it was written; a failure to write is no error."""
        import marshal

        with self._lock:
            if not self.compiled or self._table is None or sys.dont_write_bytecode:
                return False
            body = marshal.dumps(self._table)
        directory = os.path.dirname(self.path)
        tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            os.makedirs(directory, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(_header() + _digest(body) + body)
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        return True


def read_table(path: str) -> dict[str, CodeType]:
    """The table in ``path``; empty when there is none, or it is not exactly a table this
    interpreter wrote."""
    import marshal
    from types import CodeType

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return {}
    header = _header()
    start = len(header) + _DIGEST_SIZE
    if data[: len(header)] != header or _digest(data[start:]) != data[len(header) : start]:
        return {}
    try:
        table = marshal.loads(data[start:])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict) or not all(
        type(text) is str and type(code) is CodeType for text, code in table.items()
    ):
        return {}
    return table


def install(path: str | None = None) -> DataclassCode:
    """Route the dataclasses module's ``exec`` through a table at ``path`` (default: beside
    satchel's bytecode), written back when the program exits."""
    import atexit
    import dataclasses

    if path is None:
        path = table_path(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = DataclassCode(path)
    dataclasses.exec = code.exec  # type: ignore[attr-defined]  # (shadows the built-in there only)
    atexit.register(code.save)
    return code


def _header() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC + MAGIC_NUMBER


def _digest(data: bytes) -> bytes:
    import zlib

    return zlib.crc32(data).to_bytes(_DIGEST_SIZE, "big")
