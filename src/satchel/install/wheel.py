"""Install an unpacked wheel (a cache tree) into an environment.

Files go where the wheel spec says: the root into purelib or platlib (WHEEL ``Root-Is-Purelib``),
``<name>-<version>.data/<scheme>/`` into that scheme's directory. Library files are linked from the
cache; scripts, launchers and the install metadata (INSTALLER, REQUESTED, direct_url.json, RECORD)
are fresh files. The ``.dist-info`` directory, which is what makes a distribution look installed,
is assembled under a temporary name and renamed into place last: an install killed midway leaves
no ``.dist-info`` at all (the next run installs the distribution again), never one that passes
for complete. On failure the files this install created are removed again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from satchel.cache.manifest import ManifestFile
from satchel.cache.store import Tree
from satchel.errors import InstallError
from satchel.install import scripts
from satchel.install.installed import Headers, InstalledDist, parse_headers
from satchel.install.layout import SCHEMES, SIGNATURE_FILES
from satchel.install.link import Linker, StrPath, temp_sibling, write_file, write_new_file
from satchel.install.record import format_sha256_record, hash_bytes, hash_file
from satchel.python.run import TargetError, run_in_target

log = logging.getLogger("satchel.install")

# Files of the wheel's .dist-info that are not installed: RECORD is rewritten, the signatures would
# no longer match it, and the rest describe an install, not the wheel.
_NOT_INSTALLED = frozenset(
    {"RECORD", *SIGNATURE_FILES, "INSTALLER", "REQUESTED", "direct_url.json"}
)

# Runs inside the target interpreter: compile the NUL-separated files on stdin, print each .pyc.
_COMPILE = r"""
import compileall, importlib.util, os, sys
out = sys.stdout.buffer
out.write(b"%d.%d\0" % sys.version_info[:2])
for raw in sys.stdin.buffer.read().split(b"\0"):
    if raw:
        path = os.fsdecode(raw)
        if compileall.compile_file(path, quiet=2, force=True):
            out.write(os.fsencode(importlib.util.cache_from_source(path)) + b"\0")
