"""Replays: the last run of exactly the same command, answered again while nothing it read changed.

A command whose outcome is a function of what it reads (``satchel install`` finding nothing to
do, ``satchel compile``) can store that outcome as a replay record (``replays-v1``,
:mod:`satchel.cache.replay_record`): its exit status, what it printed, and every input it read,
each with what it was then. The next run of the same command line, in the same directory, with
the same environment, asks :func:`replay` before it parses its arguments; when every input is
still as it was, the outcome is printed again and the run ends there.

**The key.** :func:`invocation` is the text of everything a run's outcome depends on that is not a
file: satchel's version, the interpreter satchel runs on, the working directory, a digest of the
arguments and one of the whole environment (but for the shell's own ``_``, ``OLDPWD`` and
``SHLVL``; digests, so that no credential they hold is written to the cache), and whether
standard output and error are terminals. A record is stored under a digest of that text and
keeps the text whole: a different text is a miss, never a collision.

**The inputs** are files and directories, each noted as one of:

- ``absent``: ``os.stat`` of the path fails with "no such file or directory";
- ``content``: the sha256 of the file's bytes (small files: requirements, configuration);
- ``stat``: the identity of what the path names (device, inode, size, mtime and ctime in ns),
  noted only when its ctime was at least two seconds old (as :mod:`satchel.cache.journal`
  notes records: a file changed again within the same clock tick could keep its times). Records
  are replaced whole, by rename; directories list what is installed, and any entry added,
  removed or renamed in one moves its times.

The writer notes a file's content before the run reads it (or the digest of the very bytes a
parser read), and checks identities and absences, which may be noted after a read, once more
when the run ends: a run that saw an input change while it ran stores nothing. A replay also holds until an expiry time, when what
it read from an index was fresh only so long.

**What is never replayed**: anything the writer could not describe in these terms (it then
stores nothing; :mod:`satchel.commands.replaying`). Any doubt here (no record, unreadable,
damaged, other text, any input changed, expired, a decoding problem) is a miss, and the command
runs in full, as if there were no replay: replays only ever skip work.

This module is what runs before argument parsing, so it imports only what Python has loaded at
start-up anyway (``os``, ``sys``), the built-in sha256 and the C part of :mod:`json` (a
shortcut around ``json.loads``: ``tests/unit/test_replays.py`` compares the two). The record's
layout is :mod:`satchel.cache.record`'s, checked here without importing it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

#: The bucket's directory (``satchel.cache.buckets.REPLAYS.dirname``; a test holds them equal).
DIRNAME = "replays-v1"
RECORD_TYPE = "replay"
FORMAT = 1
#: ``satchel.cache.record``'s header: magic, type, format, payload length, payload sha256.
_MAGIC = b"SATCHEL\x01"
_HEADER_SIZE = 76
#: Set by the shell for its own bookkeeping; they change nothing a command does.
SHELL_VARIABLES = frozenset({"_", "OLDPWD", "SHLVL"})
#: How old a noted file's ctime must be (``satchel.cache.journal.RACY_NS``; a test holds them equal).
RACY_NS = 2_000_000_000


def invocation(
    argv: Sequence[str],
    cwd: str,
    environ: Mapping[str, str],
    *,
    stdout_tty: bool,
    stderr_tty: bool,
) -> str:
    """The text of everything a run's outcome depends on that is not a file (module docstring)."""
    from satchel import __version__

    env = tuple(sorted((k, v) for k, v in environ.items() if k not in SHELL_VARIABLES))
    return repr(
        (
            "satchel replay",
            __version__,
            sys.executable,
            sys.version,
            sys.platform,
            cwd,
            # Digests: arguments and environment variables may hold credentials (an index URL
            # with a password, a token), and the record is a file in the cache.
            sha256_hex(repr(tuple(argv)).encode("utf-8", "surrogateescape")),
            sha256_hex(repr(env).encode("utf-8", "surrogateescape")),
            stdout_tty,
            stderr_tty,
        )
    )


