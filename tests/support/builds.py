"""Shared helpers for the build tests (no tests here; import the ``*_fixture`` functions to use
the fixtures ``backend_wheels``, ``cache``, ``interpreter``): the real backends' wheels, downloaded once
per session; installer doubles for the ``install_requirements`` callback; a tiny in-tree backend
with switches (fail, sleep, count, record the environment) for fast tests without downloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from satchel.build import BuildRequest, Source, build_wheel
from satchel.cache.store import Cache
from satchel.python.cached import get_interpreter
from satchel.python.interpreter import Interpreter
from tests.support.wheels import write_sdist

# editables: what hatchling's get_requires_for_build_editable asks for.
BACKENDS = ("setuptools", "wheel", "flit_core", "hatchling", "editables")


def _pip_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="session", name="backend_wheels")
def backend_wheels_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """setuptools, wheel, flit_core, hatchling, editables (and dependencies) as wheels, fetched once
    per session from the registry pip is configured with. Skips the test when that fails."""
    dest = tmp_path_factory.mktemp("backend-wheels")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--only-binary",
                ":all:",
                "-d",
                str(dest),
                *BACKENDS,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot download the build backends' wheels with pip: {exc}")
    if proc.returncode != 0 or not any(dest.glob("setuptools-*.whl")):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download the build backends' wheels with pip: {last}")
    return dest


class PipInstaller:
    """``install_requirements`` double: pip installs from a local wheel directory, offline.
    Records every call."""

    def __init__(self, wheels: Path) -> None:
        self.wheels = wheels
        self.calls: list[tuple[list[str], Path, tuple[str, ...]]] = []

    def __call__(
        self, requirements: list[str], env_python: Path, *, building: tuple[str, ...]
    ) -> None:
        self.calls.append((list(requirements), env_python, building))
        self.pip_install(env_python, requirements)

    def pip_install(self, env_python: Path, args: list[str]) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(env_python),
                "install",
                "-q",
                "--no-index",
                "--find-links",
                str(self.wheels),
                *args,
            ],
            check=True,
            env=_pip_environ(),
            capture_output=True,
        )


class RecursiveInstaller(PipInstaller):
    """Like satchel's own installer will be: requirements naming a known local source are built
    with build_wheel (passing ``building`` down), the rest come from the wheel directory."""

    def __init__(
        self,
        wheels: Path,
        cache: Cache,
        interpreter: Interpreter,
        sources: dict[str, Source],
        log_dir: Path,
    ) -> None:
        super().__init__(wheels)
        self.cache = cache
        self.interpreter = interpreter
        self.sources = sources
        self.log_dir = log_dir

    def __call__(
        self, requirements: list[str], env_python: Path, *, building: tuple[str, ...]
    ) -> None:
        self.calls.append((list(requirements), env_python, building))
        args = []
        for text in requirements:
            name = canonicalize_name(Requirement(text).name)
            if name in self.sources:
                built = build_wheel(BuildRequest(
                    self.sources[name],
                    self.interpreter,
                    cache=self.cache,
                    install_requirements=self,
                    building=building,
                    log_dir=self.log_dir,
                ))
                args.append(str(built.path))
            else:
                args.append(text)
        self.pip_install(env_python, args)


@pytest.fixture(name="cache")
def cache_fixture(tmp_path: Path) -> Iterator[Cache]:
    c = Cache(tmp_path / "cache")
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(name="interpreter")
def interpreter_fixture(cache: Cache) -> Interpreter:
    """The running test interpreter (a venv) as a build target."""
    return get_interpreter(Path(sys.executable), cache)


# -- an in-tree backend --------------------------------------------------------------------------

INTREE_BACKEND = '''
"""A minimal PEP 517 backend for tests, configured by backend.json in the project directory."""
import base64, hashlib, json, os, sys, time, zipfile

with open("backend.json") as _fh:
    CFG = json.load(_fh)
NAME, VERSION = CFG["name"], CFG["version"]
DIST = NAME.replace("-", "_")


def _note(event, **extra):
    path = CFG.get("events")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"event": event, "pid": os.getpid(), **extra}) + "\\n")


def get_requires_for_build_wheel(config_settings=None):
    return list(CFG.get("extra_requires", []))


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + VERSION]
    lines += ["Requires-Dist: " + r for r in CFG.get("requires_dist", [])]
    return "\\n".join(lines) + "\\n\\n"


if CFG.get("metadata_hook", True):
    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        _note("prepare_metadata")
        d = os.path.join(metadata_directory, f"{DIST}-{VERSION}.dist-info")
        os.makedirs(d)
        with open(os.path.join(d, "METADATA"), "w") as fh:
            fh.write(_metadata())
        return os.path.basename(d)


def _record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _write_wheel(wheel_directory, files, tag="py3-none-any"):
    di = f"{DIST}-{VERSION}.dist-info"
    members = dict(files)
    members[f"{di}/METADATA"] = _metadata().encode()
    members[f"{di}/WHEEL"] = f"Wheel-Version: 1.0\\nGenerator: intree\\nRoot-Is-Purelib: true\\nTag: {tag}\\n".encode()
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\\n" for p, d in members.items()) + f"{di}/RECORD,,\\n"
    members[f"{di}/RECORD"] = record.encode()
    filename = f"{DIST}-{VERSION}-{tag}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for p, d in members.items():
            zf.writestr(p, d)
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _note("build_wheel", config_settings=config_settings)
    if CFG.get("record_env"):
        import site
        with open(CFG["record_env"], "w") as fh:
            json.dump({
                "environ": dict(os.environ),
                "no_user_site": sys.flags.no_user_site,
                "enable_user_site": site.ENABLE_USER_SITE,
                "prefix": sys.prefix,
                "base_prefix": sys.base_prefix,
                "path": sys.path,
            }, fh)
    if CFG.get("sleep"):
        time.sleep(CFG["sleep"])
    if CFG.get("rendezvous"):
        # Wait (30 s at most) until `peers` builds have all started: only parallel builds pass.
        here = CFG["rendezvous"]
        open(os.path.join(here, NAME), "w").close()
        deadline = time.time() + 30
        while len(os.listdir(here)) < CFG.get("peers", 2):
            if time.time() > deadline:
                raise RuntimeError("the other builds never started: builds ran one at a time")
            time.sleep(0.05)
    if CFG.get("fail"):
        for i in range(40):
            print(f"compiling step {i}")
        raise RuntimeError("the build went boom")
    files = {f"{DIST}/__init__.py": f"VERSION = {VERSION!r}\\nSETTINGS = {config_settings!r}\\n".encode()}
    return _write_wheel(wheel_directory, files, CFG.get("tag", "py3-none-any"))


if CFG.get("editable"):
    def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
        _note("build_editable")
        pth = os.path.abspath(".") + "\\n"
        return _write_wheel(wheel_directory, {f"_{DIST}.pth": pth.encode()})
'''


def intree_project(
    root: Path,
    name: str,
    version: str = "1.0",
    *,
    requires: list[str] | None = None,
    **cfg: object,
) -> Path:
    """A project whose build backend lives in its own tree (``backend-path = ["."]``), so no build
    requirements need installing. ``cfg`` goes to backend.json: fail, sleep, events (path of an
    events log), record_env (path), rendezvous (a directory) and peers, editable, metadata_hook, extra_requires, tag, requires_dist."""
    root.mkdir(parents=True, exist_ok=True)
    reqs = ", ".join(json.dumps(r) for r in (requires or []))
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = [{reqs}]\nbuild-backend = "intree_backend"\nbackend-path = ["."]\n'
    )
    (root / "intree_backend.py").write_text(INTREE_BACKEND)
    (root / "backend.json").write_text(json.dumps({"name": name, "version": version, **cfg}))
    return root


def events(path: Path, kind: str | None = None) -> list[dict[str, object]]:
    if not path.exists():
        return []
    out = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in out if kind is None or e["event"] == kind]


def setuptools_project(
    root: Path,
    name: str,
    *,
    setup_py: str | None = None,
    files: dict[str, str] | None = None,
    pyproject: bool = True,
) -> Path:
    """A setuptools project directory: pyproject.toml with [build-system] (unless ``pyproject``
    is False: then setup.py only), a setup.py, and ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    pkg = name.replace("-", "_")
    if pyproject:
        (root / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=40.8.0"]\nbuild-backend = "setuptools.build_meta"\n'
        )
    (root / "setup.py").write_text(
        setup_py
        or textwrap.dedent(
            f"""
            from setuptools import setup
            setup(name={name!r}, version="1.0", packages=[{pkg!r}])
            """
        )
    )
    for rel, text in (files or {pkg + "/__init__.py": "VALUE = 1\n"}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def built_entries(cache: Cache, name: str) -> list[Path]:
    """Every complete entry (a directory with a manifest) under the package's built directory."""
    base = cache.root / "built-v1" / name
    return sorted(p.parent for p in base.rglob("manifest")) if base.exists() else []


def temp_litter(cache: Cache) -> list[Path]:
    base = cache.root / "built-v1"
    return [p for p in base.rglob(".tmp-*")] if base.exists() else []


_C_SOURCE = """
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""


def _c_project(root: Path) -> Path:
    return setuptools_project(
        root,
        "cext-demo",
        setup_py=textwrap.dedent(
            """
            from setuptools import Extension, setup
            setup(
                name="cext-demo",
                version="1.0",
                packages=["cext_demo"],
                ext_modules=[Extension("cext_demo._speed", ["cext_demo/_speed.c"])],
            )
            """
        ),
        files={"cext_demo/__init__.py": "", "cext_demo/_speed.c": _C_SOURCE},
    )


def builds_in(result_text: str) -> list[str]:
    return [line for line in result_text.splitlines() if line.startswith("Building ")]


def intree_sdist(dest: Path, name: str, version: str = "1.0", *, requires: list[str] | None = None, **cfg: object) -> Path:
    """An sdist of an in-tree-backend project (no build requirements unless ``requires``)."""
    dist = name.replace("-", "_")
    base = f"{dist}-{version}"
    reqs = ", ".join(json.dumps(r) for r in (requires or []))
    members = {
        "pyproject.toml": f'[build-system]\nrequires = [{reqs}]\nbuild-backend = "intree_backend"\nbackend-path = ["."]\n',
        "intree_backend.py": INTREE_BACKEND,
        "backend.json": json.dumps({"name": name, "version": version, **cfg}),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    return write_sdist(dest, base, members)


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity and nothing of the user's configuration."""
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(repo.parent), "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