"""


def read_headers(path: StrPath) -> Headers:
    with open(path, "rb") as fh:
        return parse_headers(fh.read())


@dataclass
class _Plan:
    """Where each file goes (destinations as strings: thousands per install, no Path objects)."""

    links: list[tuple[ManifestFile, str]] = field(default_factory=list)  # linked from the cache
    metadata: list[tuple[ManifestFile, str]] = field(default_factory=list)  # .dist-info: last
    scripts: list[tuple[ManifestFile, str]] = field(default_factory=list)  # .data/scripts
    sources: list[str] = field(default_factory=list)  # .py files in purelib/platlib


class _Transaction:
    """Tracks what an install created, to remove it again if the install fails.

    ``roots`` are the scheme directories the files go under (most often existing already):
    a directory is made after its parent, so each directory below a root costs one mkdir(2),
    never a failed one first (sphinx's locale/<lang>/LC_MESSAGES chains cost three before)."""

    def __init__(self, roots: frozenset[str] = frozenset()) -> None:
        self.roots = roots
        self.dirs: set[str] = set()  # known to exist
        self.created_dirs: list[str] = []
        self.created_files: list[str] = []
        self.record: dict[str, tuple[str, int]] = {}  # dst -> (sha256 hex, size)
        self.current: str | None = None  # the file being written, for error messages

    def ensure_dir(self, directory: str) -> None:
        if directory in self.dirs:
            return
        parent = os.path.dirname(directory)
        known = parent in self.dirs or parent in self.roots or directory in self.roots
        if not known and parent != directory:
            self.ensure_dir(parent)  # (a root is assumed to exist until mkdir says otherwise)
        try:
            os.mkdir(directory)
            self.created_dirs.append(directory)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise
        except FileNotFoundError:
            if parent == directory or parent in self.dirs:
                raise  # (where the parent exists and still no directory can be made: /proc)
            self.ensure_dir(parent)  # a root that does not exist yet (--target, headers)
            self.ensure_dir(directory)
        self.dirs.add(directory)

    def about_to_write(self, dst: str) -> None:
        """``dst`` is written now, in place (replacing what may be there)."""
        self.current = dst
        self.ensure_dir(os.path.dirname(dst))
        if not os.path.lexists(dst):
            self.created_files.append(dst)

    def rollback(self) -> None:
        for f in reversed(self.created_files):
            with contextlib.suppress(OSError):
                os.unlink(f)
        for d in reversed(self.created_dirs):
            with contextlib.suppress(OSError):
                os.rmdir(d)


def install_tree(
    tree: Tree,
    *,
    paths: Mapping[str, str],
    interpreter_executable: str,
    linker: Linker,
    requested: bool,
    direct_url: dict[str, Any] | None = None,
    installer: str = "satchel",
    compile_bytecode: bool = False,
    python_version: tuple[int, ...] | None = None,
) -> InstalledDist:
    """Install the unpacked wheel ``tree`` into the scheme ``paths`` (purelib, platlib, scripts,
    data, headers) of the interpreter ``interpreter_executable``.

    ``paths["headers"]`` is the environment's include directory for packages (pip's
    ``include/site/pythonX.Y`` in a venv); headers go to ``<headers>/<project name>/``.
    ``python_version`` (the target's, if known) is checked when compiling bytecode.

    Raises InstallError naming the distribution when a destination cannot be written, and
    FileNotFoundError when a file of ``tree`` is missing (the cache entry went away; unpack it
    again and retry). Either way, the files this call created are removed again.
    """
    base = os.fspath(tree.path)
    files = {f.path: f for f in tree.manifest.files}
    dist_info = _find_dist_info(tree, files)
    meta = read_headers(os.path.join(base, dist_info, "METADATA"))
    name, version = meta.get("Name") or "", meta.get("Version") or ""
    label = f"{name} {version}"
    if not name or not version:
        raise InstallError(f"cannot install {dist_info}: METADATA has no Name or Version")
    wheel_meta = read_headers(os.path.join(base, dist_info, "WHEEL"))
    purelib = (wheel_meta.get("Root-Is-Purelib") or "true").strip().lower() == "true"
    root = os.path.abspath(paths["purelib" if purelib else "platlib"])
    headers = paths.get("headers") or paths.get("include")
    scheme_dirs = {
        "purelib": os.path.abspath(paths["purelib"]),
        "platlib": os.path.abspath(paths["platlib"]),
        "scripts": os.path.abspath(paths["scripts"]),
        "data": os.path.abspath(paths["data"]),
        "headers": os.path.abspath(os.path.join(headers, name)) if headers else None,
    }
    plan = _plan(files, dist_info, root, scheme_dirs, label)
    entry_points: list[scripts.EntryPoint] = []
    if f"{dist_info}/entry_points.txt" in files:
        with open(os.path.join(base, dist_info, "entry_points.txt"), "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
        entry_points = scripts.parse_entry_points(text, label=label)
    if "\n" in installer or "\r" in installer:
        raise ValueError("installer name must be one line")

    txn = _Transaction(frozenset(d for d in (root, *scheme_dirs.values()) if d))
    target = os.path.join(root, dist_info)
    staging = temp_sibling(target)

    try:
        # The distribution's own files first, its metadata last, into the staged .dist-info.
        record, dirs, created, sep = txn.record, txn.dirs, txn.created_files, os.sep
        for links, at_dir in ((plan.links, None), (plan.metadata, staging)):
            for mf, dst in links:
                at = dst if at_dir is None else at_dir + dst[len(target) :]
                txn.current = dst
                directory = at[: at.rindex(sep)]  # (os.path.dirname, for the plain paths of a plan)
                if directory not in dirs:
                    txn.ensure_dir(directory)
                if linker.link_file(base + "/" + mf.path, at):
                    created.append(at)
                record[dst] = (mf.sha256, mf.size)
        scripts_dir = os.path.abspath(paths["scripts"])
        for mf, dst in plan.scripts:
            with open(os.path.join(base, mf.path), "rb") as fh:
                content = fh.read()
            _write(
                txn, dst, scripts.rewrite_shebang(content, interpreter_executable) or content, 0o755
            )
        for ep in entry_points:
            dst = os.path.join(scripts_dir, ep.name)
            _write(txn, dst, scripts.launcher(ep, interpreter_executable), 0o755)
        if compile_bytecode and plan.sources:
            for pyc in _compile(plan.sources, interpreter_executable, python_version, label):
                txn.record[str(pyc)] = hash_file(pyc)
                txn.created_files.append(str(pyc))

        _write(txn, os.path.join(target, "INSTALLER"), f"{installer}\n".encode(), 0o644, staging)
        if requested:
            _write(txn, os.path.join(target, "REQUESTED"), b"", 0o644, staging)
        if direct_url is not None:
            url_data = json.dumps(direct_url, sort_keys=True).encode()
            _write(txn, os.path.join(target, "direct_url.json"), url_data, 0o644, staging)

        prefix = root + os.sep
        rows = [(_relative(dst, root, prefix), sha, size) for dst, (sha, size) in txn.record.items()]
        record_path = os.path.join(target, "RECORD")
        text = format_sha256_record(rows, _relative(record_path, root, prefix))
        _write_staged(txn, record_path, os.path.join(staging, "RECORD"), text.encode("utf-8"))
        txn.current = target
        _publish(staging, target)
    except OSError as exc:
        import shutil  # (failures and reinstalls only: not on a warm install's path)

        txn.rollback()
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, FileNotFoundError) and _is_within(exc.filename, base):
            raise  # the cache entry vanished (e.g. `cache clean`): the caller unpacks it again
        where = str(exc.filename or txn.current or "")
        temporary = os.path.basename(where).startswith(".satchel-") or _is_within(where, staging)
        if temporary and txn.current is not None:
            where = str(txn.current)  # name the file, not the temporary name it was built under
        raise InstallError(
            f"cannot install {label}: {exc.strerror or exc}{f': {where}' if where else ''}",
            hint="check that the environment is writable and not in use by another installer",
        )
    except BaseException:
        import shutil

        txn.rollback()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return InstalledDist(canonicalize_name(name), version, Path(target))


def _publish(staging: str, target: str) -> None:
    """Rename the assembled ``.dist-info`` directory into place, replacing one already there (the
    same distribution installed over itself)."""
    try:
        os.rename(staging, target)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    aside = temp_sibling(target)
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.rename(aside, target)
        raise
    import shutil

    shutil.rmtree(aside, ignore_errors=True)


def _find_dist_info(tree: Tree, files: Mapping[str, ManifestFile]) -> str:
    tops = {p.split("/", 1)[0] for p in files if "/" in p}
    found = sorted(t for t in tops if t.endswith(".dist-info"))
    if len(found) != 1:
        raise InstallError(
            f"cannot install {tree.path}: expected one .dist-info directory, found {len(found)}"
        )
    for required in ("METADATA", "WHEEL"):
        if f"{found[0]}/{required}" not in files:
            raise InstallError(f"cannot install {found[0]}: no {required} file")
    return found[0]


def _plan(
    files: Mapping[str, ManifestFile],
    dist_info: str,
    root: str,
    scheme_dirs: Mapping[str, str | None],
    label: str,
) -> _Plan:
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    plan = _Plan()
    sep = os.sep
    for rel, mf in files.items():
        parts = rel.split("/")
        if "" in parts or "." in parts or ".." in parts or "\\" in rel:
            raise InstallError(f"cannot install {label}: unsafe path {rel!r} in the unpacked wheel")
        top = parts[0]
        if top == data_dir:
            scheme = parts[1] if len(parts) > 2 else ""
            base = scheme_dirs.get(scheme) if scheme in SCHEMES else None
            if base is None:
                raise InstallError(f"cannot install {label}: no install location for {rel!r}")
            dst = sep.join((base, *parts[2:]))
            if scheme == "scripts":
                plan.scripts.append((mf, dst))
                continue
            in_lib = scheme in ("purelib", "platlib")
            plan.links.append((mf, dst))
        elif top == dist_info:
            if len(parts) == 2 and parts[1] in _NOT_INSTALLED:
                continue
            plan.metadata.append((mf, root + sep + rel.replace("/", sep)))
            continue
        else:
            dst = root + sep + rel.replace("/", sep)
            in_lib = True
            plan.links.append((mf, dst))
        if in_lib and rel.endswith(".py"):
            plan.sources.append(dst)
    return plan


def _write(txn: _Transaction, dst: str, data: bytes, mode: int, staging: str | None = None) -> None:
    """Write a fresh file ``dst``; one of the ``.dist-info`` goes into ``staging`` for now."""
    if staging is None:
        txn.about_to_write(dst)
        write_file(dst, data, mode=mode)
    else:
        _write_staged(txn, dst, os.path.join(staging, os.path.basename(dst)), data, mode)
    txn.record[dst] = hash_bytes(data)


def _write_staged(txn: _Transaction, dst: str, at: str, data: bytes, mode: int = 0o644) -> None:
    """Create ``at``, the place of ``dst`` in the staged ``.dist-info``: a new file (nothing of
    the wheel's is linked under these names) in a directory only this install sees."""
    txn.current = dst
    txn.ensure_dir(os.path.dirname(at))
    txn.created_files.append(at)
    write_new_file(at, data, mode=mode)


def _is_within(filename: object, directory: StrPath) -> bool:
    if not isinstance(filename, (str, os.PathLike)):
        return False
    path = os.path.abspath(os.fspath(filename))
    return path.startswith(os.path.abspath(directory) + os.sep)


def _relative(path: str, root: str, prefix: str) -> str:
    """``path`` relative to ``root`` (``prefix`` is ``root`` + separator), with ``/``."""
    rel = path[len(prefix) :] if path.startswith(prefix) else os.path.relpath(path, root)
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _compile(
    sources: list[str], executable: str, python_version: tuple[int, ...] | None, label: str
) -> list[Path]:
    """Byte-compile ``sources`` with the target interpreter; return the .pyc files written."""
    payload = b"\0".join(os.fsencode(s) for s in sources)
    try:
        out = run_in_target(executable, _COMPILE, None, stdin=payload, isolated=True)
    except TargetError as exc:
        if exc.kind == "start":
            log.warning(
                "cannot compile bytecode for %s: cannot run %s (%s)", label, exc.exe, exc.reason
            )
        else:
            log.warning("compiling bytecode for %s failed: %s", label, exc.reason)
        return []
    reported = [p for p in out.stdout.split(b"\0") if p]
    if not reported:
        log.warning("compiling bytecode for %s failed: no output from %s", label, executable)
        return []
    version, pycs = reported[0].decode(), reported[1:]
    wanted = ".".join(map(str, python_version[:2])) if python_version else version
    if version != wanted:
        raise InstallError(
            f"cannot compile bytecode for {label}: {executable} is Python {version}, expected {wanted}"
        )
    return [Path(os.fsdecode(p)) for p in pycs]
