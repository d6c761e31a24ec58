"""Install schemes other than the environment's own: ``--prefix DIR``, ``--user`` and
``--root DIR``, computed as pip computes them (``pip._internal.locations``, its sysconfig
branch), by running that computation inside the target interpreter."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from satchel.errors import InterpreterError

#: Runs in the target (Python 3.8+): pip's ``get_scheme`` for a prefix or the user scheme.
_SCRIPT = r"""
import json, os, site, sys, sysconfig
kind, prefix = sys.argv[1], sys.argv[2] or None
names = sysconfig.get_scheme_names()

def infer(key):
    if hasattr(sysconfig, "get_preferred_scheme"):
        return sysconfig.get_preferred_scheme(key)
    if key == "user":
        return os.name + "_user" if os.name + "_user" in names else "posix_user"
    for name in (sys.implementation.name + "_" + os.name, sys.implementation.name, os.name + "_prefix", os.name):
        if name in names:
            return name
    return "posix_prefix"

scheme = infer("user" if kind == "user" else "prefix")
if prefix is not None and scheme == "osx_framework_library":
    scheme = "posix_prefix"
variables = {}
if prefix is not None:
    keys = ["installed_base", "base", "installed_platbase", "platbase", "prefix", "exec_prefix"]
    if sysconfig.get_config_var("userbase") is not None:
        keys.append("userbase")
    variables = {k: prefix for k in keys}
paths = sysconfig.get_paths(scheme=scheme, vars=variables)
in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix) or hasattr(sys, "real_prefix")
include = paths["include"]
if in_venv:
    base = variables.get("userbase" if kind == "user" else "base", sys.prefix)
    include = os.path.join(base, "include", "site", "python%d.%d" % sys.version_info[:2])
no_global = False
if in_venv:
    try:
        with open(os.path.join(sys.prefix, "pyvenv.cfg"), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        lines = []
    no_global = True
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() == "include-system-site-packages" and value.strip().lower() == "true":
            no_global = False
print(json.dumps({
    "purelib": paths["purelib"], "platlib": paths["platlib"], "scripts": paths["scripts"],
    "data": paths["data"], "headers": include,
    "user_site_enabled": bool(site.ENABLE_USER_SITE), "venv_without_global": no_global,
}))
"""


@dataclass(frozen=True)
class Scheme:
    """Where a wheel's parts go (``headers`` without the distribution's name, like
    :attr:`satchel.python.interpreter.Interpreter.paths`), and what the target says about its
    user site."""

    paths: dict[str, str]
    user_site_enabled: bool = True
    venv_without_global: bool = False


def scheme_of(executable: str, *, prefix: Path | None = None, user: bool = False) -> Scheme:
    """The scheme for ``--prefix DIR`` or ``--user`` in the target interpreter."""
    kind = "user" if user else "prefix"
    try:
        proc = subprocess.run(
            [executable, "-c", _SCRIPT, kind, str(prefix) if prefix is not None else ""],
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(f"cannot run {executable} to compute the install scheme: {exc}") from None
    if proc.returncode != 0:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise InterpreterError(f"{executable}: computing the {kind} install scheme failed: {last}")
    data = json.loads(proc.stdout)
    paths = {k: str(data[k]) for k in ("purelib", "platlib", "scripts", "data", "headers")}
    return Scheme(paths, bool(data["user_site_enabled"]), bool(data["venv_without_global"]))


def change_root(root: Path, path: str) -> str:
    """``path`` moved under ``root``, as pip's (distutils') ``change_root`` does."""
    if os.name == "nt":
        _, rest = os.path.splitdrive(path)
        return os.path.join(root, rest.lstrip("\\/"))
    return os.path.join(root, path[1:] if os.path.isabs(path) else path)


def rooted(paths: dict[str, str], root: Path) -> dict[str, str]:
    return {key: change_root(root, value) for key, value in paths.items()}
