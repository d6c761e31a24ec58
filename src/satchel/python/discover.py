"""Finding the target interpreter.

Precedence (``find_target``): ``-p/--python`` (a path, a venv directory, a version request or an
executable name on PATH); else, with ``--system``, the ``python3`` on PATH; else ``$VIRTUAL_ENV``;
else a ``.venv`` in the working directory or one of its parents; else an error.

A version request (``3``, ``3.10``, ``3.12.1``, ``python3.11``, ``cpython3.10``, ``3.13t``; but
``python3`` is a command name) is
matched against ``pythonX.Y`` executables on PATH and ``$PYENV_ROOT/versions/X.Y.Z``
(``~/.pyenv`` by default); the newest matching version wins, PATH first among equals. pyenv's
shims are skipped: a shim runs whichever version pyenv has selected, not the one it is named after.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from satchel.cache.store import Cache
from satchel.errors import InterpreterError

NO_VENV_HINT = "create one with `satchel venv`, pass -p/--python, or use --system"
_VERSION_QUERY = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
_QUERY_TIMEOUT = 30.0
# Compiled on first use (``re`` keeps them): only a version request (``-p 3.12``) needs them.
_REQUEST = r"(?:c?python)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(t)?"  # re.IGNORECASE
_PATH_NAME = r"python(\d+)\.(\d+)(t?)(?:\.exe)?"  # re.IGNORECASE
_PYENV_NAME = r"(\d+)\.(\d+)\.(\d+)(t?)"


@dataclass(frozen=True)
class VersionRequest:
    """``3.12`` -> major 3, minor 12, patch None; ``3.13t`` asks for a free-threaded build."""

    major: int
    minor: int | None = None
    patch: int | None = None
    freethreaded: bool = False

    def matches(self, version: tuple[int, int, int], freethreaded: bool) -> bool:
        if freethreaded != self.freethreaded:
            return False
        wanted = (self.major, self.minor, self.patch)
        return all(w is None or w == v for w, v in zip(wanted, version, strict=True))

    def __str__(self) -> str:
        text = ".".join(str(p) for p in (self.major, self.minor, self.patch) if p is not None)
        return text + ("t" if self.freethreaded else "")


def parse_version_request(text: str) -> VersionRequest | None:
    """The version request ``text`` spells, or None if it is not one."""
    m = re.fullmatch(_REQUEST, text.strip(), re.IGNORECASE)
    if not m:
        return None
    major, minor, patch, t = m.groups()
    if minor is None and not text.strip()[0].isdigit():
        return None  # `python3` is a command to look up on PATH, `3` a version
    if patch is not None and minor is None:
        return None
    return VersionRequest(
        int(major),
        int(minor) if minor is not None else None,
        int(patch) if patch is not None else None,
        freethreaded=bool(t),
    )


def find_target(python: str | None, *, system: bool, cwd: Path, cache: Cache | None = None) -> Path:
    """The executable of the environment to install into (absolute, not resolved)."""
    if python is not None:
        return resolve_python_option(python, cwd=cwd, cache=cache)
    if system:
        import shutil  # (here: shutil and the compression modules it loads cost start-up time)

        found = shutil.which("python3") or shutil.which("python")
        if found is None:
            raise InterpreterError("--system: no python3 found on PATH", hint="pass -p/--python")
        return _unwrap_script(Path(os.path.abspath(found)))
    env = os.environ.get("VIRTUAL_ENV")
    if env:
        venv = Path(env).expanduser()
        if not venv.is_absolute():
            venv = cwd / venv
        exe = venv_python(venv)
        if exe is None:
            raise InterpreterError(
                f"VIRTUAL_ENV is {venv}, which has no {_bin_python_name()}",
                hint="deactivate it or recreate it with `satchel venv --clear`",
            )
        return exe
    for directory in (cwd, *cwd.parents):
        candidate = directory / ".venv"
        if candidate.is_dir():
            exe = venv_python(candidate)
            if exe is not None:
                return exe
            raise InterpreterError(
                f"{candidate} is not a virtual environment (no {_bin_python_name()})",
                hint="delete it and create it again with `satchel venv`, or pass -p/--python",
            )
    raise InterpreterError("no virtual environment found", hint=NO_VENV_HINT)


def target_inputs(
    python: str | None, *, system: bool, exe: Path, cwd: Path, environ: Mapping[str, str] = os.environ
) -> list[Path] | None:
    """The paths whose state decided that :func:`find_target` answered ``exe`` (given the same
    arguments, working directory and environment): each as it is now (a file, a directory, or
    nothing there), for a replay to check (:mod:`satchel.cache.replays`). None when the answer
    came from a search not described so (a version request, PATH, ``--system``)."""
    if python is not None:
        if _looks_like_path(python):
            given = Path(python).expanduser()
        elif parse_version_request(python) is None and (cwd / python).exists():
            given = Path(python)
        else:
            return None
        given = Path(os.path.abspath(given if given.is_absolute() else cwd / given))
        return [given, *_venv_inputs(exe)]
    if system:
        return None
    if environ.get("VIRTUAL_ENV"):
        return _venv_inputs(exe)
    looked: list[Path] = []
    for directory in (cwd, *cwd.parents):
        candidate = directory / ".venv"
        looked.append(candidate)
        if candidate.is_dir():
            return [*looked, *_venv_inputs(exe)]
    return None


def _venv_inputs(exe: Path) -> list[Path]:
    """``exe``, the executables :func:`venv_python` looks for before it, and pyvenv.cfg."""
    venv = exe.parent.parent
    out: list[Path] = []
    for candidate in (venv / "bin" / "python", venv / "bin" / "python3", venv / "Scripts" / "python.exe"):
        out.append(candidate)
        if candidate == exe:
            break
    else:
        out.append(exe)
    return [*out, venv / "pyvenv.cfg"]


def resolve_python_option(text: str, *, cwd: Path, cache: Cache | None = None) -> Path:
    """``-p/--python``: a path (file, or venv directory), a version request, a file or directory
    in ``cwd``, or a command on PATH, in that order."""
    if _looks_like_path(text):
        return _from_path(text, cwd)
    if parse_version_request(text) is not None:
        return find_interpreter_for_version(text, cache=cache)
    if (cwd / text).exists():  # `-p venv`: a directory here, not /usr/bin/venv
        return _from_path(text, cwd)
    import shutil

    found = shutil.which(text)
    if found is not None:
        return _unwrap_script(Path(os.path.abspath(found)))
    raise InterpreterError(
        f"no Python found for -p {text}: not a path, a version or a command on PATH",
        hint="pass a path to a Python executable or a version like 3.12",
    )


def find_interpreter_for_version(request: str, *, cache: Cache | None = None) -> Path:
    """The newest interpreter matching a version request like ``3.12``: PATH, then pyenv."""
    wanted = parse_version_request(request)
    if wanted is None:
        raise InterpreterError(
            f"{request!r} is not a Python version", hint="ask for a version like 3.12 or 3.12.1"
        )
    best: tuple[tuple[int, int, int], Path] | None = None
    seen: set[str] = set()
    for exe, known in _candidates(wanted):
        real = os.path.realpath(exe)
        if real in seen:
            continue
        seen.add(real)
        version = known or _version_of(exe, cache)
        if version is None or not wanted.matches(version, _freethreaded_name(exe, real)):
            continue
        if best is None or version > best[0]:
            best = (version, exe)
    if best is None:
        raise InterpreterError(
            f"no Python {wanted} found (searched PATH and {_pyenv_root() / 'versions'})",
            hint=f"install it (for example `pyenv install {wanted}`) or pass -p with its path",
        )
    return best[1]


def venv_python(venv: Path) -> Path | None:
    """The python executable of the environment at ``venv``, if there is one."""
    for candidate in (
        venv / "bin" / "python",
        venv / "bin" / "python3",
        venv / "Scripts" / "python.exe",
    ):
        if candidate.is_file():
            return Path(os.path.abspath(candidate))
    return None


def _candidates(wanted: VersionRequest) -> list[tuple[Path, tuple[int, int, int] | None]]:
    """(executable, version if known without running it), PATH first, then pyenv."""
    found: list[tuple[Path, tuple[int, int, int] | None]] = []
    pyenv = _pyenv_root()
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or _is_shims_dir(Path(entry), pyenv):
            continue
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for name in names:
            m = re.fullmatch(_PATH_NAME, name, re.IGNORECASE)
            if not m or int(m.group(1)) != wanted.major:
                continue
            if wanted.minor is not None and int(m.group(2)) != wanted.minor:
                continue
            path = Path(entry) / name
            if os.access(path, os.X_OK) and path.is_file():
                found.append((Path(os.path.abspath(path)), _pyenv_version(path, pyenv)))
    versions = pyenv / "versions"
    try:
        names = sorted(os.listdir(versions))
    except OSError:
        names = []
    for name in names:
        m = re.fullmatch(_PYENV_NAME, name)
        if not m:
            continue
        for exe_name in ("python3", "python"):
            exe = versions / name / "bin" / exe_name
            if exe.is_file():
                found.append((exe, (int(m.group(1)), int(m.group(2)), int(m.group(3)))))
                break
    return found


def _version_of(exe: Path, cache: Cache | None) -> tuple[int, int, int] | None:
    """The version of an executable found on PATH; None if it does not run."""
    if cache is not None:
        from satchel.python.cached import get_facts

        try:
            return get_facts(exe, cache).version_info
        except InterpreterError:
            return None
    from satchel.python.run import TargetError, run_in_target

    try:
        out = run_in_target(exe, _VERSION_QUERY, _QUERY_TIMEOUT)
    except TargetError:
        return None
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", out.stdout.decode("utf-8", "replace").strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _unwrap_script(exe: Path) -> Path:
    """A wrapper script (a pyenv shim) stands for whichever Python it runs today: ask it which, so
    the target (and its cache entry) is that real interpreter."""
    try:
        with open(exe, "rb") as fh:
            if fh.read(2) != b"#!":
                return exe
    except OSError:
        return exe
    from satchel.python.run import TargetError, run_in_target

    try:
        out = run_in_target(exe, "import sys; print(sys.executable)", _QUERY_TIMEOUT)
    except TargetError:
        return exe
    real = os.fsdecode(out.stdout).strip()
    if real and os.path.isabs(real) and os.path.isfile(real):
        return Path(real)
    return exe


def _pyenv_root() -> Path:
    root = os.environ.get("PYENV_ROOT")
    return Path(root).expanduser() if root else Path.home() / ".pyenv"


def _pyenv_version(path: Path, pyenv: Path) -> tuple[int, int, int] | None:
    """The version of an executable that lives in ``$PYENV_ROOT/versions/X.Y.Z``, by its name."""
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(pyenv / "versions"))
    except ValueError:
        return None
    m = re.fullmatch(_PYENV_NAME, rel.parts[0]) if rel.parts else None
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _is_shims_dir(entry: Path, pyenv: Path) -> bool:
    if entry.name != "shims":
        return False
    try:
        return Path(os.path.realpath(entry)).is_relative_to(os.path.realpath(pyenv))
    except OSError:
        return False


def _freethreaded_name(exe: Path, real: str) -> bool:
    """Free-threaded builds are named python3.13t; pyenv installs them as versions/3.13.0t."""
    for name in (exe.name, Path(real).name):
        m = re.fullmatch(_PATH_NAME, name, re.IGNORECASE)
        if m and m.group(3):
            return True
    return any(
        (m := re.fullmatch(_PYENV_NAME, part)) is not None and bool(m.group(4))
        for part in (*exe.parts, *Path(real).parts)
    )


def _looks_like_path(text: str) -> bool:
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in text for sep in seps) or text.startswith(("~", "."))


def _from_path(text: str, cwd: Path) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = cwd / path
    path = Path(os.path.abspath(path))
    if path.is_dir():
        exe = venv_python(path)
        if exe is None:
            raise InterpreterError(
                f"{path} is a directory without {_bin_python_name()}",
                hint="pass a Python executable or a virtual environment's directory",
            )
        return exe
    if not path.exists():
        raise InterpreterError(f"{path} does not exist", hint="pass an existing Python executable")
    return path


def _bin_python_name() -> str:
    return "Scripts\\python.exe" if os.name == "nt" else "bin/python"
