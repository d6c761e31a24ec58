"""Making a replay (:mod:`satchel.cache.replays`) of this run: what it printed and every input it
read, stored when the run ends well.

A command that can be replayed gets a :class:`Replaying` from the CLI, and tells it what it read
(files, directories, the target environment, pip's configuration) while the cache's journal
notes every record read, found unchanged or looked for in vain. What the command logs is
captured as it is printed. Anything the replay could not describe exactly makes the run
:meth:`~Replaying.decline`: then nothing is stored, and the next run of the same command runs in
full, as it always would. (Runs with ``-v`` make no replay at all: a replay says only what the
run said at the default level.)
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from satchel.cache import replays
from satchel.settings import Settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.cache.journal import Journal
    from satchel.cache.store import Cache

log = logging.getLogger("satchel")

#: Files up to this size are noted by their content, larger ones by their identity.
CONTENT_LIMIT = 1 << 20


class Replaying:
    """One run's replay in the making (module docstring). ``argv``: the command line as the
    CLI got it."""

    def __init__(self, argv: list[str], settings: Settings) -> None:
        self.settings = settings
        self.declined: str | None = None
        try:
            self.text = replays.invocation(
                argv,
                os.getcwd(),
                os.environ,
                stdout_tty=sys.stdout.isatty(),
                stderr_tty=sys.stderr.isatty(),
            )
        except (OSError, ValueError, AttributeError) as exc:  # (no working directory, ...)
            self.text = ""
            self.decline(f"no key for this run: {exc}")
        self.inputs: list[list[Any]] = []
        self.lines: list[str] = []
        self.stdout = ""
        self.stdout_after = 0  # stderr lines said before the standard output
        self.expires_at: float | None = None
        self._noted: set[tuple[str, str]] = set()
        self._journals: list[tuple[Cache, Journal]] = []
        self._handler = _Capture(self)
        log.addHandler(self._handler)

    # -- what the run says -----------------------------------------------------------------

    def decline(self, why: str) -> None:
        """Store nothing for this run (``declined`` keeps the first reason)."""
        if self.declined is None:
            self.declined = why

    def print(self, text: str) -> None:
        """The run writes ``text`` on standard output (the caller writes it). Once, after what
        it has said on standard error so far."""
        if self.stdout:
            self.decline("it wrote standard output twice")
        self.stdout = text
        self.stdout_after = len(self.lines)

    def expires(self, at: float | None) -> None:
        """The outcome holds only until ``at`` (None: no limit from this)."""
        if at is not None and (self.expires_at is None or at < self.expires_at):
            self.expires_at = at

    # -- what the run reads ------------------------------------------------------------------

    def file(self, path: str | Path) -> None:
        """A file whose bytes the outcome depends on (or its absence). Note it before the run
        reads it: a change after that is then a change the next run sees (:meth:`finish`)."""
        name = os.path.abspath(path)
        st = self._look(name)
        if st is None:
            return
        if st.st_size > CONTENT_LIMIT:
            self.stat(name)
            return
        try:
            self._add("content", name, replays.content_digest(name))
        except OSError as exc:
            self.decline(f"cannot read {name}: {exc.strerror or exc}")

    def read(self, path: str | Path, digest: str) -> None:
        """A file the run read, with the sha256 (hex) of the bytes it read."""
        self._add("content", os.path.abspath(path), digest)

    def stat(self, path: str | Path) -> None:
        """A file or directory that must stay the very same one (or stay absent). Note it
        before the run reads it, as :meth:`file`."""
        name = os.path.abspath(path)
        st = self._look(name)
        if st is None:
            return
        if not replays.settled(st, time.time_ns()):
            self.decline(f"{name} changed moments ago")
            return
        self._add("stat", name, replays.identity(st))

    def _look(self, name: str) -> os.stat_result | None:
        """The status of ``name``; None when it is not there (noted absent) or cannot be
        looked at (declined)."""
        try:
            return os.stat(name)
        except FileNotFoundError:
            self._add("absent", name, None)
        except OSError as exc:
            self.decline(f"cannot look at {name}: {exc.strerror or exc}")
        return None

    def target(self, python: str | None, system: bool, exe: Path) -> None:
        """What decided that the target environment is ``exe`` (``-p``/``--system`` as given):
        noted right after it was found, and found once more to be sure nothing moved between."""
        from satchel.python.discover import find_target, target_inputs

        cwd = Path.cwd()
        inputs = target_inputs(python, system=system, exe=exe, cwd=cwd)
        if inputs is None:
            self.decline("the target was found by a search")
            return
        for path in inputs:
            self.stat(path)
        try:
            again = find_target(python, system=system, cwd=cwd)
        except Exception:  # (the run found it a moment ago)
            again = None
        if again != exe:
            self.decline("the target environment moved while the run looked for it")

    def running_python(self) -> None:
        """The run found no environment (``.venv`` in no directory up from here, no
        VIRTUAL_ENV) and uses the Python satchel runs on."""
        if os.environ.get("VIRTUAL_ENV"):
            self.decline("VIRTUAL_ENV names no environment")
            return
        cwd = Path.cwd()
        for directory in (cwd, *cwd.parents):
            candidate = directory / ".venv"
            if os.path.lexists(candidate):
                # (one that is not an environment yet may become one without moving its times)
                self.decline(f"{candidate} is there but is no environment")
                return
            self.stat(candidate)
        self.stat(sys.executable)

    def index_config(self) -> None:
        """pip's configuration, and the pip source its default index comes from."""
        from satchel.index.config import config_inputs

        inputs = config_inputs(os.environ)
        if inputs is None:
            self.decline("pip's default index is not read from a file")
            return
        for path in inputs:
            self.file(path)

    def written(self, path: Path, data: bytes) -> None:
        """The run wrote ``data`` to ``path``, which it read as an input before: a replay
        writes nothing, so it holds only if the file held ``data`` already."""
        name = os.path.abspath(path)
        digest = replays.sha256_hex(data)
        if ["content", name, digest] not in self.inputs:
            self.decline(f"it changed {name}")

    def _add(self, kind: str, path: str, expected: Any) -> None:
        if (kind, path) in self._noted:
            return
        self._noted.add((kind, path))
        self.inputs.append([kind, path, expected])

    def watch(self, cache: Cache) -> None:
        """Note every record ``cache`` reads, finds unchanged or misses from now on, until
        :meth:`unwatch` (or :meth:`finish`)."""
        if len(cache.read_roots()) != 1 or cache.read_only or cache.degraded:
            self.decline("the cache is not one writable directory")
            return
        self._journals.append((cache, cache.start_journal()))

    def unwatch(self, cache: Cache) -> None:
        for item in [j for j in self._journals if j[0] is cache]:
            self._journals.remove(item)
            self._close(*item)

    def _close(self, cache: Cache, journal: Journal) -> None:
        root = cache.read_roots()[0]
        noted = journal.close()
        for bucket, key in journal.missing():
            # Absent, as it was when looked for: there by now means "changed" (finish's check).
            self._add("absent", str(root / bucket / key), None)
        for entry in noted:
            if entry.identity is None:
                self.decline(f"{entry.bucket}/{entry.key} was written moments ago")
                return
            self._add("stat", str(root / entry.bucket / entry.key), entry.identity)

    def code(self) -> None:
        """satchel's own code and the libraries it loaded (the interpreter, and so the standard
        library, is in the key)."""
        stdlib = os.path.dirname(os.__file__)
        for module in list(sys.modules.values()):
            filename = getattr(module, "__file__", None)
            if not isinstance(filename, str):
                continue
            if filename.startswith(stdlib) and "-packages" not in filename:
                continue
            self.stat(filename)

    # -- the end ---------------------------------------------------------------------------

    def finish(self, status: int) -> None:
        """The run ended with ``status`` (its output all said): store the replay in the run's
        cache unless the run declined. Never raises for a cache problem."""
        log.removeHandler(self._handler)
        for item in list(self._journals):
            self._journals.remove(item)
            self._close(*item)
        if self.declined is None:
            self.code()
        # Files noted by content were noted before the run read them, or by the digest of the
        # bytes it read: a change after that is a change the next run sees. Identities and
        # absences may have been noted after the read (a directory listed, a record looked for):
        # checked again now, so the outcome was made from exactly these.
        later = [i for i in self.inputs if i[0] != "content"]
        if self.declined is None and not replays.holds({"inputs": later, "expires_at": None}, time.time()):
            self.decline("an input changed while the run read it")
        if self.declined is not None:
            return
        from satchel.cache.replay_record import ReplayRecord  # (none needed if nothing is stored)

        rec = ReplayRecord(
            invocation=self.text,
            inputs=self.inputs,
            stdout=self.stdout,
            stderr=self.lines,
            stdout_after=self.stdout_after,
            exit=status,
            expires_at=self.expires_at,
        )
        from satchel.commands.common import open_cache

        cache = open_cache(self.settings, remote=False)
        try:
            if not cache.read_only:
                cache.write(replays.key_of(self.text), rec, upload=False)
        except (UnicodeError, ValueError):  # (a path that is not text: no record for it)
            pass
        finally:
            cache.close()

    def abandon(self) -> None:
        """The run failed, or did not get to :meth:`finish`: store nothing."""
        log.removeHandler(self._handler)
        for _cache, journal in self._journals:
            journal.close()
        self._journals.clear()


class _Capture(logging.Handler):
    """Keeps the lines the run prints at INFO (a timed one with a NUL for its time); a warning
    or an error makes the run decline (what it warns about may be different next time)."""

    def __init__(self, replaying: Replaying) -> None:
        super().__init__(logging.INFO)
        self.replaying = replaying

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.replaying.decline(f"it said: {record.getMessage()}")
            return
        timed = getattr(record, "satchel_timed", None)
        self.replaying.lines.append(f"{timed}\0" if isinstance(timed, str) else record.getMessage())


def replayable(command: str, settings: Settings) -> bool:
    """Whether a run of ``command`` with these settings may store a replay at all (not with
    ``-v``: a replay says only what the run said at the default level)."""
    return (
        command in ("install", "compile")
        and not settings.verbose
        and settings.fast_path
        and settings.replay
        and not settings.no_cache
        and settings.remote is None
    )
