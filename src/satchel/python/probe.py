"""Introspecting a target Python: run ``probe_script.py`` inside it and decode its answer.

The script runs as ``<python> -E -s -c <script>`` (``run.run_in_target``): no ``-S``, because
``site`` is what makes a venv's ``sys.prefix`` point at the venv on Python < 3.11; no ``-I``
either (Python 2 rejects it, and a too-old interpreter must still answer with its version), so the
script drops the current directory from ``sys.path`` itself.

Its answer is JSON after a marker, decoded into ``facts.ProbeFacts``: raw facts only. Everything
derived (the wheel tags) is computed in satchel's own process from those facts (``to_interpreter``),
so a cached probe never goes stale when satchel's tag logic changes.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from satchel.cache import schema
from satchel.errors import InterpreterError
from satchel.python.facts import ProbeFacts

# ``Interpreter`` and the tag computation are imported by ``to_interpreter``: reading cached
# probe facts (a no-op install) needs neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from satchel.python.interpreter import Interpreter

PROBE_TIMEOUT = 30.0
MIN_VERSION = (3, 8)
MARKER = "@@satchel-probe@@"  # probe_script.MARKER
SCRIPT_PATH = Path(__file__).with_name("probe_script.py")


@functools.cache
def probe_script() -> str:
    """The text of ``probe_script.py``, run in the target with ``-c``."""
    return SCRIPT_PATH.read_text(encoding="utf-8")


def probe_facts(
    executable: Path,
    *,
    timeout: float = PROBE_TIMEOUT,
    meanwhile: Callable[[], object] | None = None,
) -> ProbeFacts:
    """Run the probe inside ``executable`` and parse its answer. Raises InterpreterError.
    ``meanwhile``: called while the probe runs (``run.run_in_target``)."""
    # (imported here: a cached probe, the no-op install's case, runs nothing)
    from satchel.python.run import TargetError, last_line, run_in_target

    exe = os.path.abspath(executable)
    try:
        out = run_in_target(exe, probe_script(), timeout, meanwhile=meanwhile)
    except TargetError as exc:
        if exc.kind == "start":
            raise
        raise InterpreterError(
            f"cannot introspect {exe}: {exc.reason}",
            hint="check that it is a working Python interpreter" if exc.kind == "exit" else None,
        ) from None
    stdout = out.stdout.decode("utf-8", "replace")
    if MARKER not in stdout:
        raise InterpreterError(
            f"cannot introspect {exe}: {last_line(out.stderr, 0, default='no answer from the probe')}",
            hint="check that it is a working Python interpreter",
        )
    try:
        import json

        data = json.loads(stdout.rsplit(MARKER, 1)[1].strip())
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except (ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise InterpreterError(
            f"cannot introspect {exe}: unreadable probe output ({exc})"
        ) from None
    _check_supported(exe, data)
    try:
        facts: ProbeFacts = schema.decode(ProbeFacts, data)
    except (schema.SchemaError, TypeError, ValueError) as exc:
        raise InterpreterError(
            f"cannot introspect {exe}: unexpected probe output ({exc})"
        ) from None
    return facts


def run_probe(executable: Path, *, timeout: float = PROBE_TIMEOUT) -> Interpreter:
    """Introspect ``executable`` (no cache): one subprocess. Raises InterpreterError."""
    return to_interpreter(executable, probe_facts(executable, timeout=timeout))


def to_interpreter(executable: Path | str, facts: ProbeFacts) -> Interpreter:
    """The Interpreter for ``executable`` (kept absolute, not resolved) from its probe facts."""
    from satchel.python.interpreter import Interpreter
    from satchel.python.tags import compute_tags

    return Interpreter(
        executable=os.path.abspath(executable),
        version=facts.version_info,
        implementation=facts.implementation_name,
        markers=dict(facts.markers),
        tags=compute_tags(facts),
        paths=dict(facts.paths),
        prefix=facts.prefix,
        base_prefix=facts.base_prefix,
        is_venv=facts.is_venv,
        base_executable=facts.base_executable,
        externally_managed=facts.externally_managed,
    )


def _check_supported(exe: str, data: dict[str, object]) -> None:
    version = data.get("version_info")
    if not (
        isinstance(version, list) and len(version) == 3 and all(isinstance(v, int) for v in version)
    ):
        raise InterpreterError(f"cannot introspect {exe}: unexpected probe output (no version)")
    if tuple(version[:2]) < MIN_VERSION:
        found = ".".join(map(str, version))
        raise InterpreterError(
            f"{exe} is Python {found}; satchel supports Python "
            f"{'.'.join(map(str, MIN_VERSION))} and newer",
            hint="pass -p/--python with a newer interpreter",
        )
