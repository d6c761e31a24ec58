"""Running a project's PEP 517 build backend: which backend (``[build-system]``), in which Python,
with which environment, and what to say when it fails.

Every hook runs in a subprocess (pyproject_hooks' in-process script) with a sanitised environment:
no PYTHONPATH, PYTHONHOME or other interpreter-steering variables, no PIP_* settings, user site
off (PYTHONNOUSERSITE=1), the build environment's scripts first on PATH. Output of all hooks of one
build goes to one log file; a failing hook raises :class:`BackendError` naming the package, the
backend and the hook, with the last lines of output and the log's path.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from satchel.build.source import load_pyproject
from satchel.errors import BuildError

log = logging.getLogger("satchel.build")

LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
LEGACY_REQUIRES = ("setuptools>=40.8.0",)
TAIL_LINES = 20

# Variables that steer the interpreter or pip and must not leak into a build.
_DROP = frozenset(
    {
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONUSERBASE",
        "PYTHONEXECUTABLE",
        "PYTHONSAFEPATH",
        "PYTHONNOUSERSITE",
        "PYTHONPLATLIBDIR",
        "__PYVENV_LAUNCHER__",
        "VIRTUAL_ENV",
        "VIRTUAL_ENV_PROMPT",
        "CONDA_PREFIX",
        "_PYPROJECT_HOOKS_BUILD_BACKEND",
        "_PYPROJECT_HOOKS_BACKEND_PATH_JSON",
    }
)


class BackendError(BuildError):
    """A build hook failed. ``log_path`` is the full log of the build (kept on failure)."""

    def __init__(
        self,
        message: str,
        *,
        package: str,
        backend: str,
        hook: str,
        log_path: Path | None,
        tail: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.package = package
        self.backend = backend
        self.hook = hook
        self.log_path = log_path
        self.tail = list(tail)


class HookUnsupported(Exception):
    """The backend does not define an optional hook (prepare_metadata_*, build_editable)."""

    def __init__(self, hook: str) -> None:
        super().__init__(hook)
        self.hook = hook


@dataclass(frozen=True)
class BuildSystem:
    """A project's ``[build-system]``, with PEP 517/518 defaults applied."""

    backend: str  # "module:object" or "module"
    requires: tuple[str, ...]
    backend_path: tuple[str, ...] | None = None
    declared: bool = True  # False: no [build-system] table (setuptools' legacy backend)


def read_build_system(project: Path, *, label: str) -> BuildSystem:
    """The build system of ``project``: pyproject.toml's ``[build-system]``; without one (or
    without pyproject.toml), setuptools' legacy backend requiring setuptools>=40.8.0."""
    data = load_pyproject(project)
    table = data.get("build-system") if data is not None else None
    if table is None:
        if data is None and not (
            (project / "setup.py").is_file() or (project / "setup.cfg").is_file()
        ):
            raise BuildError(f"{label}: no pyproject.toml, setup.py or setup.cfg in {project}")
        return BuildSystem(LEGACY_BACKEND, LEGACY_REQUIRES, None, declared=False)
    where = f"{label}: pyproject.toml [build-system]"
    if not isinstance(table, dict):
        raise BuildError(f"{where} is not a table")
    requires = table.get("requires")
    if requires is None:
        raise BuildError(f"{where} has no 'requires' key", hint="PEP 518 makes it mandatory")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError(f"{where} 'requires' must be a list of strings")
    for req in requires:
        try:
            Requirement(req)
        except InvalidRequirement as exc:
            raise BuildError(f"{where} has an invalid requirement {req!r}: {exc}") from None
    backend = table.get("build-backend")
    if backend is None:
        return BuildSystem(LEGACY_BACKEND, tuple(requires), None, declared=True)
    if not isinstance(backend, str) or not backend.strip():
        raise BuildError(f"{where} 'build-backend' must be a non-empty string")
    path = table.get("backend-path")
    if path is not None and (
        not isinstance(path, list) or not all(isinstance(p, str) for p in path)
    ):
        raise BuildError(f"{where} 'backend-path' must be a list of strings")
    return BuildSystem(backend.strip(), tuple(requires), tuple(path) if path is not None else None)


