"""Build real wheels and sdists for tests, with zipfile/tarfile (no build backend needed).

Every wheel has a correct RECORD with sha256 hashes, so installers can verify it. Options exist to
build broken or hostile wheels on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class WheelSpec:
    name: str
    version: str
    tag: str = "py3-none-any"
    requires: list[str] = field(default_factory=list)
    requires_python: str | None = None
    extras: dict[str, list[str]] = field(default_factory=dict)  # extra -> its requirements
    files: dict[str, bytes | str] = field(default_factory=dict)  # path in purelib -> content
    console_scripts: dict[str, str] = field(default_factory=dict)  # name -> "module:func"
    gui_scripts: dict[str, str] = field(default_factory=dict)
    data: dict[str, dict[str, bytes | str]] = field(default_factory=dict)  # scheme -> {path: content}
    metadata_name: str | None = None  # override the Name: field (hostile tests)
    metadata_version: str | None = None  # override the Version: field
    extra_members: dict[str, bytes] = field(default_factory=dict)  # raw zip members, not in RECORD
    record_override: str | None = None  # replace RECORD text entirely
    root_is_purelib: bool = True

    @property
    def dist_name(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def filename(self) -> str:
        return f"{self.dist_name}-{self.version}-{self.tag}.whl"

    @property
    def dist_info(self) -> str:
        return f"{self.dist_name}-{self.version}.dist-info"

    def metadata_text(self) -> str:
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {self.metadata_name or self.name}",
            f"Version: {self.metadata_version or self.version}",
        ]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Requires-Dist: {r}" for r in self.requires]
        for extra, reqs in self.extras.items():
            lines.append(f"Provides-Extra: {extra}")
            for r in reqs:
                if ";" in r:
                    req, marker = r.split(";", 1)
                    lines.append(f'Requires-Dist: {req.strip()} ; ({marker.strip()}) and extra == "{extra}"')
                else:
                    lines.append(f'Requires-Dist: {r} ; extra == "{extra}"')
        return "\n".join(lines) + "\n\n"


def _default_module(spec: WheelSpec) -> dict[str, bytes | str]:
    mod = spec.dist_name
    return {f"{mod}/__init__.py": f'__version__ = "{spec.version}"\nTAG = "{spec.tag}"\n'}


def build_wheel(spec: WheelSpec, dest: Path) -> Path:
    """Write ``spec`` as a wheel into ``dest`` and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    members: list[tuple[str, bytes]] = []
    files = spec.files or _default_module(spec)
    for path, content in files.items():
        members.append((path, content.encode() if isinstance(content, str) else content))
    data_dir = f"{spec.dist_name}-{spec.version}.data"
    for scheme, scheme_files in spec.data.items():
        for path, content in scheme_files.items():
            raw = content.encode() if isinstance(content, str) else content
            members.append((f"{data_dir}/{scheme}/{path}", raw))
    di = spec.dist_info
    members.append((f"{di}/METADATA", spec.metadata_text().encode()))
    purelib = "true" if spec.root_is_purelib else "false"
    wheel_text = f"Wheel-Version: 1.0\nGenerator: satchel-tests\nRoot-Is-Purelib: {purelib}\nTag: {spec.tag}\n"
    members.append((f"{di}/WHEEL", wheel_text.encode()))
    if spec.console_scripts or spec.gui_scripts:
        ep = ""
        if spec.console_scripts:
            ep += "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in spec.console_scripts.items())
        if spec.gui_scripts:
            ep += "[gui_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in spec.gui_scripts.items())
        members.append((f"{di}/entry_points.txt", ep.encode()))
    record_lines = [f"{p},{record_hash(d)},{len(d)}" for p, d in members]
    record_lines.append(f"{di}/RECORD,,")
    record = spec.record_override if spec.record_override is not None else "\n".join(record_lines) + "\n"
    members.append((f"{di}/RECORD", record.encode()))
    out = dest / spec.filename
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in members:
            zf.writestr(_zinfo(path), data)
        for path, data in spec.extra_members.items():
            zf.writestr(_zinfo(path), data)
    return out


def _zinfo(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_sdist(
    name: str,
    version: str,
    dest: Path,
    *,
    requires: Iterable[str] = (),
    files: Mapping[str, str] | None = None,
    build_backend: str = "setuptools.build_meta",
    build_requires: Iterable[str] = ("setuptools>=40.8.0",),
    pyproject_extra: str = "",
) -> Path:
    """Write a minimal setuptools-style sdist (pyproject.toml + package) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    dist = canonicalize_name(name).replace("-", "_")
    base = f"{dist}-{version}"
    deps = ", ".join(f'"{r}"' for r in requires)
    breqs = ", ".join(f'"{r}"' for r in build_requires)
    contents: dict[str, str] = {
        "pyproject.toml": (
            f'[build-system]\nrequires = [{breqs}]\nbuild-backend = "{build_backend}"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\ndependencies = [{deps}]\n'
            + pyproject_extra
        ),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/__init__.py": f'__version__ = "{version}"\n',
    }
    contents.update(files or {})
    out = dest / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for path, text in contents.items():
            raw = text.encode()
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(raw)
            info.mtime = 1577836800
            tf.addfile(info, io.BytesIO(raw))
    return out
