"""Unpack a wheel into a directory, trusting nothing in it.

``unpack_wheel`` is the ``populate`` callback of ``Cache.build_tree``: it checks every member name,
the declared sizes, the ``.dist-info`` directory, METADATA, WHEEL and RECORD before writing a byte,
then extracts while checking every file against its RECORD hash and size, creating each file
read-only and returning the listing of what it wrote. Any problem raises InstallError; the cache
then discards the half-written directory.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from satchel.archives import (
    CORRUPT,
    DEFAULT_LIMITS,
    WHEEL_RULES,
    Archive,
    ArchiveError,
    ArchiveReadError,
    Entry,
    UnpackLimits,
    Written,
)
from satchel.cache.manifest import Listing, ManifestFile
from satchel.errors import InstallError
from satchel.install.layout import SCHEMES, SIGNATURE_FILES
from satchel.install.record import (
    ACCEPTED_ALGORITHMS,
    RecordEntry,
    RecordError,
    b64_digest,
    parse_record,
)

_CORRUPT_HINT = (
    "delete the wheel and download it again; if that keeps failing, the file on the index is broken"
)
__all__ = ["SCHEMES", "SIGNATURE_FILES", "UnpackLimits", "UnreadableWheel", "WheelLayout", "unpack_wheel"]


class UnreadableWheel(InstallError):
    """Reading the wheel failed with an I/O error (``reason``), while opening it or while
    unpacking it: the wheel file is at fault, not the destination. (An error writing the
    destination stays an ``OSError``: ``Cache.build_tree`` treats that as a cache it cannot
    write.)"""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"cannot read wheel {label}: {reason}")
        self.reason = reason


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
) -> Listing:
    """Check ``wheel`` and extract it into ``dest``, every file read-only; return the ``Listing``
    of the files written (the tree's manifest: ``Cache.build_tree`` neither walks nor hashes it
    again). ``expected_name``/``expected_version`` come from the wheel's file name."""
    label = wheel.name
    rules = dataclasses.replace(WHEEL_RULES, limits=limits)
    try:
        archive = Archive.open(wheel, f"wheel {label}", rules, tar=False)
    except OSError as exc:
        raise UnreadableWheel(label, exc.strerror or str(exc)) from None
    except CORRUPT as exc:
        raise InstallError(f"wheel {label} is not a valid zip file ({exc})", hint=_CORRUPT_HINT)
    with archive:
        try:
            entries = archive.entries
            files = {e.member: e for e in entries if e.kind == "file"}
            layout = _check_layout(archive, entries, files, label, expected_name, expected_version)
            return _extract(archive, files, layout, dest)
        except ArchiveReadError as exc:
            raise UnreadableWheel(label, exc.reason) from None
        except ArchiveError as exc:
            raise InstallError(exc.message) from None
        except CORRUPT as exc:
            raise InstallError(f"wheel {label} is corrupt ({exc})", hint=_CORRUPT_HINT)


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


def _read_member(archive: Archive, files: dict[str, Entry], name: str) -> bytes:
    return archive.read(files[name])


def _headers(data: bytes) -> Message:
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)


def _check_layout(
    archive: Archive,
    members: list[Entry],
    files: dict[str, Entry],
    label: str,
    expected_name: str,
    expected_version: str,
) -> WheelLayout:
    expected = f"{expected_name} {expected_version}"
    tops: set[str] = set()
    for member in members:
        tops.add(member.member.split("/", 1)[0])
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

    meta = _headers(_read_member(archive, files, f"{dist_info}/METADATA"))
    meta_name, meta_version = meta.get("Name"), meta.get("Version")
    if not meta_name or not meta_version:
        raise InstallError(f"wheel {label}: METADATA has no Name or Version")
    if canonicalize_name(str(meta_name)) != canonicalize_name(expected_name) or not _versions_equal(
        str(meta_version), expected_version
    ):
        raise InstallError(
            f"wheel {label}: METADATA says {meta_name} {meta_version} but the file name says {expected}"
        )

    wheel_meta = _headers(_read_member(archive, files, f"{dist_info}/WHEEL"))
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
        text = _read_member(archive, files, record_name).decode("utf-8")
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


def _extract(archive: Archive, files: dict[str, Entry], layout: WheelLayout, dest: Path) -> Listing:
    """Extract the files, checking each against its RECORD hash and size as it is written; each is
    created read-only, so the listing is the tree's whole manifest."""
    label = archive.label

    def algorithms(entry: Entry) -> tuple[str, ...]:
        listed = layout.record.get(entry.member)
        if listed is None or listed.algorithm in (None, "sha256"):
            return ("sha256",)
        return ("sha256", listed.algorithm)

    def check(entry: Entry, written: Written) -> None:
        listed = layout.record.get(entry.member)
        if listed is None or listed.algorithm is None:
            return  # RECORD itself or an unlisted signature file
        digest = b64_digest(written.digests[listed.algorithm])
        if digest != listed.digest or (listed.size is not None and listed.size != written.size):
            raise InstallError(
                f"{label}: {entry.member!r} does not match its RECORD hash or size (modified or corrupt wheel)",
                hint=_CORRUPT_HINT,
            )

    done = archive.extract(
        files.values(), dest, algorithms=algorithms, check=check, mtimes=False, read_only=True
    )
    return Listing(
        [
            ManifestFile(path, w.size, w.digests["sha256"].hex(), w.mtime_ns, w.executable)
            for path, w in done.items()
        ]
    )
