"""Manifests of unpacked trees: what files an entry holds, checked cheaply on every use and fully
by ``cache verify``."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from satchel.cache import buckets
from satchel.cache.record import Record


@dataclass(frozen=True)
class ManifestFile:
    """One regular file of a cached tree, as it was written."""
    path: str  # POSIX path relative to the tree
    size: int
    sha256: str
    mtime_ns: int
    executable: bool


@dataclass(frozen=True)
class Manifest(Record, record_type="tree-manifest", bucket=buckets.ARCHIVES):
    """Every file of a cached tree (the record beside it): what a tree is checked against before
    use."""
    files: list[ManifestFile]
    source: str = ""


@dataclass(frozen=True)
class Listing:
    """What a ``Cache.build_tree`` populate callback returns when it knows the whole tree: every
    regular file it wrote (and nothing else is there: no links, no other files), each already
    with its final read-only mode (0o444, 0o555 when executable), its size, sha256 and the mtime
    ``fstat`` saw after its last write. The tree is then listed without walking, stat-ing, hashing
    or chmod-ing it again (``listed_files``). A populate that cannot promise that returns
    ``{relpath: sha256}`` or None instead (``hash_tree``)."""

    files: list[ManifestFile]

    def digests(self) -> dict[str, str]:
        return {f.path: f.sha256 for f in self.files}


def listed_files(listing: Listing) -> list[ManifestFile]:
    """The manifest files of a ``Listing``, in ``hash_tree``'s order."""
    return sorted(listing.files, key=_walk_order)


def _walk_order(f: ManifestFile) -> tuple[tuple[int, str], ...]:
    """``hash_tree``'s order (a sorted top-down walk): a directory's files by name, then its
    subdirectories by name."""
    *dirs, name = f.path.split("/")
    return (*((1, d) for d in dirs), (0, name))


def hash_tree(tree: Path, known: dict[str, str], *, read_only: bool) -> list[ManifestFile]:
    """Walk ``tree``: hash every file (unless ``known``), optionally make it read-only, and list
    it. (Durability is the caller's: ``Cache.build_tree`` syncs the whole entry once.)"""
    out: list[ManifestFile] = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, tree).replace(os.sep, "/")
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(f"not a regular file in unpacked tree: {rel}")
            digest = known.get(rel)
            if digest is None:
                h = hashlib.sha256()
                with open(full, "rb", buffering=0) as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
                digest = h.hexdigest()
            executable = bool(st.st_mode & 0o111)
            if read_only:
                os.chmod(full, 0o555 if executable else 0o444)  # changes neither size nor mtime
            out.append(ManifestFile(rel, st.st_size, digest, st.st_mtime_ns, executable))
    return out


def check_tree(tree: Path, manifest: Manifest) -> str | None:
    """Cheap check: every file exists as a regular file with its recorded size and mtime.
    Returns None when fine, else a short reason."""
    base = os.fspath(tree) + os.sep  # (f.path is relative: no os.path.join per file)
    lstat = os.lstat
    for f in manifest.files:
        try:
            st = lstat(base + f.path)
        except FileNotFoundError:
            return f"file missing from unpacked tree: {f.path}"
        except OSError as exc:
            return f"{f.path}: {exc.strerror}"
        if not stat.S_ISREG(st.st_mode):
            return f"not a regular file: {f.path}"
        if st.st_size != f.size or st.st_mtime_ns != f.mtime_ns:
            return f"file changed since it was unpacked: {f.path}"
    return None


def verify_tree(tree: Path, manifest: Manifest) -> str | None:
    """Full check: the cheap check, then every file re-hashed."""
    problem = check_tree(tree, manifest)
    if problem is not None:
        return problem
    for f in manifest.files:
        h = hashlib.sha256()
        try:
            with open(os.path.join(tree, f.path), "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        except OSError as exc:
            return f"{f.path}: {exc.strerror}"
        if h.hexdigest() != f.sha256:
            return f"content changed: {f.path}"
    return None
