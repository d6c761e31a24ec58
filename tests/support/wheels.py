"""Build real wheels and sdists for tests, with zipfile/tarfile (no build backend needed).

Every wheel has a correct RECORD with sha256 hashes, so installers can verify it. Options exist to
build broken or hostile wheels on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
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
    return write_sdist(dest, base, contents)


def write_sdist(dest: Path, base: str, contents: Mapping[str, str]) -> Path:
    """``dest/<base>.tar.gz`` holding ``contents`` ({path: text}) under ``<base>/``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for path, text in contents.items():
            raw = text.encode()
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(raw)
            info.mtime = 1577836800
            tf.addfile(info, io.BytesIO(raw))
    return out


# -- hostile wheels: change a built wheel's zip after the fact -------------------------------------


def _rewrite(wheel: Path, edit: Callable[[list[tuple[zipfile.ZipInfo, bytes]]], None]) -> None:
    """Rewrite ``wheel``'s members through ``edit`` (a list of (ZipInfo, data) it may change)."""
    with zipfile.ZipFile(wheel) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    edit(members)
    tmp = wheel.with_name(wheel.name + ".tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for info, data in members:
                zf.writestr(info, data)
    tmp.replace(wheel)


def _record_index(members: list[tuple[zipfile.ZipInfo, bytes]]) -> int:
    return next(i for i, (info, _) in enumerate(members) if info.filename.endswith(".dist-info/RECORD"))


def add_member(wheel: Path, name: str, data: bytes, *, mode: int = 0o100644, listed: bool = True) -> None:
    """Append a raw member ``name`` (``mode``: the full st_mode, file type bits included, so
    0o120777 makes a symbolic link whose target is ``data``), listed in RECORD with its real
    hash unless ``listed`` is False."""

    def edit(members: list[tuple[zipfile.ZipInfo, bytes]]) -> None:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = mode << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        members.insert(0, (info, data))
        if listed:
            i = _record_index(members)
            record_info, record = members[i]
            line = f"{name},{record_hash(data)},{len(data)}\n"
            members[i] = (record_info, line.encode() + record)

    _rewrite(wheel, edit)


def add_record_lines(wheel: Path, *lines: str) -> None:
    """Add lines to the wheel's RECORD (e.g. entries for files outside the wheel)."""

    def edit(members: list[tuple[zipfile.ZipInfo, bytes]]) -> None:
        i = _record_index(members)
        record_info, record = members[i]
        members[i] = (record_info, record + "".join(f"{line}\n" for line in lines).encode())

    _rewrite(wheel, edit)


def declare_sizes(wheel: Path, size: int) -> None:
    """A zip bomb's claim: every member's uncompressed size in the central directory is
    ``size`` (the data stays small)."""
    data = bytearray(wheel.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into("<I", data, pos + 24, size)
        pos = data.find(b"PK\x01\x02", pos + 4)
    wheel.write_bytes(bytes(data))


def corrupt_member(wheel: Path, member: str) -> None:
    """Scramble the compressed bytes of ``member`` in place (the zip's structure stays valid)."""
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start, start + info.compress_size):
        data[i] ^= 0x5A
    wheel.write_bytes(bytes(data))


def add_tar_member(sdist: Path, name: str, data: bytes, *, link_target: str | None = None) -> None:
    """Append a member ``name`` to a .tar.gz sdist (a symbolic link to ``link_target`` if
    given): for path traversal tests."""
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    with tarfile.open(sdist, "r:gz") as tf:
        for m in tf.getmembers():
            fh = tf.extractfile(m) if m.isfile() else None
            members.append((m, fh.read() if fh is not None else None))
    info = tarfile.TarInfo(name)
    info.mtime = 1577836800
    if link_target is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = link_target
        payload = None
    else:
        info.size = len(data)
        payload = data
    members.append((info, payload))
    with tarfile.open(sdist, "w:gz") as tf:
        for member, content in members:
            tf.addfile(member, io.BytesIO(content) if content is not None else None)
