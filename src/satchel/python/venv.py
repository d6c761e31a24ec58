"""Creating virtual environments quickly, without pip and without running ``python -m venv``.

A venv is a directory with a ``pyvenv.cfg`` naming the base interpreter's directory (``home``),
``bin/python*`` links to the base interpreter, and an empty site-packages where that interpreter's
``site`` looks for one. Everything needed is in the base interpreter's probe facts, so creating a
venv runs no subprocess when those are cached and at most one probe otherwise.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path, PurePosixPath

from satchel.cache.store import Cache
from satchel.errors import InterpreterError
from satchel.python.cached import get_facts
from satchel.python.facts import ProbeFacts

_ACTIVATE = """\
# Created by satchel. Use with `source bin/activate` from bash or zsh; it cannot be run directly.

deactivate () {
    if [ -n "${_OLD_VIRTUAL_PATH:-}" ] ; then
        PATH="${_OLD_VIRTUAL_PATH:-}"
        export PATH
        unset _OLD_VIRTUAL_PATH
    fi
    if [ -n "${_OLD_VIRTUAL_PYTHONHOME:-}" ] ; then
        PYTHONHOME="${_OLD_VIRTUAL_PYTHONHOME:-}"
        export PYTHONHOME
        unset _OLD_VIRTUAL_PYTHONHOME
    fi
    if [ -n "${_OLD_VIRTUAL_PS1+set}" ] ; then
        PS1="${_OLD_VIRTUAL_PS1}"
        export PS1
        unset _OLD_VIRTUAL_PS1
    fi
    unset VIRTUAL_ENV
    unset VIRTUAL_ENV_PROMPT
    hash -r 2> /dev/null
    if [ ! "${1:-}" = "nondestructive" ] ; then
        unset -f deactivate
    fi
}

# Leave any other environment first.
deactivate nondestructive

VIRTUAL_ENV=__VENV_DIR__
export VIRTUAL_ENV
VIRTUAL_ENV_PROMPT=__VENV_PROMPT__
export VIRTUAL_ENV_PROMPT

_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/__BIN__:$PATH"
export PATH

if [ -n "${PYTHONHOME:-}" ] ; then
    _OLD_VIRTUAL_PYTHONHOME="${PYTHONHOME:-}"
    unset PYTHONHOME
fi

if [ -z "${VIRTUAL_ENV_DISABLE_PROMPT:-}" ] ; then
    _OLD_VIRTUAL_PS1="${PS1:-}"
    PS1="(${VIRTUAL_ENV_PROMPT}) ${PS1:-}"
    export PS1
fi

hash -r 2> /dev/null
"""

_ACTIVATE_FISH = """\
# Created by satchel. Use with `source bin/activate.fish` from fish.

function deactivate -d "Leave the virtual environment"
    if set -q _OLD_VIRTUAL_PATH
        set -gx PATH $_OLD_VIRTUAL_PATH
        set -e _OLD_VIRTUAL_PATH
    end
    if set -q _OLD_VIRTUAL_PYTHONHOME
        set -gx PYTHONHOME $_OLD_VIRTUAL_PYTHONHOME
        set -e _OLD_VIRTUAL_PYTHONHOME
    end
    if set -q _OLD_FISH_PROMPT_OVERRIDE
        set -e _OLD_FISH_PROMPT_OVERRIDE
        if functions -q _old_fish_prompt
            functions -e fish_prompt
            functions -c _old_fish_prompt fish_prompt
            functions -e _old_fish_prompt
        end
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != "nondestructive"
        functions -e deactivate
    end
end

deactivate nondestructive

set -gx VIRTUAL_ENV __VENV_DIR__
set -gx VIRTUAL_ENV_PROMPT __VENV_PROMPT__
set -gx _OLD_VIRTUAL_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/__BIN__" $PATH

if set -q PYTHONHOME
    set -gx _OLD_VIRTUAL_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end

if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"
    functions -c fish_prompt _old_fish_prompt
    function fish_prompt
        set -l old_status $status
        printf "(%s) " $VIRTUAL_ENV_PROMPT
        echo "exit $old_status" | .
        _old_fish_prompt
    end
    set -gx _OLD_FISH_PROMPT_OVERRIDE "$VIRTUAL_ENV"
