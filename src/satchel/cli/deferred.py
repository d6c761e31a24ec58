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
is held only while the real module is imported; neither of them, nor what they import, asks a
deferred module for anything while it is imported, so it waits on no one holding the lock.) From
Python 3.12 on, :mod:`dataclasses` reads every record's annotations with :mod:`inspect`, so
there is nothing to save and :data:`DEFERRED` leaves it out.

For the program only (``satchel.cli.main.run``), like :mod:`satchel.cli.compiled_code`: other
programs calling ``main`` keep their modules as they are.
"""

from __future__ import annotations

import sys
import threading
import types

#: Deferred by the program: :mod:`traceback`, which :mod:`logging` imports for printing an
#: exception (with :mod:`linecache`, :mod:`tokenize` and :mod:`textwrap`, ~2 ms); and where the
#: Python version gains from it, :mod:`inspect`.
DEFERRED = ("traceback", "inspect") if sys.version_info < (3, 12) else ("traceback",)

_lock = threading.RLock()


class Deferred(types.ModuleType):
    """Stands in for a module until an attribute of it is first asked for."""

    def __getattr__(self, attr: str) -> object:
        # (only called for what the stand-in does not hold yet)
        with _lock:
            if sys.modules.get(self.__name__) is self:
                import importlib

                del sys.modules[self.__name__]
                try:
                    real = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules.setdefault(self.__name__, self)
                    raise
                # one step, once the real module has run whole
                self.__dict__.update(real.__dict__)
        return object.__getattribute__(self, attr)


def defer(*names: str) -> None:
    """Stand-ins for the modules ``names`` that are not imported yet."""
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = Deferred(name)