def key_of(text: str) -> str:
    """The record's name for ``text``: 32 hex digits of its sha256, and ``.rec``."""
    return _sha256(text.encode("utf-8", "surrogateescape")).hex()[:32] + ".rec"


def path_of(cache_root: str, text: str) -> str:
    return os.path.join(cache_root, DIRNAME, key_of(text))


def identity(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def settled(st: os.stat_result, now_ns: int) -> bool:
    """Whether ``st``'s identity can be trusted: its ctime at least :data:`RACY_NS` old."""
    return now_ns - st.st_ctime_ns >= RACY_NS


def content_digest(path: str) -> str:
    with open(path, "rb") as fh:
        return sha256_hex(fh.read())


def sha256_hex(data: bytes) -> str:
    return _sha256(data).hex()


class Broken:
    """A replay record that is there but cannot be used: the CLI reports it as the cache
    reports any broken entry, and removes it (:func:`satchel.cache.replay_record.heal`)."""

    __slots__ = ("path", "reason")

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason


def load(path: str, text: str) -> dict[str, Any] | Broken | None:
    """The payload of the replay record at ``path`` if it is whole and sound and was stored for
    exactly ``text``; :class:`Broken` (with why) if it is damaged; None if there is none, or it
    is another run's (the same key for another text)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        # (a file where the cache, or its replays directory, belongs: no record is there. It
        # is that cache's damage, reported when the cache is used -- and maybe it is not: a
        # SATCHEL_CACHE_DIR naming a file, with --cache-dir given)
        return None
    except OSError as exc:
        return Broken(path, exc.strerror or str(exc))
    reason = _damage(data)
    if reason is not None:
        return Broken(path, reason)
    try:
        obj = decode_json(data[_HEADER_SIZE:].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return Broken(path, f"undecodable payload ({exc})")
    if not isinstance(obj, dict):
        return Broken(path, "undecodable payload (not an object)")
    return obj if obj.get("invocation") == text else None


def _damage(data: bytes) -> str | None:
    """What is wrong with the record ``data`` (as ``satchel.cache.record.check`` says it), or None."""
    if not data:
        return "empty file"
    if len(data) < _HEADER_SIZE:
        return "truncated header"
    if data[:8] != _MAGIC:
        return "not a satchel record (bad magic)"
    rtype = data[8:32].rstrip(b"\0").decode("ascii", "replace")
    if rtype != RECORD_TYPE:
        return f"wrong record type {rtype!r}, expected {RECORD_TYPE!r}"
    found = int.from_bytes(data[32:36], "big")
    if found != FORMAT:
        return f"format version {found}, this satchel reads {FORMAT}"
    length = int.from_bytes(data[36:44], "big")
    if length != len(data) - _HEADER_SIZE:
        return f"payload is {len(data) - _HEADER_SIZE} bytes, header says {length} (truncated?)"
    if _sha256(data[_HEADER_SIZE:]) != data[44:76]:
        return "checksum mismatch"
    return None


#: A record stored more than this many seconds "after" now says the clock was set back since:
#: its expiry no longer means what it did (the rule index pages follow, cache/freshness.py).
CLOCK_SLACK = 60


def holds(payload: Mapping[str, Any], now: float, stored_at: float | None = None) -> bool:
    """Whether every input of the replay is as it was noted and it has not expired. A replay
    that expires does not hold either when it was stored (``stored_at``, its file's mtime)
    later than ``now`` by more than :data:`CLOCK_SLACK`: the clock was set back."""
    expires = payload.get("expires_at")
    if expires is not None and not (
        isinstance(expires, (int, float))
        and now < expires
        and (stored_at is None or stored_at <= now + CLOCK_SLACK)
    ):
        return False
    inputs = payload.get("inputs")
    if not isinstance(inputs, list):
        return False
    for item in inputs:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[1], str)):
            return False
        kind, path, expected = item
        try:
            if kind == "stat":
                if identity(os.stat(path)) != expected:
                    return False
            elif kind == "content":
                if content_digest(path) != expected:
                    return False
            elif kind == "absent":
                try:
                    os.stat(path)
                except FileNotFoundError:
                    continue
                return False
            else:
                return False
        except OSError:
            return False
    return True


def replay(argv: Sequence[str], environ: Mapping[str, str]) -> int | Broken | None:
    """Print the stored outcome of this very run and return its exit status; else None (run the
    command), or :class:`Broken` when the record for this run is damaged (run the command, and
    report it). Never raises for what it finds."""
    import time

    started = time.perf_counter()
    root = cache_root(environ)
    if root is None:
        return None
    try:
        cwd = os.getcwd()
        text = invocation(
            argv, cwd, environ, stdout_tty=sys.stdout.isatty(), stderr_tty=sys.stderr.isatty()
        )
    except (OSError, ValueError, AttributeError):  # (no working directory; no stdout at all)
        return None
    path = path_of(root, text)
    payload = load(path, text)
    if payload is None or isinstance(payload, Broken):
        return payload
    try:
        stored_at = os.stat(path).st_mtime
    except OSError:
        return None
    if not holds(payload, time.time(), stored_at):
        return None
    stdout, stderr, status = payload.get("stdout"), payload.get("stderr"), payload.get("exit")
    after = payload.get("stdout_after")
    if not (
        isinstance(stdout, str)
        and isinstance(stderr, list)
        and all(isinstance(line, str) for line in stderr)
        and isinstance(status, int)
        and isinstance(after, int)
    ):
        return None
    from satchel.units import human_time

    elapsed = human_time(time.perf_counter() - started)
    try:
        _say(stderr[:after], elapsed)
        if stdout:
            sys.stdout.write(stdout)
            sys.stdout.flush()
        _say(stderr[after:], elapsed)
    except BrokenPipeError:
        # The reader went away (`satchel compile | head`): as the full run ends then.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


def _say(lines: list[str], elapsed: str) -> None:
    for line in lines:
        sys.stderr.write(line.replace("\0", elapsed) + "\n")
    sys.stderr.flush()


def cache_root(environ: Mapping[str, str]) -> str | None:
    """The cache directory a run uses unless its arguments say otherwise, where that is certain
    without parsing the settings (None: not certain).

    The one variable read here, before :mod:`satchel.settings` parses them all: an absolute
    ``SATCHEL_CACHE_DIR`` is used as given there (``tests/unit/test_replays.py`` compares the
    two). Nothing else need be looked at: a run whose settings turn replays off
    (``SATCHEL_NO_FAST_PATH``, ``SATCHEL_NO_REPLAY``) stores none, and the environment is in
    the key; a run given ``--cache-dir`` or ``--no-cache`` stores none here (its invocation text is
    found only in the cache that very run uses)."""
    given = environ.get("SATCHEL_CACHE_DIR")
    if given is not None:
        return given if given.startswith("/") else None
    from satchel.cache.userdir import narrow_user_cache_dir

    return narrow_user_cache_dir(environ)


# --------------------------------------------------------------------------------------------
# the built-in sha256 and the C JSON scanner


def _sha256(data: bytes) -> bytes:
    """``hashlib.sha256(data).digest()``, by the interpreter's built-in sha256 where it has one
    (hashlib loads OpenSSL: milliseconds of start-up)."""
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256
        else:
            from _sha256 import sha256
    except ImportError:
        from hashlib import sha256
    return sha256(data).digest()


class _Context:
    """What ``_json.make_scanner`` reads from a decoder: ``json.loads``'s defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a value satchel writes")


def decode_json(text: str) -> Any:
    """``json.loads(text)`` for a document satchel wrote (no NaN or Infinity), without importing
    :mod:`json` (and :mod:`re` with it) where the C scanner is there. Raises ValueError."""
    try:
        import _json
    except ImportError:  # (no C accelerator: the library itself)
        import json

        return json.loads(text)
    scan = _json.make_scanner(_Context())  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        obj, end = scan(text, start)
    except StopIteration:
        raise ValueError("no JSON value") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError("extra data after the JSON value")
    return obj


_WHITESPACE = " \t\n\r"