end
"""


def create_venv(
    path: Path,
    interpreter_executable: Path,
    *,
    prompt: str | None = None,
    clear: bool = False,
    force: bool = False,
    system_site_packages: bool = False,
    cache: Cache | None = None,
) -> Path:
    """Create a virtual environment at ``path`` for the Python ``interpreter_executable`` (itself
    possibly a venv's python: its base interpreter is used). Returns the new venv's python.

    An existing venv at ``path`` (a directory with a ``pyvenv.cfg``) is an error unless
    ``clear``: then it is replaced. An existing non-empty directory that is not a venv is an
    error, unless both ``clear`` and ``force`` (as uv's ``--clear --force``): then its contents
    are removed. Nothing ever empties the
    file system's root or the user's home directory. With ``system_site_packages`` the venv
    also sees the base interpreter's site-packages (``python -m venv``'s option). Raises
    InterpreterError.
    """
    if os.name == "nt":
        raise InterpreterError("creating virtual environments on Windows is not supported yet")
    facts = get_facts(interpreter_executable, cache)
    base = facts.base_executable
    if not base or not os.path.isfile(base):
        raise InterpreterError(
            f"cannot create a venv from {interpreter_executable}: "
            f"its base interpreter {base or '(unknown)'} does not exist"
        )
    venv = Path(os.path.abspath(path))
    layout = _layout(facts)
    _prepare_dir(venv, clear=clear, force=force)
    if prompt == ".":
        prompt = Path.cwd().name
    try:
        _populate(venv, facts, layout, prompt, system_site_packages)
    except OSError as exc:
        raise InterpreterError(
            f"cannot create the venv at {venv}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
        ) from None
    return venv / layout["scripts"] / "python"


def _layout(facts: ProbeFacts) -> dict[str, str]:
    """The venv's site-packages and scripts directories relative to its root, checked."""
    layout = dict(facts.venv_layout)
    layout.setdefault("scripts", "bin")
    for key in ("purelib", "platlib", "scripts"):
        rel = layout.get(key)
        if rel is None:
            raise InterpreterError(f"cannot create a venv: the interpreter reports no {key} layout")
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise InterpreterError(f"cannot create a venv: unexpected {key} layout {rel!r}")
    return layout


def protected_reason(path: Path) -> str | None:
    """Why the directory ``path`` may never be emptied to make a venv there (the file system's
    root, the user's home directory, as they are after symlinks), or None."""
    real = os.path.realpath(path)
    if real == os.path.realpath(os.sep):
        return "it is the root of the file system"
    home = os.environ.get("HOME") or os.path.expanduser("~")
    if home and home != "~" and real == os.path.realpath(home):
        return "it is your home directory"
    return None


def _prepare_dir(venv: Path, *, clear: bool, force: bool = False) -> None:
    if venv.is_symlink() and not venv.exists():
        raise InterpreterError(f"cannot create a venv at {venv}: it is a dangling symlink")
    if venv.exists() and not venv.is_dir():
        raise InterpreterError(f"cannot create a venv at {venv}: it exists and is not a directory")
    if not venv.exists():
        try:
            venv.mkdir(parents=True)
        except OSError as exc:
            raise InterpreterError(f"cannot create {venv}: {exc.strerror or exc}") from None
        return
    try:
        entries = list(venv.iterdir())
    except OSError as exc:
        raise InterpreterError(f"cannot read {venv}: {exc.strerror or exc}") from None
    if not entries:
        return
    protected = protected_reason(venv)
    if protected is not None:  # (whatever it holds: a pyvenv.cfg there is no licence to empty it)
        raise InterpreterError(
            f"cannot create a venv at {venv}: {protected}, and satchel never empties it",
            hint="pick a directory of its own, such as .venv",
        )
    if (venv / "pyvenv.cfg").is_file():
        if not clear:  # (uv 0.13 asks the same; python -m venv would keep what it holds)
            raise InterpreterError(
                f"{venv} is a virtual environment already",
                hint="pass --clear to replace it (what is installed there goes), or pick another path",
            )
    else:
        if not clear:
            raise InterpreterError(
                f"{venv} exists and is not a virtual environment",
                hint="pick another path (--clear --force would delete everything in it)",
            )
        if not force:
            raise InterpreterError(
                f"{venv} is not a virtual environment (no pyvenv.cfg): --clear empties only those",
                hint="pick another path, or add --force to delete everything in it",
            )
    for entry in entries:
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:
            raise InterpreterError(
                f"cannot clear {venv}: {exc.strerror or exc} ({entry})",
            ) from None


def _populate(
    venv: Path, facts: ProbeFacts, layout: dict[str, str], prompt: str | None, system_site_packages: bool
) -> None:
    major, minor, micro = facts.version_info
    base = facts.base_executable
    bin_dir = venv / layout["scripts"]
    bin_dir.mkdir(parents=True, exist_ok=True)
    for rel in {layout["purelib"], layout["platlib"]}:
        (venv / rel).mkdir(parents=True, exist_ok=True)
    if (
        facts.maxsize > 2**32
        and facts.markers.get("os_name") == "posix"
        and (facts.markers.get("sys_platform") != "darwin")
    ):
        lib64 = venv / "lib64"
        if not lib64.exists() and not lib64.is_symlink() and (venv / "lib").is_dir():
            lib64.symlink_to("lib")

    # bin/python -> the base interpreter's real executable; the other names -> python.
    (bin_dir / "python").symlink_to(base)
    names = ["python3", f"python{major}.{minor}"]
    base_name = os.path.basename(base)
    if base_name.startswith("python") and base_name not in names and base_name != "python":
        names.append(base_name)  # python3.13t
    for name in names:
        (bin_dir / name).symlink_to("python")

    cfg = [
        f"home = {os.path.dirname(base)}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
        f"version = {major}.{minor}.{micro}",
        f"executable = {base}",
        "command = satchel venv"
        + (" --system-site-packages" if system_site_packages else "")
        + f" --python {shlex.quote(base)} {shlex.quote(str(venv))}",
    ]
    if prompt is not None:
        cfg.append(f"prompt = {prompt}")
    _write(venv / "pyvenv.cfg", "\n".join(cfg) + "\n")

    shown = prompt if prompt is not None else venv.name
    for name, template in (("activate", _ACTIVATE), ("activate.fish", _ACTIVATE_FISH)):
        text = (
            template.replace("__VENV_DIR__", shlex.quote(str(venv)))
            .replace("__VENV_PROMPT__", shlex.quote(shown))
            .replace("__BIN__", layout["scripts"])
        )
        _write(bin_dir / name, text)
    _write(venv / ".gitignore", "*\n")


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
