"""Building wheels and metadata from sources, cached exactly.

    build_wheel(BuildRequest(source, interpreter, cache, install_requirements=...)) -> BuiltWheel
    prepare_metadata(BuildRequest(source, interpreter, cache, ...)) -> CoreMetadata

A build: get the project (directory, unpacked sdist, git checkout), read ``[build-system]``, get
an environment (shared, cached; or the target itself without isolation), ask the backend for
extra requirements (``get_requires_for_build_*``; a second environment when they are missing),
then run ``prepare_metadata_for_build_*`` or ``build_*``. Results are cache entries keyed by
source, settings and interpreter (see cache.py); a build runs under the entry's lock, so two
processes asking for the same entry build it once. Nothing partial is ever left in the cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from satchel.build.backend import (
    Backend,
    BackendError,
    BuildLog,
    BuildSystem,
    HookUnsupported,
    read_build_system,
)
from satchel.build.cache import (
    BuiltWheel,
    check_metadata_tree,
    check_wheel_tree,
    discard_entry,
    entry_key,
    interpreter_key,
    lookup_metadata,
    lookup_wheel,
    settings_key,
    wheel_fits,
)
from satchel.build.env import BuildEnv, get_build_env, target_env
from satchel.build.request import BuildRequest, ConfigSettings
from satchel.build.source import project_dir
from satchel.cache import buckets
from satchel.errors import BuildError
from satchel.index.metadata import CoreMetadata, MetadataError, parse_metadata, read_wheel_metadata

log = logging.getLogger("satchel.build")

SOURCE_MARK = "src:"
ENV_MARK = "env:"



class _NoMetadataHook(Exception):
    """The backend has no prepare_metadata hook: build the wheel and read its METADATA."""


def build_wheel(request: BuildRequest) -> BuiltWheel:
    """A wheel of ``request.source`` for ``request.interpreter``: from the built-wheel cache when
    an exact entry exists (checked: hash, project, tags fit the interpreter), else built and
    stored. Raises BuildError (BackendError when a hook fails)."""
    return _Job(request).wheel()


def prepare_metadata(request: BuildRequest) -> CoreMetadata:
    """The core metadata of ``request.source`` as built for ``request.interpreter``, without
    building a wheel when the backend has ``prepare_metadata_for_build_wheel`` (else the wheel is
    built, cached, and its METADATA read). Cached like wheels; an already built wheel answers
    without running anything."""
    return _Job(request).metadata()


def _chain(building: Collection[str]) -> tuple[str, ...]:
    if isinstance(building, (tuple, list)):
        return tuple(building)
    return tuple(sorted(building))


def _check_settings(settings: ConfigSettings | None) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key, value in (settings or {}).items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            raise BuildError(f"config setting {key!r} must be a string or a list of strings")
    return out


class _Job:
    def __init__(self, request: BuildRequest) -> None:
        source, interpreter, editable = request.source, request.interpreter, request.editable
        isolated = request.build_isolation
        if editable and source.kind != "directory":
            raise BuildError(
                f"{source.describe()}: editable installs need a local project directory",
                hint="clone or unpack the project and install it with -e PATH",
            )
        self.source = source
        self.interpreter = interpreter
        self.cache = request.cache
        self.install_requirements = request.install_requirements
        self.editable = editable
        self.isolated = isolated
        self.config_settings = _check_settings(request.config_settings)
        self.building = _chain(request.building)
        self.log_dir = request.log_dir
        self.build_constraints = tuple(request.build_constraints)
        self.name: str | None = source.name
        self.source_key = source.key()
        self.settings = settings_key(
            self.config_settings,
            isolated=isolated,
            editable_path=source.location if editable else None,
            build_constraints=self.build_constraints if isolated else (),
        )
        self.interp = interpreter_key(interpreter)
        self.wheel_kind = "editable" if editable else "wheel"
        self.metadata_kind = "editable-metadata" if editable else "metadata"
        self.built = False

    # -- keys and names ------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.name or self.source.describe()

    def key(self, kind: str, *, named: bool = True) -> str:
        return entry_key(
            self.name if named else None, self.source_key, self.settings, self.interp, kind
        )

    def _check_cycle(self) -> None:
        """Building this source while it is already being built further up the chain (by name,
        or by source identity for sources whose name is not known yet) is a cycle."""
        marker = f"{SOURCE_MARK}{self.source_key}"
        if marker not in self.building and (self.name is None or self.name not in self.building):
            return
        # Each build in the chain is "<label>", "src:<key>"; environments add "env:<key>".
        if marker in self.building:
            start = max(self.building.index(marker) - 1, 0)
        else:
            start = self.building.index(str(self.name))
        labels = [c for c in self.building[start:] if not c.startswith((SOURCE_MARK, ENV_MARK))]
        cycle = " -> ".join([*labels, self.label])
        raise BuildError(
            f"build dependency cycle: {cycle}",
            hint="one of these packages must be available as a wheel to break the cycle",
        )

    @property
    def chain(self) -> tuple[str, ...]:
        """The chain passed to builds needed by this one."""
        return (*self.building, self.label, f"{SOURCE_MARK}{self.source_key}")

    def _ensure_name(self) -> str:
        if self.name is None:
            self._unnamed_metadata()
        assert self.name is not None
        return self.name

    # -- wheels --------------------------------------------------------------------------------

    def wheel(self) -> BuiltWheel:
        self._check_cycle()
        name = self._ensure_name()
        key = self.key(self.wheel_kind)
        found = lookup_wheel(self.cache, key, name, self.interpreter)
        if found is not None:
            log.debug("%s: built wheel %s from the cache", name, found.filename)
            return found
        return self._store_wheel(key, name, self._populate_wheel)

    def _store_wheel(self, key: str, name: str, populate: Callable[[Path], None]) -> BuiltWheel:
        for _attempt in range(2):
            self.built = False
            tree = self.cache.build_tree(
                buckets.BUILT, key, populate, source=f"built from {self.source.describe()}"
            )
            wheel, problem = check_wheel_tree(tree, name, self.interpreter)
            if wheel is not None:
                return dataclasses.replace(wheel, cached=not self.built)
            assert problem is not None
            discard_entry(self.cache, tree, problem)
        raise BuildError(f"{name}: the built wheel could not be stored in the cache")

    def _populate_wheel(self, dest: Path) -> None:
        self.built = True
        with tempfile.TemporaryDirectory(prefix="satchel-wheel-") as out:
            filename = self._build_into(Path(out))
            shutil.move(str(Path(out) / filename), str(dest / filename))

    def _build_into(self, out: Path) -> str:
        """Build the wheel into ``out``; returns its file name (checked)."""
        hook = "build_editable" if self.editable else "build_wheel"
        started = time.perf_counter()
        with project_dir(self.source, cache=self.cache) as project, self._log() as blog:
            backend = self._backend(project, blog)
            log.info(
                "Building %s for %s (%s)",
                "an editable wheel" if self.editable else "a wheel",
                self.label,
                backend.system.backend,
            )
            try:
                filename = backend.call(
                    hook, wheel_directory=str(out), config_settings=self.config_settings or None
                )
            except HookUnsupported:
                raise BuildError(
                    f"{self.label}: the build backend {backend.system.backend} does not support "
                    "editable installs (it has no build_editable hook, PEP 660)",
                    hint="upgrade the backend (setuptools>=64, hatchling, flit_core>=3.4, ...) "
                    "or install without -e",
                ) from None
            self._check_built(filename, out, backend)
        log.info("Built %s in %.1fs", filename, time.perf_counter() - started)
        return str(filename)

    def _check_built(self, filename: object, out: Path, backend: Backend) -> None:
        hook = "build_editable" if self.editable else "build_wheel"
        if not isinstance(filename, str) or not (out / filename).is_file():
            raise backend.error(hook, f"reported {filename!r}, which is not a file it wrote")
        try:
            wname, wversion = parse_wheel_filename(filename)[:2]
        except InvalidWheelFilename:
            raise backend.error(
                hook, f"produced {filename!r}, which is not a valid wheel file name"
            ) from None
        if self.name is not None and wname != self.name:
            raise BuildError(
                f"{self.source.describe()}: the backend built {filename}, which is not a wheel of "
                f"{self.name}"
            )
        self._check_version(wversion, filename)
        if not wheel_fits(filename, self.interpreter):
            raise BuildError(
                f"{self.label}: the backend built {filename}, whose tags the target interpreter "
                f"{self.interpreter.executable} does not support"
            )

    # -- metadata ------------------------------------------------------------------------------

    def metadata(self) -> CoreMetadata:
        self._check_cycle()
        if self.name is None:
            return self._unnamed_metadata()
        name = self.name
        wheel = lookup_wheel(self.cache, self.key(self.wheel_kind), name, self.interpreter)
        if wheel is not None:
            return self._wheel_metadata(wheel)
        key = self.key(self.metadata_kind)
        data = lookup_metadata(self.cache, key)
        if data is not None:
            return self._parse(data, check=False)
        for _attempt in range(2):
            try:
                tree = self.cache.build_tree(
                    buckets.BUILT,
                    key,
                    self._populate_metadata,
                    source=f"metadata of {self.source.describe()}",
                )
            except _NoMetadataHook:
                return self._wheel_metadata(self.wheel())
            data, problem = check_metadata_tree(tree)
            if data is not None:
                return self._parse(data, check=False)
            assert problem is not None
            discard_entry(self.cache, tree, problem)
        raise BuildError(f"{name}: the prepared metadata could not be stored in the cache")

    def _wheel_metadata(self, wheel: BuiltWheel) -> CoreMetadata:
        try:
            return read_wheel_metadata(wheel.path, wheel.filename)
        except MetadataError as exc:
            raise BuildError(f"{self.label}: {exc.message}") from None

    def _parse(self, data: bytes, *, check: bool) -> CoreMetadata:
        try:
            meta = parse_metadata(data, source=f"metadata of {self.source.describe()}")
        except MetadataError as exc:
            raise BuildError(exc.message) from None
        if check:
            self._check_metadata(meta)
        return meta

    def _check_metadata(self, meta: CoreMetadata) -> None:
        expected = self.source.name
        if expected is not None and meta.name != canonicalize_name(expected):
            raise BuildError(
                f"{self.source.describe()}: expected project {expected!r}, but its metadata names "
                f"{meta.name!r}"
            )
        self._check_version(meta.version, "its metadata")

    def _check_version(self, version: Version, what: str) -> None:
        """An sdist's build must have the version its file name says."""
        if self.source.kind != "sdist":
            return
        from satchel.index.simple import split_sdist_filename

        parsed = split_sdist_filename(self.source.location.name)
        if parsed is None:
            return
        try:
            same = Version(parsed[1]) == version
        except InvalidVersion:
            return
        if not same:
            raise BuildError(
                f"{self.source.location.name}: {what} has version {version}, not {parsed[1]}"
            )

    def _populate_metadata(self, dest: Path) -> None:
        (dest / "METADATA").write_bytes(self._prepare_metadata_bytes())

    def _prepare_metadata_bytes(self) -> bytes:
        hook = (
            "prepare_metadata_for_build_editable"
            if self.editable
            else "prepare_metadata_for_build_wheel"
        )
        with project_dir(self.source, cache=self.cache) as project, self._log() as blog:
            backend = self._backend(project, blog)
            with tempfile.TemporaryDirectory(prefix="satchel-metadata-") as md:
                try:
                    dist_info = backend.call(
                        hook,
                        metadata_directory=md,
                        config_settings=self.config_settings or None,
                        _allow_fallback=False,
                    )
                except HookUnsupported:
                    raise _NoMetadataHook() from None
                path = Path(md) / str(dist_info) / "METADATA"
                try:
                    data = path.read_bytes()
                except OSError:
                    raise backend.error(hook, f"did not write {dist_info}/METADATA") from None
            self._parse(data, check=True)
            return data

    def _unnamed_metadata(self) -> CoreMetadata:
        """Metadata of a source whose name is not declared statically: cached under
        ``_unnamed/<source key>/...``; sets ``self.name``."""
        key = self.key(self.metadata_kind, named=False)
        data = lookup_metadata(self.cache, key)
        if data is None:
            try:
                tree = self.cache.build_tree(
                    buckets.BUILT,
                    key,
                    self._populate_metadata,
                    source=f"metadata of {self.source.describe()}",
                )
            except _NoMetadataHook:
                return self._unnamed_wheel_metadata()
            data, problem = check_metadata_tree(tree)
            if data is None:
                discard_entry(self.cache, tree, problem or "unreadable")
                data = self._prepare_metadata_bytes()
        meta = self._parse(data, check=False)
        self.name = meta.name
        return meta

    def _unnamed_wheel_metadata(self) -> CoreMetadata:
        """No metadata hook and no name: build the wheel, learn the name from it, then store it
        under its named key."""
        with tempfile.TemporaryDirectory(prefix="satchel-wheel-") as out:
            filename = self._build_into(Path(out))
            self.name = str(parse_wheel_filename(filename)[0])
            built = Path(out) / filename

            def populate(dest: Path) -> None:
                shutil.copyfile(built, dest / filename)

            wheel = self._store_wheel(self.key(self.wheel_kind), self.name, populate)
        return self._wheel_metadata(wheel)

    # -- environments and the backend ----------------------------------------------------------

    @contextlib.contextmanager
    def _log(self) -> Iterator[BuildLog]:
        blog = BuildLog(self.label, self.log_dir)
        try:
            yield blog
        except BackendError:
            raise  # keep the log: the error names it
        except BaseException:
            blog.discard()
            raise
        blog.discard()

    def _env(self, requirements: tuple[str, ...]) -> BuildEnv:
        return get_build_env(
            cache=self.cache,
            interpreter=self.interpreter,
            requirements=requirements,
            install_requirements=self.install_requirements,
            building=self.chain,
            package=self.label,
            constraints=self.build_constraints,
        )

    def _backend(self, project: Path, blog: BuildLog) -> Backend:
        system = read_build_system(project, label=self.label)
        env = self._env(system.requires) if self.isolated else target_env(self.interpreter)
        backend = self._make_backend(project, system, env, blog)
        hook = (
            "get_requires_for_build_editable" if self.editable else "get_requires_for_build_wheel"
        )
        extra = backend.call(hook, config_settings=self.config_settings or None)
        if not isinstance(extra, list) or not all(isinstance(r, str) for r in extra):
            raise backend.error(hook, f"returned {extra!r}, not a list of requirement strings")
        needed = list(system.requires) if not self.isolated else []
        needed += [r for r in extra if r not in system.requires]
        missing = env.missing(needed, self.interpreter.markers) if needed else []
        if missing and self.isolated:
            log.debug("%s: the backend also needs %s", self.label, ", ".join(missing))
            env = self._env((*system.requires, *extra))
            backend = self._make_backend(project, system, env, blog)
        elif missing:
            log.warning(
                "%s: building without isolation, but %s %s not installed in %s",
                self.label,
                ", ".join(missing),
                "is" if len(missing) == 1 else "are",
                self.interpreter.executable,
            )
        return backend

    def _make_backend(
        self, project: Path, system: BuildSystem, env: BuildEnv, blog: BuildLog
    ) -> Backend:
        return Backend(
            project,
            system,
            env.python,
            package=self.label,
            build_log=blog,
            environ=env.environ(),
        )
