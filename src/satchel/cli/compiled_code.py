"""What the ``satchel`` program compiles while it starts, kept between runs: the methods of
dataclasses, the annotations :mod:`typing` evaluates, and the programs of regular expressions.

They are compiled again by every Python process that needs them, and they cost a warm install
as much as the work it came for:

- :mod:`dataclasses` writes a record's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and,
  for a frozen one, ``__setattr__`` and ``__delattr__`` as source text and compiles each with
  ``exec`` when the class is defined: ~90 us a compile here, ~0.75 ms a frozen record, 30-40 ms
  for the 45 records a warm install defines.
- :mod:`re` parses a pattern and compiles it to the matcher's code in Python: ~15 ms for the 103
  patterns of a warm install (packaging's tokenizer and specifiers, :mod:`platform`,
  :mod:`configparser`, satchel's own), ~5 ms for a no-op one.
- :func:`typing.get_type_hints` compiles every annotation written as a string (all of satchel's:
  ``from __future__ import annotations``) when the cache decodes a record type the first time:
  181 compiles, ~3 ms, in a warm install.

Python keeps the compiled code of modules in ``__pycache__``; this keeps those results beside it,
in one table (:func:`table_path`). :func:`install` (``satchel.cli.main``, for the program only:
not for other programs that call ``main``) routes the dataclasses module's one ``exec`` through
:meth:`CompiledCode.exec`, the typing module's one ``compile`` through
:meth:`CompiledCode.compile`, and the regular expression compiler's ``compile`` through
:meth:`CompiledCode.compile_regex`; each looks its input up in the table and does the work only
for what the table does not hold. When the program ends, the table is written back if anything
was compiled.

Why the results are exactly those of the work they replace:

- A code object is a function of its text, its mode, its file name, the compiler flags and the
  optimisation level. The code table is keyed by the mode and the whole text (the file name is
  always ``<string>``); a text missing from it is compiled as ``exec`` compiles it from
  dataclasses' frame and ``compile`` from typing's (no inherited ``__future__`` flags:
  ``dont_inherit``); the optimisation level and the interpreter (cache tag, and the magic number
  of its bytecode in the header) are in the table's name.
- A compiled pattern is ``_sre.compile(pattern, flags, code, groups, groupindex, indexgroup)``,
  whose arguments the compiler derives from the pattern and the flags given to ``re.compile``.
  The regular expression table is keyed by that pattern and those flags and holds the arguments
  the compiler passed; it is used only by the very interpreter build that wrote it (its
  version string, the matcher's magic number and code size), and ``_sre.compile`` checks the
  code it is given. A pattern it refuses is compiled as usual.
- ``tests/unit/test_compiled_code.py`` compares every method of every satchel record, every
  annotation of them, and every pattern a satchel run compiles, made from the table with the
  ones made without it.
- The table is replaced whole (a temporary file renamed over it), and read only when its
  header and the CRC-32 of its body are right (a check against damage, like the one Python's
  bytecode files do without: the directory is as trusted as the bytecode beside it; sha256
  took ~1 ms a run, CRC-32 0.1), and when it is laid out as it should be (two dicts of
  marshalled entries). Anything else -- missing, unreadable, damaged, another interpreter's --
  is an empty table: everything is compiled as it would be, and the table is written anew.
- Each entry is kept marshalled on its own and made into an object, and checked, only when a
  run uses it: a no-op uses ~40 of ~160 patterns and a part of the methods, and checking every
  entry when the file was read cost 3-4 ms a run, more than reading it. An entry that is not
  what it should be (not a code object; not ``_sre.compile``'s arguments, or refused by it) is
  a miss: compiled as usual, and replaced in the table the run writes.
- Writing follows Python's own rules for bytecode: nothing is written when
  ``sys.dont_write_bytecode`` is set (``PYTHONDONTWRITEBYTECODE``, ``-B``), the table goes where
  ``sys.pycache_prefix`` puts ``__pycache__`` (``PYTHONPYCACHEPREFIX``), and a directory that
  cannot be written is no error. The file name holds satchel's version: an upgrade starts a new
  table rather than carrying the old one's entries along.
- A table stays the same size from run to run: a pattern whose text is a stored pattern's
  characters in another order is not kept (the email package joins sets of characters into
  patterns whose order changes with the hash seed), and past :data:`MAX_ENTRIES` a table keeps
  only what the run writing it used.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading

from satchel import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, ModuleType
    from typing import Any

    #: ``_sre.compile``'s arguments after the pattern: flags, code, groups, groupindex, indexgroup.
    RegexArgs = tuple[int, list[int], int, dict[str, int], tuple[Any, ...]]

#: Identifies a table file (then the bytecode's magic number, then the body's CRC-32).
MAGIC = b"SATCHDC\x04"
_DIGEST_SIZE = 4
#: Entries of a table beyond which it keeps only what the run writing it used. Every command
#: together compiles ~600 methods, ~250 annotations and ~200 patterns; this bounds a table
#: against texts new on every run that :meth:`CompiledCode.note_regex` does not recognise.
MAX_ENTRIES = 5000


def table_path(package_dir: str) -> str:
    """Where the table of the satchel installed in ``package_dir`` goes: beside that package's
    bytecode, named for satchel's version, the interpreter and the optimisation level."""
    from importlib.util import cache_from_source

    # (a name no module can have, so that no bytecode of a real module is ever this file)
    pyc = cache_from_source(os.path.join(package_dir, f"compiled-code-{__version__}.py"))
    return pyc[: -len(".pyc")] + ".bin"