def sanitized_environ(
    scripts_dir: Path | None,
    env_root: Path | None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a build runs with: ``base`` (default os.environ) without variables that
    steer Python or pip, with user site off and ``scripts_dir`` first on PATH."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k not in _DROP and not k.startswith("PIP_")}
    env["PYTHONNOUSERSITE"] = "1"
    if scripts_dir is not None:
        env["PATH"] = os.pathsep.join(p for p in (str(scripts_dir), env.get("PATH", "")) if p)
    if env_root is not None:
        env["VIRTUAL_ENV"] = str(env_root)
    return env


class BuildLog:
    """One file collecting the output of every hook of one build. Deleted after a successful
    build (:meth:`discard`), kept after a failure."""

    def __init__(self, package: str, log_dir: Path | None = None) -> None:
        directory = log_dir or Path(tempfile.gettempdir()) / "satchel-build-logs"
        directory.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in package)[:60] or "build"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        fd, name = tempfile.mkstemp(prefix=f"{safe}-{stamp}-", suffix=".log", dir=directory)
        os.close(fd)
        self.path = Path(name)

    def section(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"==> {text}\n")

    def append(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        """The last ``lines`` lines of hook output (section headers skipped)."""
        out: deque[str] = deque(maxlen=lines)
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.startswith("==> "):
                        out.append(line.rstrip("\n"))
        except OSError:
            return []
        while out and not out[-1].strip():
            out.pop()
        return list(out)

    def discard(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass


class _HookFailed(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class Backend:
    """The backend of one project, called in one Python (a build environment or the target)."""

    def __init__(
        self,
        project: Path,
        system: BuildSystem,
        python: Path,
        *,
        package: str,
        build_log: BuildLog,
        environ: Mapping[str, str],
    ) -> None:
        from pyproject_hooks import BuildBackendHookCaller

        self.project = project
        self.system = system
        self.python = python
        self.package = package
        self.log = build_log
        self._environ = dict(environ)
        try:
            self._caller = BuildBackendHookCaller(
                str(project),
                system.backend,
                backend_path=list(system.backend_path) if system.backend_path is not None else None,
                runner=self._run,
                python_executable=str(python),
            )
        except ValueError as exc:  # a backend-path outside the project
            raise BuildError(
                f"{package}: pyproject.toml [build-system] backend-path is invalid: {exc}"
            ) from None

    def _run(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        env = dict(self._environ)
        if extra_environ:
            env.update(extra_environ)
        with open(self.log.path, "ab") as out:
            proc = subprocess.run(
                list(cmd),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if proc.returncode != 0:
            raise _HookFailed(proc.returncode)
        self._move_warnings(cmd)

    def _move_warnings(self, cmd: Sequence[str]) -> None:
        """pyproject_hooks re-raises the backend's warnings as Python warnings in this process;
        they belong in the build log (and the debug log), not on satchel's stderr."""
        if len(cmd) < 4:
            return
        path = Path(cmd[3]) / "output.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = data.pop("warnings", None) if isinstance(data, dict) else None
            if not found:
                return
            for w in found:
                text = f"warning ({w.get('category', 'Warning')}): {w.get('message', '')}"
                self.log.append(text)
                log.debug("%s: %s", self.package, text)
            path.write_text(json.dumps(data), encoding="utf-8")
        except (OSError, ValueError, AttributeError):
            return

    def call(self, hook: str, **kwargs: Any) -> Any:
        """Run ``hook`` with ``kwargs``. Raises BackendError when it fails and HookUnsupported
        when the backend lacks it (for hooks that have no mandatory definition)."""
        from pyproject_hooks import BackendUnavailable, HookMissing, UnsupportedOperation

        self.log.section(f"{hook} ({self.system.backend}, {self.python})")
        log.debug("%s: calling %s of %s", self.package, hook, self.system.backend)
        try:
            return getattr(self._caller, hook)(**kwargs)
        except _HookFailed as exc:
            raise self.error(hook, f"exited with status {exc.returncode}") from None
        except BackendUnavailable as exc:
            self.log.append(exc.traceback or str(exc))
            raise self.error(
                hook,
                "could not be started: the backend cannot be imported",
                hint="check [build-system] build-backend and requires in pyproject.toml",
            ) from None
        except HookMissing as exc:
            raise HookUnsupported(str(exc.hook_name or hook)) from None
        except UnsupportedOperation as exc:
            self.log.append(exc.traceback or "")
            raise self.error(hook, "is not supported by the backend") from None
        except (OSError, ValueError) as exc:  # unreadable hook output, python vanished
            self.log.append(f"{type(exc).__name__}: {exc}")
            raise self.error(hook, f"could not be run ({exc})") from None

    def error(self, hook: str, what: str, *, hint: str | None = None) -> BackendError:
        tail = self.log.tail()
        lines = [f"failed to build {self.package}: {self.system.backend} {hook} {what}"]
        if tail:
            lines.append(f"last {len(tail)} lines of output:")
            lines += [f"  {line}" for line in tail]
        else:
            lines.append("(no output)")
        lines.append(f"full build log: {self.log.path}")
        return BackendError(
            "\n".join(lines),
            package=self.package,
            backend=self.system.backend,
            hook=hook,
            log_path=self.log.path,
            tail=tail,
            hint=hint,
        )
