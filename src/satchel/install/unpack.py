"""Unpack a wheel into a directory, trusting nothing in it.

``unpack_wheel`` is the ``populate`` callback of ``Cache.build_tree``: it checks every member name,
the declared sizes, the ``.dist-info`` directory, METADATA, WHEEL and RECORD before writing a byte,
then extracts while checking every file against its RECORD hash and size. Any problem raises
InstallError; the cache then discards the half-written directory.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.errors import InstallError
from satchel.install.record import (
    ACCEPTED_ALGORITHMS,
    RecordEntry,
    RecordError,
    b64_digest,
    parse_record,
)

SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
SIGNATURE_FILES = ("RECORD.jws", "RECORD.p7s")
_SUPPORTED_COMPRESSION = (
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
)
_DRIVE = re.compile(r"^[A-Za-z]:")
# What reading a damaged zip can raise, besides BadZipFile (CRC errors are BadZipFile).
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError)
_CORRUPT_HINT = (
    "delete the wheel and download it again; if that keeps failing, the file on the index is broken"
)


@dataclass(frozen=True)
class UnpackLimits:
    """Guards against zip bombs: the total declared size, the member count, and how much a large
    member may expand relative to its compressed size."""

    max_total_size: int = 4 * 1024**3
    max_members: int = 250_000
    ratio_min_size: int = 16 * 1024**2
    max_ratio: int = 200


DEFAULT_LIMITS = UnpackLimits()


@dataclass(frozen=True)
class WheelLayout:
    """What the checks learned about a wheel: its metadata directory names and its RECORD."""

    dist_info: str  # "foo-1.0.dist-info", as spelled in the wheel
    data_dir: str  # "foo-1.0.data" (may be absent from the wheel)
    record: dict[str, RecordEntry]


def unpack_wheel(
    wheel: Path,
    dest: Path,
    *,
    expected_name: str,
    expected_version: str,
    limits: UnpackLimits = DEFAULT_LIMITS,
) -> dict[str, str]:
    """Check ``wheel`` and extract it into ``dest``; return {relpath: sha256 hex} of every file
    written. ``expected_name``/``expected_version`` come from the wheel's file name."""
    label = wheel.name
    try:
        zf = zipfile.ZipFile(wheel)
    except OSError as exc:
        raise InstallError(f"cannot read wheel {label}: {exc.strerror or exc}")
    except _CORRUPT as exc:
        raise InstallError(f"wheel {label} is not a valid zip file ({exc})", hint=_CORRUPT_HINT)
    with zf:
        try:
            files = _check_members(zf, label, limits)
            layout = _check_layout(zf, files, label, expected_name, expected_version)
            return _extract(zf, files, layout, dest, label)
        except _CORRUPT as exc:
            raise InstallError(f"wheel {label} is corrupt ({exc})", hint=_CORRUPT_HINT)


# -- member checks ------------------------------------------------------------------------------


def _name_problem(name: str) -> str | None:
    """Why a member name is unsafe, or None."""
    if not name or name == "/":
        return "empty name"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if any(ord(c) < 32 for c in name):
        return "contains a control character"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    for part in parts:
        if part == "..":
            return "contains a '..' component"
        if part in ("", "."):
            return "contains an empty or '.' component"
    return None