def regex_build() -> tuple[str, int, int, int]:
    """What the regular expression table is valid for: this interpreter build and its matcher."""
    import _sre

    return (sys.version, _sre.MAGIC, _sre.CODESIZE, sys.maxunicode)


class CompiledCode:
    """The table stored at ``path``, read on first use. ``compile_regex`` stands for
    ``regex_compile`` (the regular expression compiler's ``compile``)."""

    def __init__(self, path: str, regex_compile: Callable[..., Any] | None = None) -> None:
        self.path = path
        self._regex_compile = regex_compile
        # what the file holds, each entry still marshalled (made into objects when used: most
        # runs use a part of the table, and checking what they use is all that is needed)
        self._stored: Stored | None = None
        self._code: dict[tuple[str, str], CodeType] = {}  # (mode, text): code, used this run
        self._regexes: dict[tuple[str | bytes, int], RegexArgs] = {}  # (pattern, flags): args
        self._new: set[tuple[str, str] | tuple[str | bytes, int]] = set()  # compiled this run
        self._lock = threading.Lock()
        self._compiling = threading.local()  # the (pattern, flags) being compiled on this thread
        self.loaded = {"code": 0, "regexes": 0}  # found in the file
        self.compiled = {"code": 0, "regexes": 0}  # compiled by this process
        self._used_code: set[tuple[str, str]] = set()
        self._used_regexes: set[tuple[str | bytes, int]] = set()
        # the (sorted characters, flags) of the stored patterns, made on the first miss
        self._shapes: dict[tuple[str | bytes, int], tuple[str | bytes, int]] | None = None

    # -- dataclass methods and annotations ----------------------------------------------------

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """``exec(source, globals, locals)``, with ``source`` compiled once for all runs."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)
            return
        builtins.exec(self._compiled(source, "exec"), globals, locals)

    def compile(self, source: Any, filename: Any, mode: Any, *more: Any, **options: Any) -> Any:
        """``compile(source, filename, mode, ...)``, compiled once for all runs where it is the
        plain ``compile(text, "<string>", "eval")`` typing makes of an annotation."""
        if more or options or not isinstance(source, str) or filename != "<string>" or mode != "eval":
            return builtins.compile(source, filename, mode, *more, **options)
        return self._compiled(source, "eval")

    def _compiled(self, source: str, mode: str) -> CodeType:
        key = (mode, source)
        self._used_code.add(key)
        code = self._code.get(key)
        if code is not None:
            return code
        stored = self._stored if self._stored is not None else self._load()
        blob = stored.code.get(key)
        code = code_entry(blob) if blob is not None else None
        if code is None:  # (not in the table, or not a code object there: compiled as usual)
            code = builtins.compile(source, "<string>", mode, dont_inherit=True)
            with self._lock:
                stored.code.pop(key, None)
                self._new.add(key)
                self.compiled["code"] += 1
        with self._lock:
            self._code[key] = code
        return code

    # -- regular expressions -------------------------------------------------------------------

    def compile_regex(self, pattern: Any, flags: int = 0) -> Any:
        """The compiler's ``compile(pattern, flags)``, from the table where it holds the pattern."""
        assert self._regex_compile is not None
        if not isinstance(pattern, (str, bytes)) or flags & 128:  # (re.DEBUG prints as it compiles)
            return self._regex_compile(pattern, flags)
        stored = self._stored if self._stored is not None else self._load()
        key = (pattern, int(flags))
        self._used_regexes.add(key)
        args = self._regexes.get(key)
        if args is None and key in stored.regexes:
            args = regex_entry(stored.regexes[key])
            with self._lock:
                if args is None:
                    del stored.regexes[key]
                else:
                    self._regexes[key] = args
        if args is not None:
            import _sre

            flags_, code, groups, groupindex, indexgroup = args
            try:
                return _sre.compile(pattern, flags_, code, groups, dict(groupindex), indexgroup)
            except Exception:  # (it checks the code: refused, the pattern is compiled as usual)
                with self._lock:
                    self._regexes.pop(key, None)
                    stored.regexes.pop(key, None)
        self._compiling.key = key
        try:
            return self._regex_compile(pattern, flags)
        finally:
            self._compiling.key = None

    def note_regex(
        self, pattern: Any, flags: int, code: list[int], groups: int, groupindex: Any, indexgroup: Any
    ) -> None:
        """Told what the compiler hands ``_sre.compile`` for the pattern being compiled."""
        key = getattr(self._compiling, "key", None)
        if key is None or key[0] is not pattern:
            return
        # (plain ints, lists, dicts and tuples: what marshal writes, and _regex_entry checks)
        args = (int(flags), [int(c) for c in code], int(groups), dict(groupindex), tuple(indexgroup))
        if not _regex_entry(key, args):
            return
        with self._lock:
            # A pattern whose text is another stored one's in another order is not kept: such
            # texts are joined from sets (the email package's), in an order that changes with
            # the hash seed, so every run would add one more and write the table again. It is
            # compiled as usual, every time.
            if self._shapes is None:
                known = set(self._regexes) | set(self._stored.regexes if self._stored else ())
                self._shapes = {_shape(k): k for k in known if _regex_key(k)}
            shape = _shape(key)
            if self._shapes.setdefault(shape, key) != key:
                return
            self._regexes[key] = args
            self._new.add(key)
            self.compiled["regexes"] += 1

    # -- the file ------------------------------------------------------------------------------

    def _load(self) -> Stored:
        with self._lock:
            if self._stored is None:
                stored = read_stored(self.path)
                self.loaded = {"code": len(stored.code), "regexes": len(stored.regexes)}
                self._stored = stored
            return self._stored

    def save(self) -> bool:
        """Write the table back when this process compiled anything (and Python may write
        bytecode). Returns whether it was written; a failure to write is no error."""
        import marshal

        with self._lock:
            if not any(self.compiled.values()) or sys.dont_write_bytecode:
                return False
            stored = self._stored or Stored({}, {})
            # what the file held (but a key of the wrong shape), and what this run compiled
            code = {key: blob for key, blob in stored.code.items() if _code_key(key)}
            code.update((key, marshal.dumps(self._code[key])) for key in self._new if key in self._code)
            if len(code) > MAX_ENTRIES:
                code = {key: code[key] for key in self._used_code if key in code}
            regexes = {key: blob for key, blob in stored.regexes.items() if _regex_key(key)}
            regexes.update((key, marshal.dumps(self._regexes[key])) for key in self._new if key in self._regexes)
            if len(regexes) > MAX_ENTRIES:
                regexes = {key: regexes[key] for key in self._used_regexes if key in regexes}
            table = {"code": code, "regexes": regexes, "build": regex_build()}
            try:
                body = marshal.dumps(table)
            except ValueError:  # (something marshal cannot write: then no table, as before)
                return False
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


