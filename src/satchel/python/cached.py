"""Probing an interpreter once: probe facts cached per executable path and file identity.

The key is a digest of the executable's absolute path as given (not resolved: a venv's
``bin/python`` and its base interpreter are different targets). A record is used only while the
*identity* it was taken for still holds: the resolved real executable's path, size and mtime, plus
the sha256 of the environment's ``pyvenv.cfg``. An upgraded or replaced interpreter, or a venv
whose configuration changed (another base interpreter, ``include-system-site-packages``
toggled), is probed again; a corrupt record is a miss (the cache reports it and returns None).

A venv deleted and made again at the same path from the same base interpreter with the same
options has the same ``pyvenv.cfg`` and the same real executable, and everything the probe
reports follows from those (the prefix from the path, the scheme and layout from the base and the
configuration): its record still holds, so a CI job that recreates its venv on every run does not
pay for a probe (one subprocess, ~20-30 ms) each time. ``tests/unit/test_python_cached.py``
checks the kept facts against a fresh probe of the recreated venv.

The record holds the raw probe facts; the ``Interpreter`` (with its wheel tags) is derived from
them on every load, so a change in satchel's tag logic never needs a cache bump.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import record
from satchel.cache.buckets import INTERPRETERS
from satchel.cache.record import Record
from satchel.cache.store import Cache, safe_key
from satchel.errors import InterpreterError
from satchel.python import probe
from satchel.python.facts import ProbeFacts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from satchel.python.interpreter import Interpreter


@dataclass(frozen=True)
class Identity:
    """What must be unchanged for a cached probe of an executable to still be true."""

    real_executable: str
    size: int
    mtime_ns: int
    pyvenv_cfg_sha256: str | None


@dataclass(frozen=True)
class InterpreterRecord(Record, record_type="interpreter", bucket=INTERPRETERS):
    """A probed interpreter's facts, with the identity of the files they were read from."""
    executable: str  # absolute, as given (the key is its digest)
    identity: Identity
    facts: ProbeFacts


def cache_key(executable: Path | str) -> str:
    return safe_key(os.path.abspath(executable))


def identity_of(executable: Path | str) -> Identity:
    """The identity of ``executable`` now. Raises InterpreterError if it does not exist."""
    exe = os.path.abspath(executable)
    real = os.path.realpath(exe)
    try:
        st = os.stat(real)
    except OSError as exc:
        raise InterpreterError(f"cannot use {exe}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InterpreterError(f"cannot use {exe}: not a file")
    return Identity(real, st.st_size, st.st_mtime_ns, _pyvenv_cfg_sha256(exe))


def get_facts(
    executable: Path, cache: Cache | None, *, meanwhile: Callable[[], object] | None = None
) -> ProbeFacts:
    """The probe facts of ``executable``: from the cache when its identity still matches (no
    subprocess), else probed (one subprocess) and stored. ``cache=None`` always probes.
    ``meanwhile``: called while a probe runs (only when there is one)."""
    exe = os.path.abspath(executable)
    identity = identity_of(exe)
    if cache is None:
        return probe.probe_facts(Path(exe), meanwhile=meanwhile)
    # A script wrapper (a pyenv shim, say) can start another Python without changing itself.
    cacheable = not _is_script(identity.real_executable)
    key = cache_key(exe)
    if cacheable:
        rec = cache.read(InterpreterRecord, key)
        if rec is not None and rec.executable == exe and rec.identity == identity:
            return rec.facts
    facts = probe.probe_facts(Path(exe), meanwhile=meanwhile)
    if cacheable:
        cache.write(key, InterpreterRecord(exe, identity, facts))
    return facts


def get_interpreter(executable: Path, cache: Cache | None) -> Interpreter:
    """The target ``Interpreter`` for ``executable``, probing it only if the cache cannot say."""
    return probe.to_interpreter(executable, get_facts(executable, cache))


def _pyvenv_cfg_sha256(exe: str) -> str | None:
    """The digest of the ``pyvenv.cfg`` the interpreter reads (next to it, or one directory up),
    None when there is none. (A few hundred bytes: ``record.sha256`` hashes it without loading
    OpenSSL, which the no-op install does not otherwise need.)"""
    bin_dir = os.path.dirname(exe)
    for cfg in (
        os.path.join(bin_dir, "pyvenv.cfg"),
        os.path.join(os.path.dirname(bin_dir), "pyvenv.cfg"),
    ):
        try:
            with open(cfg, "rb") as fh:
                return record.sha256(fh.read()).hex()
        except OSError:
            continue
    return None


def _is_script(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False