def _check_members(
    zf: zipfile.ZipFile, label: str, limits: UnpackLimits
) -> dict[str, zipfile.ZipInfo]:
    """Validate every member; return the regular files by name."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise InstallError(
            f"wheel {label} has {len(infos)} members, more than the limit of {limits.max_members}"
        )
    files: dict[str, zipfile.ZipInfo] = {}
    seen: dict[str, str] = {}  # normalized name -> member name
    dirs: set[str] = set()  # normalized directory paths, explicit or implied
    total = 0
    for info in infos:
        name = info.filename
        problem = _name_problem(name)
        if problem is not None:
            raise InstallError(f"wheel {label} has an unsafe member {name!r}: {problem}")
        ftype = stat.S_IFMT(info.external_attr >> 16)
        if ftype == stat.S_IFLNK:
            raise InstallError(
                f"wheel {label} has a symbolic link member {name!r}; wheels may not contain links"
            )
        if ftype not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise InstallError(f"wheel {label} has a special file member {name!r}")
        if info.flag_bits & 0x1:
            raise InstallError(f"wheel {label} has an encrypted member {name!r}")
        key = unicodedata.normalize("NFC", name.rstrip("/"))
        parts = key.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if info.is_dir() or ftype == stat.S_IFDIR:
            dirs.add(key)
            continue
        if info.compress_type not in _SUPPORTED_COMPRESSION:
            raise InstallError(
                f"wheel {label}: member {name!r} uses unsupported compression {info.compress_type}"
            )
        if key in seen:
            raise InstallError(f"wheel {label} has duplicate members {seen[key]!r} and {name!r}")
        seen[key] = name
        files[name] = info
        total += info.file_size
        if total > limits.max_total_size:
            raise InstallError(
                f"wheel {label} declares more than {limits.max_total_size} bytes of content; refusing to unpack it (zip bomb?)"
            )
        if info.file_size >= limits.ratio_min_size and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise InstallError(
                f"wheel {label}: member {name!r} expands {info.compress_size} bytes to {info.file_size}; refusing to unpack it (zip bomb?)"
            )
    clash = dirs.intersection(seen)
    if clash:
        path = sorted(clash)[0]
        raise InstallError(f"wheel {label} has {seen[path]!r} both as a file and as a directory")
    return files


# -- layout: .dist-info, .data, METADATA, WHEEL, RECORD -----------------------------------------


def _versions_equal(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _names_dist(stem: str, name: str, version: str) -> bool:
    """Whether ``stem`` ("foo_bar-1.0") names this distribution and version."""
    wanted = canonicalize_name(name)
    return any(
        ch == "-"
        and canonicalize_name(stem[:i]) == wanted
        and _versions_equal(stem[i + 1 :], version)
        for i, ch in enumerate(stem)
    )


def _read_member(zf: zipfile.ZipFile, files: dict[str, zipfile.ZipInfo], name: str) -> bytes:
    return zf.read(files[name])


def _headers(data: bytes) -> Message:
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)


def _check_layout(
    zf: zipfile.ZipFile,
    files: dict[str, zipfile.ZipInfo],
    label: str,
    expected_name: str,
    expected_version: str,
) -> WheelLayout:
    expected = f"{expected_name} {expected_version}"
    tops: set[str] = set()
    for name in zf.namelist():
        tops.add(name.split("/", 1)[0])
    dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
    ours = [
        d
        for d in dist_infos
        if _names_dist(d[: -len(".dist-info")], expected_name, expected_version)
    ]
    if not ours:
        found = ", ".join(dist_infos) or "none"
        raise InstallError(
            f"wheel {label} has no .dist-info directory for {expected} (found: {found})"
        )
    dist_info = ours[0]
    others = [d for d in dist_infos if d != dist_info]
    if others:
        raise InstallError(
            f"wheel {label} has files in another distribution's metadata directory {others[0]}"
        )
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    for top in sorted(tops):
        if top.endswith(".data") and "-" in top and top != data_dir:
            raise InstallError(
                f"wheel {label} has a .data directory {top} for another distribution"
            )

    for name in files:
        parts = name.split("/")
        if parts[0] == data_dir:
            if len(parts) < 3 or parts[1] not in SCHEMES:
                raise InstallError(
                    f"wheel {label}: {name!r} is not inside a known .data scheme ({', '.join(SCHEMES)})"
                )
            if parts[1] in ("purelib", "platlib") and parts[2].endswith((".dist-info", ".data")):
                raise InstallError(
                    f"wheel {label}: {name!r} would install into a distribution's metadata directory"
                )

    for required in ("METADATA", "WHEEL", "RECORD"):
        if f"{dist_info}/{required}" not in files:
            raise InstallError(f"wheel {label} has no {required} file in {dist_info}")

    meta = _headers(_read_member(zf, files, f"{dist_info}/METADATA"))
    meta_name, meta_version = meta.get("Name"), meta.get("Version")
    if not meta_name or not meta_version:
        raise InstallError(f"wheel {label}: METADATA has no Name or Version")
    if canonicalize_name(str(meta_name)) != canonicalize_name(expected_name) or not _versions_equal(
        str(meta_version), expected_version
    ):
        raise InstallError(
            f"wheel {label}: METADATA says {meta_name} {meta_version} but the file name says {expected}"
        )

    wheel_meta = _headers(_read_member(zf, files, f"{dist_info}/WHEEL"))
    wheel_version = str(wheel_meta.get("Wheel-Version") or "")
    major = wheel_version.split(".", 1)[0]
    if not major.isdigit():
        raise InstallError(f"wheel {label}: WHEEL has no valid Wheel-Version")
    if int(major) != 1:
        raise InstallError(
            f"wheel {label} has Wheel-Version {wheel_version}; this satchel installs version 1 wheels",
            hint="upgrade satchel",
        )

    record_name = f"{dist_info}/RECORD"
    try:
        text = _read_member(zf, files, record_name).decode("utf-8")
        entries = parse_record(text)
    except UnicodeDecodeError:
        raise InstallError(f"wheel {label}: RECORD is not UTF-8")
    except RecordError as exc:
        raise InstallError(f"wheel {label}: malformed RECORD ({exc})")
    record: dict[str, RecordEntry] = {}
    for entry in entries:
        prior = record.get(entry.path)
        if prior is not None and prior != entry:
            raise InstallError(
                f"wheel {label}: RECORD lists {entry.path!r} twice with different hashes"
            )
        record[entry.path] = entry

    unsigned = {record_name, *(f"{dist_info}/{s}" for s in SIGNATURE_FILES)}
    for name in files:
        if name == record_name:
            continue
        listed = record.get(name)
        if listed is None:
            if name in unsigned:
                continue
            raise InstallError(f"wheel {label}: {name!r} is not listed in RECORD")
        if listed.algorithm is None:
            raise InstallError(f"wheel {label}: {name!r} has no hash in RECORD")
        if listed.algorithm not in ACCEPTED_ALGORITHMS:
            raise InstallError(
                f"wheel {label}: {name!r} has a {listed.algorithm} hash in RECORD; sha256 or stronger is required"
            )
    for path in record:
        if path not in files and path != record_name and not path.endswith("/"):
            raise InstallError(f"wheel {label}: RECORD lists {path!r}, which is not in the wheel")
    return WheelLayout(dist_info=dist_info, data_dir=data_dir, record=record)


# -- extraction ---------------------------------------------------------------------------------


def _extract(
    zf: zipfile.ZipFile,
    files: dict[str, zipfile.ZipInfo],
    layout: WheelLayout,
    dest: Path,
    label: str,
) -> dict[str, str]:
    dest.mkdir(parents=True, exist_ok=True)
    made: set[str] = set()
    written: dict[str, str] = {}
    for name, info in files.items():
        entry = layout.record.get(name)
        parent = name.rpartition("/")[0]
        if parent and parent not in made:
            os.makedirs(dest / parent, exist_ok=True)
            made.add(parent)
        mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
        target = dest / name
        sha = hashlib.sha256()
        other = None
        if entry is not None and entry.algorithm is not None and entry.algorithm != "sha256":
            other = hashlib.new(entry.algorithm)
        size = 0
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except FileExistsError:
            raise InstallError(f"wheel {label} has two members that map to the same file {name!r}")
        with os.fdopen(fd, "wb") as out, zf.open(info) as src:
            while chunk := src.read(1 << 20):
                size += len(chunk)
                if size > info.file_size:
                    raise InstallError(
                        f"wheel {label}: {name!r} is larger than its declared size (zip bomb?)"
                    )
                sha.update(chunk)
                if other is not None:
                    other.update(chunk)
                out.write(chunk)
        hexdigest = sha.hexdigest()
        written[name] = hexdigest
        if entry is None or entry.algorithm is None:
            continue  # RECORD itself or an unlisted signature file
        digest = b64_digest((other or sha).digest())
        if digest != entry.digest or (entry.size is not None and entry.size != size):
            raise InstallError(
                f"wheel {label}: {name!r} does not match its RECORD hash or size (modified or corrupt wheel)",
                hint=_CORRUPT_HINT,
            )
    return written