class Stored:
    """A table as its file holds it: each entry's value still marshalled."""

    __slots__ = ("code", "regexes")

    def __init__(
        self, code: dict[tuple[str, str], bytes], regexes: dict[tuple[str | bytes, int], bytes]
    ) -> None:
        self.code = code
        self.regexes = regexes


def read_stored(path: str) -> Stored:
    """The table in ``path``, its entries still marshalled; empty when there is none, or it is
    not a table this interpreter wrote (the regexes also when another build wrote them). Each
    entry is checked when it is used (:func:`code_entry`, :func:`regex_entry`), not here: a run
    uses a part of the table, and checking every entry cost more than reading the file."""
    import marshal

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return Stored({}, {})
    header = _header()
    start = len(header) + _DIGEST_SIZE
    body_bytes = memoryview(data)[start:]  # (not copied: the body is most of the file)
    if data[: len(header)] != header or _digest(body_bytes) != data[len(header) : start]:
        return Stored({}, {})
    try:
        body = marshal.loads(body_bytes)
    except (EOFError, ValueError, TypeError):
        return Stored({}, {})
    if type(body) is not dict or set(body) != {"code", "regexes", "build"}:
        return Stored({}, {})
    code, regexes = body["code"], body["regexes"]
    if type(code) is not dict or not all(type(value) is bytes for value in code.values()):
        return Stored({}, {})
    if body["build"] != regex_build() or type(regexes) is not dict:
        return Stored(code, {})
    if not all(type(value) is bytes for value in regexes.values()):
        return Stored(code, {})
    return Stored(code, regexes)


