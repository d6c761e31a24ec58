"""In-memory Finder and interpreter for the resolver tests (no tests in here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.index.models import IndexFile
from satchel.python.interpreter import Interpreter
from satchel.resolve import CoreMetadata, Resolution, ResolveOptions, RootRequirement, resolve

INDEX = "https://index.invalid/simple"

MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "6.1.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.11.7",
    "python_version": "3.11",
    "sys_platform": "linux",
}

# What packaging.tags.sys_tags() gives on CPython 3.11 (spelled out so the tests do not
# depend on the Python running them); platform tags are this machine's.
TAGS = tuple(
    str(t)
    for t in (
        *cpython_tags(python_version=(3, 11)),
        *compatible_tags(python_version=(3, 11), interpreter="cp311"),
    )
)
PLATFORM_TAG = TAGS[0]  # e.g. cp311-cp311-manylinux_2_39_x86_64


def make_interpreter() -> Interpreter:
    return Interpreter(
        executable="/venv/bin/python",
        version=(3, 11, 7),
        implementation="cpython",
        markers=dict(MARKERS),
        tags=TAGS,
        paths={},
        prefix="/venv",
        base_prefix="/usr",
        is_venv=True,
    )


def digest(filename: str) -> str:
    return hashlib.sha256(filename.encode()).hexdigest()


@dataclass
class FakeFinder:
    """Projects live in memory; every call is logged in ``calls``."""

    files: dict[str, list[IndexFile]] = field(default_factory=dict)
    metadata: dict[str, CoreMetadata] = field(default_factory=dict)  # by filename
    direct: dict[str, CoreMetadata] = field(default_factory=dict)  # by url
    installed: dict[str, CoreMetadata] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def add(
        self,
        name: str,
        version: str,
        deps: Iterable[str] = (),
        *,
        wheels: Sequence[str] = ("py3-none-any",),
        sdist: bool = False,
        extras: Sequence[str] = (),
        requires_python: str | None = None,
        file_requires_python: str | None = None,
        yanked: str | None = None,
        metadata_name: str | None = None,
    ) -> list[IndexFile]:
        """Publish ``name`` ``version`` as one wheel per tag (plus an sdist if asked)."""
        stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
        filenames = [f"{stem}-{tag}.whl" for tag in wheels]
        if sdist:
            filenames.append(f"{stem}.tar.gz")
        meta = CoreMetadata(
            name=metadata_name or name,
            version=Version(version),
            requires_dist=tuple(deps),
            requires_python=requires_python,
            provides_extra=tuple(extras),
        )
        added = []
        for filename in filenames:
            file = IndexFile(
                filename=filename,
                url=f"{INDEX}/files/{filename}",
                hashes={"sha256": digest(filename)},
                requires_python=file_requires_python,
                yanked=yanked,
                metadata_hashes={},
            )
            self.files.setdefault(canonicalize_name(name), []).append(file)
            self.metadata[filename] = meta
            added.append(file)
        return added

    def add_direct(self, url: str, name: str, version: str, deps: Iterable[str] = ()) -> None:
        self.direct[url] = CoreMetadata(
            name=name, version=Version(version), requires_dist=tuple(deps)
        )

    def install(self, name: str, version: str, deps: Iterable[str] = ()) -> None:
        self.installed[canonicalize_name(name)] = CoreMetadata(
            name=name, version=Version(version), requires_dist=tuple(deps)
        )

    # -- Finder protocol

    def find_files(self, name: str) -> Sequence[IndexFile]:
        self.calls.append(("find_files", name))
        return list(self.files.get(name, ()))

    def prefetch(self, name: str) -> None:
        self.calls.append(("prefetch", name))

    def get_metadata(self, name: str, version: Version, file: IndexFile) -> CoreMetadata:
        self.calls.append(("get_metadata", name, str(version), file.filename))
        return self.metadata[file.filename]

    def prefetch_metadata(self, name: str, version: Version, file: IndexFile) -> None:
        self.calls.append(("prefetch_metadata", name, str(version), file.filename))

    def get_direct_metadata(self, name: str, url: str) -> CoreMetadata:
        self.calls.append(("get_direct_metadata", name, url))
        return self.direct[url]

    def get_installed_metadata(self, name: str) -> CoreMetadata | None:
        self.calls.append(("get_installed_metadata", name))
        return self.installed.get(name)

    def called(self, kind: str) -> list[tuple[str, ...]]:
        return [c[1:] for c in self.calls if c[0] == kind]

    # -- convenience

    def resolve(
        self,
        *requirements: str | RootRequirement,
        constraints: Sequence[str] = (),
        **options: object,
    ) -> Resolution:
        if "installed" not in options and self.installed:
            options["installed"] = {n: m.version for n, m in self.installed.items()}
        return resolve(
            [root(r) for r in requirements],
            finder=self,
            interpreter=make_interpreter(),
            constraints=[root(c, source="constraints.txt") for c in constraints],
            options=ResolveOptions(**options),  # type: ignore[arg-type]
        )


def root(
    text: str | RootRequirement, *, source: str = "command line", hashes: Sequence[str] = ()
) -> RootRequirement:
    if isinstance(text, RootRequirement):
        return text
    return RootRequirement(Requirement(text), source=source, hashes=tuple(hashes))


def versions(resolution: Resolution) -> dict[str, str]:
    return {name: str(p.version) for name, p in resolution.items()}
