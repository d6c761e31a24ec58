"""Modules the ``satchel`` program imports only when something uses them.

:mod:`dataclasses` imports :mod:`inspect` when it is imported, and before Python 3.12 uses it
only to write a docstring for a record class that has none (``inspect.signature``). Every
satchel record has its own (``tests/unit/test_startup.py``), so a command that defines records
and nothing else that needs :mod:`inspect` paid for it for nothing: with :mod:`ast`, :mod:`dis`
and :mod:`tokenize`, which it imports, ~8 ms of a ~55 ms no-op install here. Likewise
:mod:`logging` imports :mod:`traceback` and uses it only to print an exception.

:func:`defer` puts a stand-in for a module in :data:`sys.modules`: ``import inspect`` binds the
stand-in, and the first attribute anyone asks of it imports the real module (once, under a lock:
another thread asking meanwhile waits for it, and never sees a module half run) and gives the
stand-in the real module's attributes; :data:`sys.modules` then holds the real module. (The lock
is held only while a real module is imported. Of what the deferred modules import, only
:mod:`inspect` asks another deferred module, :mod:`ast`, for something while it is imported: on
the same thread, which holds the lock already (it is reentrant). No thread ever holds the import
lock of a deferred module without it: ``import ast`` finds the stand-in in :data:`sys.modules`
and takes no import lock. So it waits on no one holding the lock.) From
Python 3.12 on, :mod:`dataclasses` reads every record's annotations with :mod:`inspect`, so
there is nothing to save and :data:`DEFERRED` leaves it out.

A record class *without* a docstring still runs :mod:`inspect` that way, and packaging defines
one (``packaging._tokenizer.Token``) as soon as a requirement is parsed: the stand-in for
:mod:`inspect` therefore holds a ``signature`` of its own that answers :mod:`dataclasses`, and
no other caller, for the plain record classes it documents (:func:`record_signature`: positional
or keyword-only fields, string or builtin annotations, any defaults). It writes exactly the text
``str(inspect.signature(cls))`` would (``tests/unit/test_cli_deferred.py`` compares the two over
thousands of generated classes); for anything else, or any other caller, it runs the real module
and asks it.

:mod:`ast` (packaging evaluates quoted marker strings with ``ast.literal_eval``: a requirement
without a marker never needs it), :mod:`subprocess` (only probing an interpreter runs one) and
:mod:`ipaddress` (:mod:`urllib.parse` checks bracketed hosts with it; :mod:`pathlib` imports
:mod:`urllib.parse`) are deferred on every version: ~2, ~2.8 and ~1 ms of imports here.

For the program only (``satchel.cli.main.run``), like :mod:`satchel.cli.compiled_code`: other
programs calling ``main`` keep their modules as they are.
"""

from __future__ import annotations

