"""Build environments: throwaway venvs (no pip) holding a project's build requirements.

An isolated environment is a venv created with :func:`satchel.python.venv.create_venv` from the
target interpreter; the caller's ``install_requirements`` callback installs the requirements into
it. Environments are shared: one per (normalized, sorted requirement set, interpreter identity),
kept in the built bucket under ``_envs/<digest>/``. One process creates an environment (per-entry
flock) at its final path (venvs cannot move: their scripts name their python) and writes the
marker file ``satchel-build-env.json`` last; every use checks the marker and that the python runs,
and a broken or incomplete environment is reported once and rebuilt.

Cycles: the chain of builds in progress (``building``) carries the names of the packages being
built and ``env:<digest>`` for environments being created. Needing an environment that is itself
being created further up the chain is a build-dependency cycle (BuildError), not a deadlock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from satchel.build.backend import sanitized_environ
from satchel.cache import atomic, buckets
from satchel.cache.locks import flock
from satchel.cache.store import Cache, safe_key
from satchel.errors import BuildError, SatchelError
from satchel.python.interpreter import Interpreter
from satchel.standards.markers import MarkerUndefined, marker_holds

log = logging.getLogger("satchel.build")

MARKER = "satchel-build-env.json"
ENV_FORMAT = 1
CHECK_TIMEOUT = 60.0


class InstallRequirements(Protocol):
    """Installs build requirements into a build environment; provided by the caller.

    ``requirements`` are PEP 508 strings (markers are for ``env_python`` to evaluate);
    ``env_python`` is the environment's interpreter (install into its purelib/platlib/scripts).
    ``building`` is the chain of builds in progress: pass it unchanged to every
    :func:`satchel.build.builder.build_wheel` / ``prepare_metadata`` call made to satisfy these
    requirements (that is how cycles are detected). Raise a SatchelError on failure.
    """

    def __call__(
        self, requirements: list[str], env_python: Path, *, building: tuple[str, ...]
    ) -> None: ...


@dataclass(frozen=True)
class BuildEnv:
    """Where hooks run: ``python``; ``root`` is the venv (None when building in the target
    interpreter itself, without isolation); ``requirements`` what it was made for."""

    python: Path
    root: Path | None
    scripts_dir: Path | None
    requirements: tuple[str, ...]

    def environ(self) -> dict[str, str]:
        return sanitized_environ(self.scripts_dir, self.root)

    def missing(self, requirements: Sequence[str], markers: dict[str, str]) -> list[str]:
        """Those of ``requirements`` this environment does not satisfy (checked by asking its
        python for installed versions; requirements with extras count as missing)."""
        reqs: list[tuple[str, Requirement]] = []
        for text in requirements:
            try:
                req = Requirement(text)
            except InvalidRequirement as exc:
                raise BuildError(f"invalid build requirement {text!r}: {exc}") from None
            try:
                if req.marker is not None and not marker_holds(req.marker, markers):
                    continue
            except MarkerUndefined as exc:  # the policy of satchel.standards.markers
                raise BuildError(
                    f"cannot evaluate the marker of build requirement {text!r}: {exc}"
                ) from None
            reqs.append((text, req))
        if not reqs:
            return []
        names = sorted({r.name for _, r in reqs})
        script = (
            "import json, sys\n"
            "from importlib import metadata\n"
            "out = {}\n"
            "for n in json.loads(sys.argv[1]):\n"
            "    try: out[n] = metadata.version(n)\n"
            "    except Exception: out[n] = None\n"
            "print(json.dumps(out))\n"
        )
        try:
            proc = subprocess.run(
                [str(self.python), "-c", script, json.dumps(names)],
                env=self.environ(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT,
                check=False,
            )
            found = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {}
        except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
            found = {}
        out = []
        for text, req in reqs:
            version = found.get(req.name) if isinstance(found, dict) else None
            if (
                req.extras
                or not isinstance(version, str)
                or not req.specifier.contains(version, prereleases=True)
            ):
                out.append(text)
        return out


def normalize_requirements(requirements: Sequence[str]) -> tuple[str, ...]:
    """Sorted, de-duplicated requirements with canonical names (the environment's identity)."""
    out = set()
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise BuildError(f"invalid build requirement {text!r}: {exc}") from None
        name = canonicalize_name(req.name)
        extras = (
            f"[{','.join(sorted(canonicalize_name(e) for e in req.extras))}]" if req.extras else ""
        )
        spec = ",".join(sorted(str(s) for s in req.specifier))
        url = f" @ {req.url}" if req.url else ""
        marker = f" ; {req.marker}" if req.marker is not None else ""
        out.add(f"{name}{extras}{spec}{url}{marker}")
    return tuple(sorted(out))


def interpreter_identity(interpreter: Interpreter) -> dict[str, object]:
    """What makes an environment made from ``interpreter`` valid: its base executable's real path,
    size and mtime (an upgraded Python gets new environments), version and first tag."""
    from satchel.python.cached import identity_of

    base = interpreter.base_executable or os.path.realpath(interpreter.executable)
    try:
        ident = identity_of(base)
        size, mtime = ident.size, ident.mtime_ns
        base = ident.real_executable
    except SatchelError:
        size, mtime = -1, -1
    return {
        "executable": base,
        "size": size,
        "mtime_ns": mtime,
        "version": list(interpreter.version),
        "implementation": interpreter.implementation,
        "tag": interpreter.tags[0] if interpreter.tags else "",
    }


def env_key(
    requirements: tuple[str, ...], interpreter: Interpreter, constraints: tuple[str, ...] = ()
) -> str:
    ident: dict[str, object] = {
        "format": ENV_FORMAT,
        "requirements": list(requirements),
        "python": interpreter_identity(interpreter),
    }
    if constraints:  # (absent otherwise: environments made before build constraints keep their key)
        ident["constraints"] = list(constraints)
    return safe_key(json.dumps(ident, sort_keys=True), 24)


def target_env(interpreter: Interpreter) -> BuildEnv:
    """No isolation: hooks run in the target interpreter, with whatever it has installed."""
    exe = Path(interpreter.executable)
    scripts = interpreter.paths.get("scripts")
    return BuildEnv(exe, None, Path(scripts) if scripts else exe.parent, ())


def _cycle_error(chain: Sequence[str], name: str, requirements: Sequence[str]) -> BuildError:
    names = [c for c in chain if not c.startswith(("env:", "src:"))]
    shown = " -> ".join([*names, name]) if names else name
    return BuildError(
        f"build dependency cycle: {shown} (installing the build requirements "
        f"{', '.join(requirements)} needs a build environment that is itself being prepared)",
        hint="one of these packages must be available as a wheel to break the cycle",
    )


def get_build_env(
    *,
    cache: Cache,
    interpreter: Interpreter,
    requirements: Sequence[str],
    install_requirements: InstallRequirements | None,
    building: tuple[str, ...],
    package: str,
    constraints: Sequence[str] = (),
) -> BuildEnv:
    """An isolated environment holding ``requirements`` for ``interpreter``: reused from the
    cache when a complete, working one exists, else created (once across processes).
    ``constraints`` (build constraints the callback applies) are part of its identity."""
    reqs = normalize_requirements(requirements)
    constrained = normalize_requirements(constraints) if constraints else ()
    key = env_key(reqs, interpreter, constrained)
    if f"env:{key}" in building:
        raise _cycle_error(building, package, reqs)
    expected: dict[str, object] = {
        "format": ENV_FORMAT,
        "requirements": list(reqs),
        "python": interpreter_identity(interpreter),
    }
    if constrained:
        expected["constraints"] = list(constrained)
    rel = f"_envs/{key}"
    for root in cache.read_roots():
        env = _existing(root / buckets.BUILT.dirname / rel, expected, reqs)
        if env is not None:
            log.debug("%s: reusing build environment %s", package, env.root)
            return env
    for attempt in range(2):
        path = cache.bucket_dir(buckets.BUILT) / rel
        try:
            with flock(path.parent / f"{key}.lock", timeout=cache.lock_timeout):
                env = _existing(path, expected, reqs, cache=cache)
                if env is not None:
                    return env
                return _create(
                    path,
                    cache=cache,
                    interpreter=interpreter,
                    requirements=reqs,
                    expected=expected,
                    install_requirements=install_requirements,
                    building=(*building, f"env:{key}"),
                    package=package,
                )
        except OSError as exc:
            if attempt or exc.errno is None:
                raise BuildError(
                    f"{package}: cannot create a build environment in {path}: {exc.strerror or exc}"
                ) from None
            cache.write_failed(exc)
    raise AssertionError("unreachable")


def _python_of(root: Path) -> Path:
    return root / "bin" / "python"


def _existing(
    root: Path, expected: dict[str, object], reqs: tuple[str, ...], *, cache: Cache | None = None
) -> BuildEnv | None:
    """The environment at ``root`` if complete and working. With ``cache`` (called under the
    entry lock), a broken or incomplete one is reported and removed."""
    marker = root / MARKER
    problem: str | None = None
    try:
        data = json.loads(marker.read_bytes())
    except FileNotFoundError:
        if cache is not None and root.exists():
            problem = "incomplete build environment (no marker)"
        else:
            return None
    except (OSError, ValueError) as exc:
        problem = f"unreadable marker ({exc})"
    else:
        if data != expected:
            problem = "marker does not match the requirements and interpreter"
    if problem is None:
        python = _python_of(root)
        try:
            proc = subprocess.run(
                [str(python), "-c", "import sys"],
                env=sanitized_environ(None, None),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=CHECK_TIMEOUT,
                check=False,
            )
            if proc.returncode != 0:
                problem = f"its python exits with status {proc.returncode}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"its python does not run ({exc})"
    if problem is None:
        return BuildEnv(_python_of(root), root, root / "bin", reqs)
    if cache is not None:
        cache.warn_entry(root, problem)
        if not cache.read_only or not root.is_relative_to(cache.root):
            with contextlib.suppress(OSError):
                atomic.discard(root)
    return None


def _create(
    path: Path,
    *,
    cache: Cache,
    interpreter: Interpreter,
    requirements: tuple[str, ...],
    expected: dict[str, object],
    install_requirements: InstallRequirements | None,
    building: tuple[str, ...],
    package: str,
) -> BuildEnv:
    from satchel.python.venv import create_venv

    if path.exists() or path.is_symlink():
        atomic.discard(path)
    log.info(
        "%s: creating a build environment with %s", package, ", ".join(requirements) or "nothing"
    )
    try:
        python = create_venv(path, Path(interpreter.executable), cache=cache)
        if requirements:
            if install_requirements is None:
                raise BuildError(
                    f"{package}: cannot install the build requirements {', '.join(requirements)}: "
                    "no installer was given"
                )
            try:
                install_requirements(list(requirements), python, building=building)
            except BuildError:
                raise
            except SatchelError as exc:
                raise BuildError(
                    f"{package}: cannot install the build requirements "
                    f"{', '.join(requirements)}: {exc.message}",
                    hint=exc.hint,
                ) from None
        atomic.write_bytes(path / MARKER, json.dumps(expected, sort_keys=True).encode())
    except BaseException:
        with contextlib.suppress(OSError):
            atomic.discard(path)
        raise
    return BuildEnv(python, path, python.parent, requirements)
