"""packse resolver scenarios (uv's conformance data) as packages on the local test index.

A scenario TOML (``tests/data/packse/<category>/<name>.toml``, see its README.md)
describes packages (``[packages.<name>.versions."<version>"]`` with ``requires``,
``requires_python``, ``extras``, ``sdist``, ``wheel``, ``wheel_tags``, ``yanked``), what the root
requires (``[root]``), resolver options, the environment's Python and the ``[expected]`` outcome.
:func:`load_scenarios` reads them; :func:`publish_scenario` builds every distribution with
zipfile/tarfile (tests/support/wheels.py) and publishes it on an :class:`IndexServer`.

What is built follows packse's own defaults (packse/scenario.py, packse/build.py):

* every version gets an sdist and a ``py3-none-any`` wheel unless ``sdist``/``wheel`` is false;
* ``wheel_tags`` replaces the ``py3-none-any`` wheel by one copy per tag (``py3-none-any`` kept
  only when listed);
* ``requires_python`` defaults to ``>=3.12`` (so is the environment's Python);
* a yanked version has all its files yanked;
* extras become ``Provides-Extra`` plus ``Requires-Dist: ... ; extra == "x"``.

Sdists carry complete static metadata (``PKG-INFO`` 2.2) and an in-tree PEP 517 backend that
needs no build requirements (``backend-path``), so building one works offline.

Built files are cached per session in a directory keyed by their content (a scenario's
``a 1.0.0`` is the same bytes as another's); publishing hardlinks them into the index directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.cli import PYENV, REPO
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist, build_wheel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCENARIOS_DIR = Path(os.environ.get("SATCHEL_PACKSE_DIR", REPO / "tests" / "data" / "packse"))

DEFAULT_REQUIRES_PYTHON = ">=3.12"  # packse's PackageMetadata.requires_python default
DEFAULT_PYTHON = "3.12"  # packse's EnvironmentMetadata.python default
DEFAULT_TAG = "py3-none-any"


@dataclass(frozen=True)
class VersionSpec:
    """One version of a scenario package (``[packages.<name>.versions."<version>"]``)."""

    version: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = DEFAULT_REQUIRES_PYTHON
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sdist: bool = True
    wheel: bool = True
    yanked: bool = False
    wheel_tags: tuple[str, ...] = ()

    @property
    def tags(self) -> tuple[str, ...]:
        """Tags of the wheels published for this version (none when ``wheel`` is false)."""
        if not self.wheel:
            return ()
        return self.wheel_tags or (DEFAULT_TAG,)


@dataclass(frozen=True)
class Outcome:
    """An expected result: satisfiable or not, and (when given) the exact versions installed."""

    satisfiable: bool
    packages: Mapping[str, str] = field(default_factory=dict)  # normalized name -> version

    def describe(self) -> str:
        if not self.satisfiable:
            return "unsatisfiable"
        if not self.packages:
            return "satisfiable"
        return "satisfiable: " + ", ".join(f"{n}=={v}" for n, v in sorted(self.packages.items()))


@dataclass(frozen=True)
class ResolverOptions:
    """``[resolver_options]``."""

    python: str | None = None  # resolve for another Python than the environment's
    prereleases: bool = False  # --pre
    no_binary: tuple[str, ...] = ()  # --no-binary
    no_build: tuple[str, ...] = ()  # --only-binary
    universal: bool = False  # a cross-platform lock (forked resolution)
    python_platform: str | None = None  # resolve for another platform
    required_environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    description: str
    root_requires: tuple[str, ...]
    root_requires_python: str | None
    packages: Mapping[str, tuple[VersionSpec, ...]]  # normalized name -> versions
    expected: Outcome
    explanation: str | None
    python: str  # [environment] python
    additional_python: tuple[str, ...]
    options: ResolverOptions

    @property
    def category(self) -> str:
        return self.path.parent.name

    def has_markers(self) -> bool:
        """Whether any requirement (root or package, extras included) carries a marker."""
        reqs = list(self.root_requires)
        for versions in self.packages.values():
            for v in versions:
                reqs += v.requires
                for extra in v.extras.values():
                    reqs += extra
        return any(Requirement(r).marker is not None for r in reqs)

    def cli_args(self) -> list[str]:
        """``satchel install`` arguments for the root requirements and resolver options."""
        args = list(self.root_requires)
        if self.options.prereleases:
            args.append("--pre")
        if self.options.no_binary:
            args += ["--no-binary", ",".join(self.options.no_binary)]
        if self.options.no_build:
            args += ["--only-binary", ",".join(self.options.no_build)]
        return args


def load_scenario(path: Path) -> Scenario:
    data = tomllib.loads(path.read_text())
    packages: dict[str, tuple[VersionSpec, ...]] = {}
    for raw_name, package in (data.get("packages") or {}).items():
        versions = []
        for version, meta in (package.get("versions") or {}).items():
            meta = meta or {}
            versions.append(
                VersionSpec(
                    version=version,
                    requires=tuple(meta.get("requires", ())),
                    requires_python=meta.get("requires_python", DEFAULT_REQUIRES_PYTHON),
                    extras={k: tuple(v) for k, v in (meta.get("extras") or {}).items()},
                    sdist=meta.get("sdist", True),
                    wheel=meta.get("wheel", True),
                    yanked=meta.get("yanked", False),
                    wheel_tags=tuple(meta.get("wheel_tags", ())),
                )
            )
        packages[canonicalize_name(raw_name)] = tuple(versions)
    expected = data["expected"]
    root = data.get("root") or {}
    env = data.get("environment") or {}
    opts = data.get("resolver_options") or {}
    return Scenario(
        name=data["name"],
        path=path,
        description=(data.get("description") or "").strip(),
        root_requires=tuple(root.get("requires", ())),
        root_requires_python=root.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        packages=packages,
        expected=Outcome(
            bool(expected["satisfiable"]),
            {canonicalize_name(k): v for k, v in (expected.get("packages") or {}).items()},
        ),
        explanation=expected.get("explanation"),
        python=str(env.get("python", DEFAULT_PYTHON)),
        additional_python=tuple(env.get("additional_python", ())),
        options=ResolverOptions(
            python=opts.get("python"),
            prereleases=bool(opts.get("prereleases", False)),
            no_binary=tuple(opts.get("no_binary", ())),
            no_build=tuple(opts.get("no_build", ())),
            universal=bool(opts.get("universal", False)),
            python_platform=opts.get("python_platform"),
            required_environments=tuple(opts.get("required_environments") or ()),
        ),
    )


def load_scenarios(directory: Path = SCENARIOS_DIR) -> list[Scenario]:
    """Every ``*.toml`` scenario under ``directory``, sorted by name (empty if it is missing)."""
    if not directory.is_dir():
        return []
    return sorted((load_scenario(p) for p in directory.glob("*/*.toml")), key=lambda s: s.name)


def find_python(version: str) -> Path | None:
    """A pyenv CPython for ``version``: ``X.Y`` is the newest ``X.Y.*``; ``X.Y.Z`` exactly that."""
    parts = version.split(".")
    if len(parts) >= 3:
        exe = PYENV / version / "bin" / "python3"
        return exe if exe.exists() else None
    found = sorted(
        (p for p in PYENV.glob(f"{version}.*") if (p / "bin" / "python3").exists() and p.name.count(".") == 2),
        key=lambda p: tuple(int(x) if x.isdigit() else -1 for x in p.name.split(".")),
    )
    return found[-1] / "bin" / "python3" if found else None


# -- building ------------------------------------------------------------------------------------


def _wheel_spec(name: str, v: VersionSpec, tag: str = DEFAULT_TAG) -> WheelSpec:
    return WheelSpec(
        name,
        str(Version(v.version)),
        tag=tag,
        requires=list(v.requires),
        requires_python=v.requires_python,
        extras={k: list(reqs) for k, reqs in v.extras.items()},
    )


BACKEND = '''\
"""A PEP 517 backend with no build requirements: the wheel is this sdist's package plus PKG-INFO."""