def code_entry(blob: bytes) -> CodeType | None:
    """A stored code object; None when the entry is not one."""
    import marshal
    from types import CodeType

    try:
        value = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    return value if type(value) is CodeType else None


def regex_entry(blob: bytes) -> RegexArgs | None:
    """A stored regular expression's arguments for ``_sre.compile``; None when the entry is not
    such arguments (the code's own items ``_sre.compile`` checks as it is given them)."""
    import marshal

    try:
        args = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    return args if _regex_args(args, walk_code=False) else None


def read_table(
    path: str,
) -> tuple[dict[tuple[str, str], CodeType], dict[tuple[str | bytes, int], RegexArgs]]:
    """Every good entry of the table in ``path``, made into objects (code, regexes)."""
    stored = read_stored(path)
    code = {
        key: value
        for key, blob in stored.code.items()
        if _code_key(key) and (value := code_entry(blob)) is not None
    }
    regexes = {
        key: args
        for key, blob in stored.regexes.items()
        if _regex_key(key) and (args := regex_entry(blob)) is not None
    }
    return code, regexes


def _code_key(key: Any) -> bool:
    return type(key) is tuple and len(key) == 2 and key[0] in ("exec", "eval") and type(key[1]) is str


def _regex_key(key: Any) -> bool:
    return type(key) is tuple and len(key) == 2 and type(key[0]) in (str, bytes) and type(key[1]) is int


def _regex_args(args: Any, *, walk_code: bool = True) -> bool:
    return (
        type(args) is tuple
        and len(args) == 5
        and type(args[0]) is int
        and type(args[1]) is list
        and (not walk_code or all(type(c) is int for c in args[1]))
        and type(args[2]) is int
        and type(args[3]) is dict
        and all(type(k) is str and type(v) is int for k, v in args[3].items())
        and type(args[4]) is tuple
        and all(g is None or type(g) is str for g in args[4])
    )


def _regex_entry(key: Any, args: Any) -> bool:
    return _regex_key(key) and _regex_args(args)


def _shape(key: tuple[str | bytes, int]) -> tuple[str | bytes, int]:
    """A pattern's characters in order, and its flags: equal for texts that differ by order."""
    pattern, flags = key
    return ("".join(sorted(pattern)) if isinstance(pattern, str) else bytes(sorted(pattern)), flags)


class _NotingSre:
    """Stands in for ``_sre`` in the regular expression compiler: everything is the real
    module's, and what ``compile`` is given is also told to ``note``."""

    def __init__(self, real: ModuleType, note: Callable[..., None]) -> None:
        self._real = real
        self._note = note

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def compile(
        self, pattern: Any, flags: int, code: list[int], groups: int, groupindex: Any, indexgroup: Any
    ) -> Any:
        self._note(pattern, flags, code, groups, groupindex, indexgroup)
        return self._real.compile(pattern, flags, code, groups, groupindex, indexgroup)


def regex_compiler() -> ModuleType:
    """The module whose ``compile`` :func:`re.compile` calls (``re._compiler``; before Python
    3.11, ``sre_compile``)."""
    import re

    if sys.version_info >= (3, 11):
        return re._compiler  # type: ignore[attr-defined,no-any-return]
    import sre_compile  # (Python 3.10)

    return sre_compile


def install(path: str | None = None) -> CompiledCode:
    """Route the dataclasses module's ``exec``, the typing module's ``compile`` and the regular
    expression compiler through a table at ``path`` (default: beside satchel's bytecode),
    written back when the program exits."""
    import atexit
    import dataclasses
    import typing

    if path is None:
        path = table_path(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    compiler = regex_compiler()
    code = CompiledCode(path, compiler.compile)
    # (each shadows the built-in in that module only)
    dataclasses.exec = code.exec  # type: ignore[attr-defined]
    typing.compile = code.compile  # type: ignore[attr-defined]
    compiler.compile = code.compile_regex  # type: ignore[attr-defined]
    compiler._sre = _NotingSre(compiler._sre, code.note_regex)  # type: ignore[attr-defined]
    atexit.register(code.save)
    return code


def _header() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC + MAGIC_NUMBER


def _digest(data: bytes | memoryview) -> bytes:
    import zlib

    return zlib.crc32(data).to_bytes(_DIGEST_SIZE, "big")
