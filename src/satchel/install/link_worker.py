"""Installing distributions in a second process, beside the one that runs the command.

Linking a warm install is system calls (``mkdir`` and ``link``) with a little Python between
them. Two threads of one process interleave those badly: each call gives up the interpreter lock
and must take it back before the next line of Python runs, so on 2 cores the second thread
brought trio's link phase from ~195 to ~150 ms, not to half. Two processes have a lock each:
started together, they linked the same 37 distributions in 117-123 ms (jupyter's 97: ~300 ms
against ~450).

A :class:`LinkWorker` is started early in an install, so that its interpreter and imports
(~60 ms of CPU on the other core) are done by the time linking starts. It is then handed one
distribution at a time (:meth:`LinkWorker.install`): a :class:`LinkJob` written as one line of
JSON on its standard input, answered by one line on its standard output. The worker runs the
very :func:`satchel.install.wheel.install_tree` the command would, on the tree the command has
checked (``Cache.get_tree``): the manifest is read from beside the tree again, and must name the
same wheel and as many files.

The same worker unpacks wheels for a cold install (:meth:`LinkWorker.unpack`), while it has
nothing to link: inside ``Cache.build_tree``, one of ``prepare``'s two unpack turns hands the
wheel to it when it is ready and free (else that turn unpacks in the command, as before), and it
runs ``unpack_wheel`` into the directory the cache is building, answering with the listing the
cache writes as the tree's manifest. Unpacking is CPU-bound: one wheel in the command and one
in the worker no longer take turns at one interpreter lock (cold trio 1.67 -> 1.52 s, jupyter
3.35 -> 3.14 s, medians of 4-5 interleaved rounds).

Whatever goes wrong in the worker is not reported from there. An install that fails there has
been rolled back by ``install_tree`` (as it is in the command); the answer only says it did not
succeed, and the command installs that distribution itself, which reports the failure in its
own words if it fails again (a cache entry gone missing is unpacked again, there too). A
wheel it could not unpack is unpacked again by the command, into the emptied directory. A worker
that stops answering (it died, it could not start) takes no more jobs, and what it held is
installed by the command. The worker never outlives the command's interest: it ends when its
standard input closes, which the command's exit does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from satchel.cache.manifest import Listing

#: What the worker process runs (``satchel.cli.link_worker``: the program's own start-up, then
#: :func:`serve`).
ENTRY = "from satchel.cli.link_worker import run; run()"


@dataclass(frozen=True)
class LinkJob:
    """One distribution to install: ``install_tree``'s arguments, and what the tree's manifest
    must say (``source``: the wheel's file name; ``files``: how many files)."""

    tree: str
    source: str
    files: int
    paths: dict[str, str]
    interpreter: str
    requested: bool
    direct_url: dict[str, Any] | None
    compile_bytecode: bool
    python_version: list[int] | None
    mode: str


@dataclass(frozen=True)
class UnpackJob:
    """One wheel to unpack into ``dest`` (an empty directory the cache is building a tree in):
    ``unpack_wheel``'s arguments."""

    wheel: str
    dest: str
    name: str
    version: str


@dataclass(frozen=True)
class LinkReply:
    """What the worker answers: whether the distribution is installed, and why a hard link did
    not work there (its Linker copied instead), if it did not."""

    ok: bool
    fallback: str | None = None
    warning: str | None = None  # the worker's Linker's warning about it
    reason: str | None = None  # why not ok (for -v)
    files: list[list[Any]] | None = None  # an unpack's listing: path, size, sha256, mtime_ns, executable


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    """The worker: answer each job line on ``inp`` with a reply line on ``out`` until ``inp``
    ends. Never raises for a job: a job that fails is answered ``ok: false``."""
    import json
    import logging

    # Nothing is printed here: a Linker's warning (the one thing installing warns about) goes
    # back with the reply, and the command gives it, once a run.
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
    root = logging.getLogger("satchel")
    saved = root.handlers[:], root.propagate
    root.handlers[:] = [handler]
    root.propagate = False
    try:
        import satchel.cache.store
        import satchel.install.wheel  # noqa: F401  (before "ready": the first job waits for none of it)

        out.write(b"ready\n")
        out.flush()
        linkers: dict[str, Any] = {}
        for line in inp:
            try:
                kind, fields = next(iter(json.loads(line).items()))
                if kind == "unpack":
                    reply = _unpack(UnpackJob(**fields))
                else:
                    reply = _run(LinkJob(**fields), linkers, warnings)
            except Exception as exc:  # (answered, never raised: the command redoes the job)
                reply = LinkReply(False, reason=f"{type(exc).__name__}: {exc}")
            out.write(json.dumps(asdict(reply)).encode() + b"\n")
            out.flush()
    finally:
        root.handlers[:], root.propagate = saved


def _run(job: LinkJob, linkers: dict[str, Any], warnings: list[str]) -> LinkReply:
    from satchel.cache.store import load_tree
    from satchel.install.link import Linker
    from satchel.install.wheel import install_tree

    tree = load_tree(Path(job.tree))
    if tree.manifest.source != job.source or len(tree.manifest.files) != job.files:
        return LinkReply(False, reason="the cache entry is not the one checked")
    linker = linkers.get(job.mode)
    if linker is None:
        linker = linkers[job.mode] = Linker(job.mode)
    install_tree(
        tree,
        paths=job.paths,
        interpreter_executable=job.interpreter,
        linker=linker,
        requested=job.requested,
        direct_url=job.direct_url,
        compile_bytecode=job.compile_bytecode,
        python_version=tuple(job.python_version) if job.python_version is not None else None,
    )
    return LinkReply(True, fallback=linker.fallback_reason, warning=warnings[0] if warnings else None)


def _unpack(job: UnpackJob) -> LinkReply:
    from satchel.install.unpack import unpack_wheel

    listing = unpack_wheel(Path(job.wheel), Path(job.dest), expected_name=job.name, expected_version=job.version)
    return LinkReply(True, files=[[f.path, f.size, f.sha256, f.mtime_ns, f.executable] for f in listing.files])


class LinkWorker:
    """The command's side of a worker process: :meth:`start` it, :meth:`install` and
    :meth:`unpack` with it from any thread, :meth:`close` it. One lock makes each job, and the
    wait for the line that says it started, the only reader of its output at the time."""

    def __init__(self, pid: int, to_worker: int, from_worker: int) -> None:
        import threading

        self.pid = pid
        self._in = os.fdopen(to_worker, "wb")
        self._out = os.fdopen(from_worker, "rb")
        self._ready = False
        self._busy = threading.Lock()  # one job at a time
        self.gone = False

    @classmethod
    def start(cls, env: Mapping[str, str] | None = None) -> LinkWorker | None:
        """Start a worker with this interpreter (``env``: its environment, default this
        process's); None on one core, or when it cannot be started. Returns at once: the
        worker gets ready while the command goes on."""
        if not sys.executable or not hasattr(os, "posix_spawn") or (os.cpu_count() or 1) < 2:
            return None  # (on one core the command would only wait for it)
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        try:
            # (posix_spawn, not subprocess: the command need not import subprocess for this)
            pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-c", ENTRY],
                dict(os.environ if env is None else env),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, to_r, 0),
                    (os.POSIX_SPAWN_DUP2, from_w, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
            )
        except OSError:
            for fd in (to_r, to_w, from_r, from_w):
                os.close(fd)
            return None
        os.close(to_r)
        os.close(from_w)
        return cls(pid, to_w, from_r)

    def ready(self, timeout: float | None) -> bool | None:
        """Whether the worker takes jobs, waiting up to ``timeout`` seconds (None: as long as
        it takes) for it to start: True, False (not yet, or busy starting for another thread),
        or None (it is gone, or could not start)."""
        if self.gone:
            return None
        if self._ready:
            return True
        if not self._busy.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            return self._await_ready(timeout)
        finally:
            self._busy.release()

    def _await_ready(self, timeout: float | None) -> bool | None:
        """:meth:`ready`, with ``_busy`` held (the one reader of the worker's output)."""
        if self.gone:
            return None
        if self._ready:
            return True
        import select

        try:
            if not select.select([self._out], [], [], timeout)[0]:
                return False
            if self._out.readline() != b"ready\n":
                raise OSError("the worker did not start")
        except (OSError, ValueError):
            self.gone = True
            self._reap()
            return None
        self._ready = True
        return True

    def install(self, job: LinkJob) -> LinkReply | None:
        """Have the worker install ``job`` (waiting for it to be ready, and free); its reply, or
        None when the worker is gone (it then takes no more jobs)."""
        with self._busy:
            return self._ask("link", job, wait=True)

    def unpack(self, job: UnpackJob) -> Listing | None:
        """Have the worker unpack a wheel, if it is ready and free now: the listing of what it
        wrote, or None (not now; or it failed, and what it wrote is left in ``job.dest``)."""
        from satchel.cache.manifest import Listing, ManifestFile

        if not self._busy.acquire(blocking=False):
            return None
        try:
            reply = self._ask("unpack", job, wait=False)
        finally:
            self._busy.release()
        if reply is None or not reply.ok or reply.files is None:
            return None
        return Listing([ManifestFile(p, size, sha, mtime, bool(x)) for p, size, sha, mtime, x in reply.files])

    def _ask(self, kind: str, job: LinkJob | UnpackJob, *, wait: bool) -> LinkReply | None:
        """One job and its reply, with ``_busy`` held."""
        import json  # (here: the command's thread that hands jobs over imports it, not startup)

        if not self._await_ready(None if wait else 0):
            return None  # gone, or still starting
        if self.gone:
            return None
        try:
            self._in.write(json.dumps({kind: asdict(job)}).encode() + b"\n")
            self._in.flush()
            line = self._out.readline()
            if not line:
                raise OSError("the worker stopped")
            return LinkReply(**json.loads(line))
        except (OSError, ValueError, TypeError):
            self.gone = True
            self._reap()
            return None

    def close(self) -> None:
        """End the worker (it stops at the end of its input); not waited for: a daemon thread
        collects its exit status, so that a program that runs many commands (the tests) keeps
        no exited workers behind."""
        import threading

        self.gone = True
        for stream in (self._in, self._out):
            try:
                stream.close()
            except OSError:
                pass
        threading.Thread(target=self._reap, kwargs={"block": True}, name="satchel-reap", daemon=True).start()

    def _reap(self, block: bool = False) -> None:
        try:
            os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pass