import base64
import hashlib
import os
import zipfile

NAME = {name!r}
VERSION = {version!r}
DIST = {dist!r}


def _metadata():
    with open("PKG-INFO", encoding="utf-8") as fh:
        return fh.read()


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = DIST + "-" + VERSION + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w", encoding="utf-8") as fh:
        fh.write(_metadata())
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist_info = DIST + "-" + VERSION + ".dist-info"
    members = []
    for root, _dirs, files in os.walk(DIST):
        for f in sorted(files):
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                members.append((path.replace(os.sep, "/"), fh.read()))
    members.append((dist_info + "/METADATA", _metadata().encode()))
    wheel = "Wheel-Version: 1.0\\nGenerator: packse-test-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    members.append((dist_info + "/WHEEL", wheel.encode()))
    record = "".join("%s,%s,%d\\n" % (p, _record_hash(d), len(d)) for p, d in members)
    record += dist_info + "/RECORD,,\\n"
    members.append((dist_info + "/RECORD", record.encode()))
    filename = DIST + "-" + VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in members:
            zf.writestr(path, data)
    return filename
'''


def _build_sdist(name: str, v: VersionSpec, dest: Path) -> Path:
    spec = _wheel_spec(name, v)
    version = spec.version
    # Metadata 2.2 with no Dynamic field: the metadata is static and may be read without a build.
    pkg_info = spec.metadata_text().replace("Metadata-Version: 2.1", "Metadata-Version: 2.2", 1)
    deps = ", ".join(json.dumps(r) for r in v.requires)
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "packse_backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n'
    )
    if v.requires_python:
        pyproject += f"requires-python = {json.dumps(v.requires_python)}\n"
    if v.extras:
        pyproject += "\n[project.optional-dependencies]\n" + "".join(
            f"{json.dumps(extra)} = [{', '.join(json.dumps(r) for r in reqs)}]\n"
            for extra, reqs in v.extras.items()
        )
    backend = BACKEND.format(name=name, version=version, dist=spec.dist_name)
    return build_sdist(
        name,
        version,
        dest,
        files={
            "pyproject.toml": pyproject,
            "PKG-INFO": pkg_info,
            "packse_backend.py": backend,
        },
    )


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


class DistCache:
    """Built wheels and sdists by content, so each distinct distribution is built once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _get(self, key: str, build: Callable[[Path], Path]) -> Path:
        entry = self.root / key
        done = list(entry.glob("*")) if entry.is_dir() else []
        if len(done) == 1:
            return done[0]
        tmp = self.root / f".tmp-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        built = build(tmp)
        try:
            tmp.rename(entry)
        except OSError:  # another process built it first
            shutil.rmtree(tmp, ignore_errors=True)
            return next(entry.glob("*"))
        return entry / built.name

    def wheel(self, name: str, v: VersionSpec, tag: str) -> Path:
        spec = _wheel_spec(name, v, tag)
        return self._get(_key("wheel", spec.filename, spec.metadata_text()), lambda d: build_wheel(spec, d))

    def sdist(self, name: str, v: VersionSpec) -> Path:
        spec = _wheel_spec(name, v)
        return self._get(_key("sdist", spec.dist_name, spec.version, spec.metadata_text()),
                         lambda d: _build_sdist(name, v, d))


def scenario_files(scenario: Scenario, cache: DistCache) -> list[tuple[Path, bool]]:
    """Every distribution file of the scenario, built (or from ``cache``), with its yanked flag."""
    out = []
    for name, versions in scenario.packages.items():
        for v in versions:
            for tag in v.tags:
                out.append((cache.wheel(name, v, tag), v.yanked))
            if v.sdist:
                out.append((cache.sdist(name, v), v.yanked))
    return out


def publish_scenario(scenario: Scenario, server: IndexServer, cache: DistCache) -> list[str]:
    """Publish the scenario's distributions on ``server``; returns the published file names."""
    names = []
    for path, yanked in scenario_files(scenario, cache):
        dest = server.directory / path.name
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)
        if yanked:
            server.yank(path.name)
        names.append(path.name)
    return names


def parse_dry_run(stderr: str) -> dict[str, str]:
    """``{normalized name: version}`` from ``satchel install --dry-run``'s `` + name==version``."""
    out: dict[str, str] = {}
    for line in stderr.splitlines():
        if line.startswith(" + ") and "==" in line:
            name, _, version = line[3:].strip().partition("==")
            out[canonicalize_name(name)] = version
    return out


def same_versions(actual: Mapping[str, str], expected: Mapping[str, str]) -> bool:
    """Same names and equal versions (PEP 440 equality: ``1.0`` == ``1.0.0``)."""
    if set(actual) != set(expected):
        return False
    return all(Version(actual[n]) == Version(expected[n]) for n in expected)


def unconditional_roots(scenario: Scenario) -> Iterable[str]:
    """Normalized names of root requirements without markers (they must be in any result)."""
    for text in scenario.root_requires:
        req = Requirement(text)
        if req.marker is None:
            yield canonicalize_name(req.name)
