"""satchel under strace (which calls it makes, on what), and whether a cache left behind by a
killed run is sound (moved from tests/e2e/test_crash_kill.py)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import atomic, buckets, manage, record
from satchel.cache.manifest import Manifest, verify_tree
from satchel.cache.record import CorruptEntry, Record
from satchel.cache.store import CACHEDIR_TAG
from satchel.commands.common import import_record_types
from tests.support.cli import Result, Satchel

STRACE = shutil.which("strace")


FD_SYSCALLS = ("write", "fsync", "fdatasync", "syncfs", "read", "pread64", "pwrite64")


def strace_unusable() -> str | None:
    """Why strace cannot trace and inject here, or None."""
    if STRACE is None:
        return "strace is not installed (apt-get install strace)"
    probe = subprocess.run(
        [STRACE, "-f", "-qq", "-o", os.devnull, "-e", "trace=write",
         "-e", "inject=write:signal=SIGKILL:when=1", "sh", "-c", "echo x"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if probe.returncode != -signal.SIGKILL and probe.returncode != 128 + signal.SIGKILL:
        return f"strace cannot trace or inject here (ptrace not permitted?): {probe.stderr.strip()[-200:]}"
    return None


STRACE_UNUSABLE = strace_unusable()


def strace_satchel(
    satchel: Satchel, args: Sequence[str | Path], strace_args: Sequence[str], log: Path,
    *, timeout: float = 120, env: dict[str, str] | None = None,
) -> Result:
    """Run the satchel CLI under ``strace -f -qq -o log`` with ``strace_args`` (``env``: added
    to its environment)."""
    assert STRACE is not None
    argv = [str(a) for a in args]
    proc = subprocess.run(
        [STRACE, "-f", "-qq", "-o", str(log), *strace_args, sys.executable, "-m", "satchel", *argv],
        capture_output=True, text=True, cwd=satchel.tmp, env={**satchel.base_env(), **(env or {})},
        timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return Result(argv, proc.returncode, proc.stdout, proc.stderr)


_CALL = re.compile(r"^(\d+)\s+(\w+)\((.*)$")


@dataclass(frozen=True)
class Call:
    tid: int
    name: str
    paths: tuple[str, ...]  # the paths it acts on (decoded by strace -y)


def parse_trace(log: Path) -> Iterator[Call]:
    """The calls of an ``strace -f -y`` log, in the order they were entered."""
    for line in log.read_text(errors="replace").splitlines():
        m = _CALL.match(line)
        if m is None:
            continue  # "<... resumed>", signals, exits
        tid, name, rest = int(m[1]), m[2], m[3]
        if name in FD_SYSCALLS:
            fd = re.match(r"-?\d+<([^>]*)>", rest)
            paths: tuple[str, ...] = (fd[1],) if fd else ()
        else:
            paths = tuple(a or b for a, b in re.findall(r'<(/[^>]*)>|"(/[^"]*)"', rest))
        yield Call(tid, name, paths)


def under(path: str, roots: Sequence[Path]) -> bool:
    return any(path == str(r) or path.startswith(f"{r}/") for r in roots)


_HEADER = struct.Struct(">8s24sIQ32s")


def _is_litter(name: str) -> bool:
    return name.startswith(atomic.TEMP_PREFIX) or name.endswith(".lock")


def _record_problem(path: Path, bucket: buckets.Bucket) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    if len(data) < record.HEADER_SIZE:
        return f"{len(data)} bytes, shorter than a record header"
    # The layout of docs/cache.md, checked here without satchel's code...
    magic, raw_type, _version, length, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size :]
    if magic != b"SATCHEL\x01":
        return "bad magic"
    if len(payload) != length:
        return f"payload is {len(payload)} bytes, the header says {length}"
    if hashlib.sha256(payload).digest() != digest:
        return "checksum mismatch"
    # ...then with it: the type belongs here, and the payload decodes to its fields.
    rtype = raw_type.rstrip(b"\0").decode("ascii", "replace")
    cls = Record.registry.get(rtype)
    if cls is None or cls.bucket != bucket:
        return f"record type {rtype!r} does not belong in {bucket.dirname}"
    try:
        record.loads(data, cls)
    except CorruptEntry as exc:
        return exc.reason
    return None


def _tree_problem(entry: Path) -> str | None:
    manifest_path = entry / "manifest"
    if not manifest_path.is_file():
        return "an unpacked tree without a manifest"
    problem = _record_problem(manifest_path, buckets.ARCHIVES)
    if problem is not None:
        return f"manifest: {problem}"
    try:
        manifest = record.loads(manifest_path.read_bytes(), Manifest)
    except CorruptEntry as exc:
        return f"manifest: {exc.reason}"
    extra = {p.name for p in entry.iterdir()} - {"manifest", "tree"}
    if extra:
        return f"unexpected files beside the tree: {sorted(extra)}"
    tree = entry / "tree"
    present = {
        os.path.relpath(os.path.join(d, n), tree).replace(os.sep, "/")
        for d, _dirs, names in os.walk(tree)
        for n in names
    }
    listed = {f.path for f in manifest.files}
    if present != listed:
        return f"tree and manifest differ: {sorted(present ^ listed)[:5]}"
    for f in manifest.files:
        data = (tree / f.path).read_bytes()
        if len(data) != f.size or hashlib.sha256(data).hexdigest() != f.sha256:
            return f"{f.path} is not what the manifest says"
    return verify_tree(tree, manifest)  # and satchel's own check (sizes, mtimes, hashes)


def unsound_entries(root: Path) -> list[str]:
    """Every entry under a final name that is not whole and sound, as "path: reason"."""
    import_record_types()
    problems: list[str] = []

    def bad(path: Path, reason: str) -> None:
        problems.append(f"{path}: {reason}")

    if not root.exists():
        return problems
    by_dir = {b.dirname: b for b in buckets.ALL}
    for child in sorted(root.iterdir()):
        if child.name == "CACHEDIR.TAG":
            if child.read_text() != CACHEDIR_TAG:
                bad(child, "partial CACHEDIR.TAG")
            continue
        if child.name == ".lock" or _is_litter(child.name):
            continue
        bucket = by_dir.get(child.name)
        if bucket is None:
            bad(child, "not a bucket of this satchel")
        elif bucket is buckets.FILES:
            for project in sorted(child.iterdir()):
                for entry in sorted(project.iterdir()) if project.is_dir() else []:
                    if _is_litter(entry.name):
                        continue
                    files = [p for p in entry.iterdir() if not _is_litter(p.name)]
                    # An empty <sha256>/ is what a kill between its mkdir and the rename of the
                    # file into it leaves: no content under a final name, and a plain miss.
                    if len(files) > 1:
                        bad(entry, f"{len(files)} files in one content-addressed entry")
                    for f in files:
                        if hashlib.sha256(f.read_bytes()).hexdigest() != entry.name:
                            bad(f, "content does not hash to its key")
        elif bucket is buckets.ARCHIVES:
            for project in sorted(child.iterdir()):
                for entry in sorted(project.iterdir()) if project.is_dir() else []:
                    if not _is_litter(entry.name):
                        problem = _tree_problem(entry)
                        if problem is not None:
                            bad(entry, problem)
        elif bucket in (buckets.INDEX, buckets.METADATA, buckets.INTERPRETERS):
            for dirpath, dirs, names in os.walk(child):
                dirs[:] = [d for d in dirs if not _is_litter(d)]
                for name in names:
                    if not _is_litter(name):
                        path = Path(dirpath, name)
                        problem = _record_problem(path, bucket)
                        if problem is not None:
                            bad(path, problem)
        else:  # a bucket these installs never write (built wheels): satchel's own check
            for entry in manage.iter_entries(root, bucket):
                problem = manage.check_entry(entry)
                if problem is not None:
                    bad(entry.path, problem)
    return problems