import sys
import threading
import types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: Code flags (:mod:`inspect`'s CO_VARARGS and CO_VARKEYWORDS).
_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08
#: Attributes :mod:`inspect` (3.10, 3.11) asks a class or function for before its parameters.
_LOOKED_AT_FIRST = ("__signature__", "__wrapped__", "_partialmethod")

#: Deferred by the program: :mod:`traceback`, which :mod:`logging` imports for printing an
#: exception (with :mod:`linecache`, :mod:`tokenize` and :mod:`textwrap`, ~2 ms); :mod:`ast`,
#: :mod:`subprocess` and :mod:`ipaddress` (module docstring); and where the Python version gains
#: from it, :mod:`inspect`.
DEFERRED = ("traceback", "ast", "subprocess", "ipaddress") + (
    ("inspect",) if sys.version_info < (3, 12) else ()
)

_lock = threading.RLock()


class Deferred(types.ModuleType):
    """Stands in for a module until an attribute of it is first asked for."""

    def __getattr__(self, attr: str) -> object:
        # (only called for what the stand-in does not hold yet)
        _run_real(self)
        return object.__getattribute__(self, attr)


def _run_real(stand_in: Deferred) -> None:
    """Import the real module for ``stand_in`` (unless that is done) and give the stand-in its
    attributes."""
    with _lock:
        if sys.modules.get(stand_in.__name__) is stand_in:
            import importlib

            del sys.modules[stand_in.__name__]
            try:
                real = importlib.import_module(stand_in.__name__)
            except BaseException:
                sys.modules.setdefault(stand_in.__name__, stand_in)
                raise
            # one step, once the real module has run whole
            stand_in.__dict__.update(real.__dict__)


def defer(*names: str) -> None:
    """Stand-ins for the modules ``names`` that are not imported yet."""
    for name in names:
        if name not in sys.modules:
            stand_in = Deferred(name)
            if name == "inspect":
                stand_in.__dict__["signature"] = _signature_for_dataclasses(stand_in)
            sys.modules[name] = stand_in


def _signature_for_dataclasses(stand_in: Deferred) -> Callable[..., object]:
    """The stand-in's ``inspect.signature`` until the real module runs (and replaces it): the
    text of a plain record class's signature when :mod:`dataclasses` documents one, otherwise
    the real module's answer."""

    def signature(obj: object, *args: object, **kwargs: object) -> object:
        if not args and not kwargs and isinstance(obj, type):
            process = getattr(sys.modules.get("dataclasses"), "_process_class", None)
            caller = sys._getframe(1).f_code
            if caller is getattr(process, "__code__", None):  # (str() is all it does with it)
                text = record_signature(obj)
                if text is not None:
                    return text
        _run_real(stand_in)
        real: Callable[..., object] = object.__getattribute__(stand_in, "signature")
        return real(obj, *args, **kwargs)

    return signature


def record_signature(cls: type) -> str | None:
    """``str(inspect.signature(cls))`` for a class whose own ``__init__`` is a plain function
    (no ``*args``, ``**kwargs`` or positional-only parameters) annotated, if at all, with strings
    (``from __future__ import annotations``), builtin classes or None, and no metaclass,
    ``__new__``, ``__signature__``, ``__wrapped__``, ``_partialmethod`` or (on ``__init__``)
    ``__text_signature__`` that :mod:`inspect` would look at first: what :mod:`dataclasses`
    generates for a record. None for anything else."""
    init = cls.__dict__.get("__init__")
    if (
        type(cls) is not type
        or "__new__" in cls.__dict__
        or type(init) is not types.FunctionType
        or any(hasattr(cls, name) for name in _LOOKED_AT_FIRST)
        or any(hasattr(init, name) for name in (*_LOOKED_AT_FIRST, "__text_signature__"))
    ):
        return None
    code = init.__code__
    if (
        code.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS)
        or code.co_posonlyargcount
        or not code.co_argcount
    ):
        return None
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    defaults = init.__defaults__ or ()
    keyword_defaults = init.__kwdefaults__ or {}
    annotations = init.__annotations__
    first_default = code.co_argcount - len(defaults)
    parts: list[str] = []
    for index, name in enumerate(names):
        if index == 0:
            continue  # (self: the signature of a class leaves it out)
        if index == code.co_argcount:
            parts.append("*")
        text = name
        if name in annotations:
            shown = _annotation_text(annotations[name])
            if shown is None:
                return None
            text += ": " + shown
        if index >= code.co_argcount:
            has_default, default = name in keyword_defaults, keyword_defaults.get(name)
        else:
            has_default = index >= first_default
            default = defaults[index - first_default] if has_default else None
        if has_default:
            text += (" = " if name in annotations else "=") + repr(default)
        parts.append(text)
    result = "(" + ", ".join(parts) + ")"
    if "return" in annotations:
        shown = _annotation_text(annotations["return"])
        if shown is None:
            return None
        result += " -> " + shown
    return result


def _annotation_text(annotation: object) -> str | None:
    """How :mod:`inspect` shows an annotation of these kinds (None for any other kind)."""
    if type(annotation) is str or annotation is None:
        return repr(annotation)
    if type(annotation) is type and annotation.__module__ == "builtins":
        return annotation.__qualname__
    return None
