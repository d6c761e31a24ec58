"""Safe extraction of zip and tar archives: sdists (build/source.py) and wheels (install/unpack.py).

An ``Archive`` checks every member once, before writing a byte, into a list of typed ``Entry``
records; extraction works from that list only. One checker holds the rules for member names and
types; ``MemberRules`` says which of the stricter ones apply:

* always: no empty name, backslash, absolute path, drive letter, control character or ``..``
  component; no special files (devices, FIFOs); no encrypted or unsupported-compression zip member;
  files are opened without following links;
* ``links``: symbolic and hard links are allowed when they point inside the archive (checked by
  name here, and again by real path when made, after every file); otherwise a link is refused;
* ``lenient_names``: ``./`` prefixes and empty or ``.`` components are dropped (tarballs have
  them); otherwise they are refused;
* ``unique``: two members with the same (NFC-normalized) name, or a name that is both a file and a
  directory, are refused, and extraction never overwrites; otherwise a later member wins;
* ``limits``: zip-bomb guards (member count, total declared size, expansion ratio).

A problem raises ``ArchiveError`` (one line: the archive's label, the member and what is wrong);
the callers re-raise it as their layer's error. Reading a damaged archive raises one of
``CORRUPT``; the callers say so in their own words.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import hashlib
import os
import posixpath
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from satchel import zipdata
from satchel.errors import SatchelError

if TYPE_CHECKING:
    import tarfile

EntryKind = Literal["file", "dir", "symlink", "hardlink"]

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f]")
_SUPPORTED_COMPRESSION = (
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
)
_CHUNK = 1 << 20
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# What reading a damaged archive can raise, besides OSError (CRC errors are BadZipFile). tarfile's
# own errors (tarfile.TarError) are added by ``corrupt_errors`` when tarfile is loaded.
CORRUPT: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
try:  # a Python built without liblzma has no lzma module (and reads no .xz or LZMA members)
    import lzma

    CORRUPT = (*CORRUPT, lzma.LZMAError)
except ImportError:
    pass


class ArchiveError(SatchelError):
    """An archive member is unsafe or not allowed (``member`` names it), or the archive as a
    whole is (``member`` is None)."""

    def __init__(self, message: str, *, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member


class ArchiveReadError(ArchiveError):
    """Reading the archive itself failed with an I/O error (``reason``: the system's words), as
    opposed to writing what it holds: the file is unreadable, not the destination unwritable."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"cannot read {label}: {reason}")
        self.reason = reason


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
class MemberRules:
    """Which of the stricter member rules apply (see the module docstring)."""

    kind: str  # what the archive is, for messages: "wheel", "source archive"
    links: bool = False
    lenient_names: bool = False
    unique: bool = True
    limits: UnpackLimits | None = DEFAULT_LIMITS


WHEEL_RULES = MemberRules("wheel")
SDIST_RULES = MemberRules(
    "source archive", links=True, lenient_names=True, unique=False, limits=None
)


@dataclass(frozen=True)
class Entry:
    """One checked member. ``path`` is where it goes below the destination ("/"-separated, no
    empty, "." or ".." component); ``link`` is a symbolic link's target as stored, or the
    ``path`` of the file a hard link copies."""

    member: str  # the name as stored in the archive, for messages
    path: str
    kind: EntryKind
    mode: int  # the permission bits as stored (0 when the archive has none)
    size: int  # the declared size of a file
    link: str = ""
    info: zipfile.ZipInfo | tarfile.TarInfo | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Written:
    """A file extraction wrote: its size and the digests asked for."""

    size: int
    digests: dict[str, bytes]
    mtime_ns: int = 0  # as ``fstat`` saw it after the last write (``read_only`` extraction only)
    executable: bool = False


def name_problem(name: str, *, lenient: bool) -> str | None:
    """Why a member name (as stored; a directory's may end in "/") is unsafe, or None."""
    if not name or name == "/":
        return "has an empty name"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if _CONTROL.search(name):
        return "contains a control character"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    for part in parts:
        if part == "..":
            return "contains a '..' component"
        if part in ("", ".") and not lenient:
            return "contains an empty or '.' component"
    return None


def link_problem(path: str, target: str, *, hard: bool) -> str | None:
    """Why a link at ``path`` to ``target`` is unsafe by name, or None. (Whether it really stays
    inside is checked again when it is made: see ``Archive.extract``.)"""
    if not target:
        return "is a link with an empty target"
    if target.startswith("/") or "\\" in target:
        return f"is a link to an absolute path ({target})"
    base = "" if hard else posixpath.dirname(path)
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        return f"is a link pointing outside the archive ({target})"
    return None


def _normal_path(name: str) -> str:
    return "/".join(p for p in name.split("/") if p not in ("", "."))


# (entry, what is wrong with its type or None, compressed size if known)
_Raw = tuple[Entry, str | None, int | None]


class Archive:
    """An open zip or tar archive, checked against ``rules`` once (``entries``)."""

    def __init__(
        self,
        handle: zipfile.ZipFile | tarfile.TarFile,
        label: str,
        rules: MemberRules,
    ) -> None:
        self._handle = handle
        self.label = label
        self.rules = rules
        self._entries: list[Entry] | None = None

    @classmethod
    def open(cls, path: Path, label: str, rules: MemberRules, *, tar: bool = True) -> Archive:
        """Open ``path`` as a zip, else (with ``tar``) as a tar archive. Raises OSError, one of
        ``corrupt_errors()``, or ArchiveError when it is neither format."""
        if not tar:
            return cls(zipfile.ZipFile(path), label, rules)
        import tarfile

        if zipfile.is_zipfile(path):
            return cls(zipfile.ZipFile(path), label, rules)
        if tarfile.is_tarfile(path):
            return cls(tarfile.open(path), label, rules)
        raise ArchiveError(f"{label}: not a tar or zip archive")

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- checking ----------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """Every member, checked (ArchiveError on the first problem); members that name the top
        directory itself ("./") are left out."""
        if self._entries is None:
            self._entries = self._check()
        return self._entries

    def _refuse(self, member: str, problem: str) -> ArchiveError:
        return ArchiveError(
            f"{self.label}: refusing to unpack member {member!r}: it {problem}", member=member
        )

    def _check(self) -> list[Entry]:
        if isinstance(self._handle, zipfile.ZipFile):
            raw = self._zip_entries(self._handle)
        else:
            raw = self._tar_entries(self._handle)
        rules = self.rules
        limits = rules.limits
        if limits is not None and len(raw) > limits.max_members:
            raise ArchiveError(
                f"{self.label} has {len(raw)} members, more than the limit of {limits.max_members}"
            )
        entries: list[Entry] = []
        seen: dict[str, str] = {}  # normalized file name -> member name
        dirs: set[str] = set()  # normalized directory paths, explicit or implied
        total = 0
        for entry, problem, compressed in raw:
            problem = name_problem(entry.member, lenient=rules.lenient_names) or problem
            if problem is None and entry.kind in ("symlink", "hardlink"):
                problem = self._link_problem(entry)
            if problem is not None:
                raise self._refuse(entry.member, problem)
            if not entry.path:
                continue  # "./": the destination itself
            if entry.kind == "hardlink":
                entry = dataclasses.replace(entry, link=_normal_path(entry.link))
            entries.append(entry)
            if rules.unique:
                key = unicodedata.normalize("NFC", entry.path)
                # The directory itself, or the one a file is in, and every one above it, up to
                # the first one known already (those above a known one are known too).
                parent = key if entry.kind == "dir" else key.rpartition("/")[0]
                while parent and parent not in dirs:
                    dirs.add(parent)
                    parent = parent.rpartition("/")[0]
                if entry.kind == "dir":
                    continue
                if key in seen:
                    raise self._refuse(entry.member, f"duplicates member {seen[key]!r}")
                seen[key] = entry.member
            if limits is not None and entry.kind == "file":
                total += entry.size
                if total > limits.max_total_size:
                    raise ArchiveError(
                        f"{self.label} declares more than {limits.max_total_size} bytes of "
                        "content; refusing to unpack it (zip bomb?)"
                    )
                if (
                    compressed is not None
                    and entry.size >= limits.ratio_min_size
                    and entry.size > limits.max_ratio * max(compressed, 1)
                ):
                    raise self._refuse(
                        entry.member, f"expands {compressed} bytes to {entry.size} (zip bomb?)"
                    )
        clash = dirs.intersection(seen)
        if clash:
            path = sorted(clash)[0]
            raise self._refuse(seen[path], "exists both as a file and as a directory")
        return entries

    def _link_problem(self, entry: Entry) -> str | None:
        hard = entry.kind == "hardlink"
        if not self.rules.links:
            kind = "hard" if hard else "symbolic"
            return f"is a {kind} link; a {self.rules.kind} may not contain links"
        return link_problem(entry.path, entry.link, hard=hard)

    def _zip_entries(self, zf: zipfile.ZipFile) -> list[_Raw]:
        """Every member as an entry, with what is wrong with its type (if anything) and its
        compressed size."""
        out: list[_Raw] = []
        for info in zf.infolist():
            name = info.filename
            mode = info.external_attr >> 16
            ftype = stat.S_IFMT(mode)
            kind: EntryKind = "file"
            link = ""
            problem = None
            if ftype not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
                problem = "is a special file (device, FIFO)"
            elif info.flag_bits & 0x1:
                problem = "is encrypted"
            elif info.is_dir() or ftype == stat.S_IFDIR:
                kind = "dir"
            elif ftype == stat.S_IFLNK:
                kind = "symlink"
                if self.rules.links:
                    try:
                        link = zf.read(info).decode("utf-8")
                    except UnicodeDecodeError:
                        problem = "is a link whose target is not UTF-8"
            elif info.compress_type not in _SUPPORTED_COMPRESSION:
                problem = f"uses unsupported compression {info.compress_type}"
            entry = Entry(name, self._path(name), kind, mode & 0o7777, info.file_size, link, info)
            out.append((entry, problem, info.compress_size))
        return out

    def _tar_entries(self, tf: tarfile.TarFile) -> list[_Raw]:
        out: list[_Raw] = []
        for m in tf.getmembers():
            kind: EntryKind = "file"
            link = ""
            problem = None
            if m.isdir():
                kind = "dir"
            elif m.issym():
                kind, link = "symlink", m.linkname
            elif m.islnk():
                kind, link = "hardlink", m.linkname
            elif not m.isreg():
                problem = "is a special file (device, FIFO)"
            entry = Entry(m.name, self._path(m.name), kind, m.mode, m.size, link, m)
            out.append((entry, problem, None))
        return out

    def _path(self, name: str) -> str:
        return _normal_path(name) if self.rules.lenient_names else name.rstrip("/")

    # -- reading and extracting --------------------------------------------------------------

    def read(self, entry: Entry) -> bytes:
        """The whole content of a file entry. An I/O error reading the archive raises
        ArchiveReadError."""
        return b"".join(self._chunks(entry))

    def _chunks(self, entry: Entry) -> Iterator[bytes]:
        """The content of a file entry in pieces of at most ``_CHUNK`` bytes. An I/O error
        reading the archive (an ``OSError`` with an errno: a failing disk, say) raises
        ArchiveReadError, so that callers writing the pieces somewhere can tell a source they
        cannot read from a destination they cannot write."""
        try:
            yield from self._source_chunks(entry)
        except OSError as exc:
            if exc.errno is None:  # (gzip.BadGzipFile: a corrupt archive, not a failing read)
                raise
            raise ArchiveReadError(self.label, exc.strerror or str(exc)) from None

    def _source_chunks(self, entry: Entry) -> Iterator[bytes]:
        """``_chunks`` without the translation of read errors: stored and deflated zip members
        with ``pread`` (``satchel/zipdata.py``), anything else through the library."""
        handle = self._handle
        if isinstance(handle, zipfile.ZipFile):
            info = entry.info
            assert isinstance(info, zipfile.ZipInfo)
            if zipdata.supported(info) and handle.fp is not None:
                encoding = getattr(handle, "metadata_encoding", None) or "cp437"
                return zipdata.member_chunks(
                    handle.fp.fileno(), info, encoding=encoding, chunk=_CHUNK
                )
        return self._stream(entry)

    def _stream(self, entry: Entry) -> Iterator[bytes]:
        with self._open(entry) as src:
            while chunk := src.read(_CHUNK):
                yield chunk

    def _open(self, entry: Entry) -> IO[bytes]:
        if isinstance(self._handle, zipfile.ZipFile):
            assert isinstance(entry.info, zipfile.ZipInfo)
            return self._handle.open(entry.info)
        src = self._handle.extractfile(entry.info)  # type: ignore[arg-type]
        assert src is not None
        return src

    def extract(
        self,
        entries: Iterable[Entry],
        dest: Path,
        *,
        algorithms: Callable[[Entry], Iterable[str]] | None = None,
        check: Callable[[Entry, Written], None] | None = None,
        mtimes: bool = True,
        read_only: bool = False,
    ) -> dict[str, Written]:
        """Write ``entries`` (from ``self.entries``) below ``dest``: directories, then each file
        as it comes (hashed with ``algorithms(entry)`` and passed to ``check``), then the links.
        Returns what was written per file path. With ``mtimes``, files keep their stored mtime.
        With ``read_only`` (``unique`` rules only: nothing is ever overwritten), each file is
        created with its final mode (0o444, or 0o555 when the member is executable) and its
        ``Written`` carries the mtime ``fstat`` saw after the last write: the tree needs no
        second pass to be listed or made read-only."""
        if read_only and not self.rules.unique:
            raise ValueError("read_only extraction needs unique member rules")
        dest.mkdir(parents=True, exist_ok=True)
        real_dest = os.path.realpath(dest)
        base = os.path.join(os.fspath(dest), "")
        made: set[str] = set()
        links: list[Entry] = []
        written: dict[str, Written] = {}
        for entry in entries:
            if entry.kind == "dir":
                _makedirs(base, entry.path, made)
                continue
            if entry.kind != "file":
                links.append(entry)
                continue
            parent = entry.path.rpartition("/")[0]
            if parent and parent not in made:
                _makedirs(base, parent, made)
            target = base + entry.path
            if self.rules.links:
                self._check_parent(Path(target), real_dest, entry)
            names = algorithms(entry) if algorithms else ()
            done = self._write(entry, target, names, read_only=read_only)
            written[entry.path] = done
            if mtimes:
                mtime = self._mtime(entry)
                with contextlib.suppress(OSError, OverflowError, ValueError):
                    os.utime(target, (mtime, mtime))
            if check is not None:
                check(entry, done)
        self._make_links(links, dest, real_dest)
        return written

    def _write(
        self, entry: Entry, target: str, algorithms: Iterable[str], *, read_only: bool
    ) -> Written:
        """Create ``target`` and write the entry's content with plain ``os.write`` calls (no
        buffered file object: it would ask the kernel whether the file is a terminal)."""
        executable = bool(entry.mode & 0o111)
        if read_only:
            mode = 0o555 if executable else 0o444
        else:
            mode = 0o755 if executable else 0o644
        unique = self.rules.unique
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | _CLOEXEC
        flags |= os.O_EXCL if unique else os.O_TRUNC
        if not unique and (os.path.islink(target) or os.path.isdir(target)):
            raise self._refuse(entry.member, "clashes with another member")
        try:
            # (a file created read-only is still open for writing: the mode applies from now on)
            fd = os.open(target, flags, mode)
        except FileExistsError:
            raise self._refuse(entry.member, "maps to the same file as another member") from None
        size = 0
        mtime_ns = 0
        try:
            if not unique:
                os.fchmod(fd, mode)  # exactly, also when a later member overwrites
            whole = self._whole(entry)
            if whole is not None:  # a small zip member, read in one go
                size = len(whole)
                if size > entry.size:
                    raise self._refuse(entry.member, "is larger than its declared size (zip bomb?)")
                digests = {name: hashlib.new(name, whole).digest() for name in algorithms}
                view = memoryview(whole)[os.write(fd, whole) if size else 0 :]
                while view:  # (what a short write left)
                    view = view[os.write(fd, view) :]
            else:
                hashers = {name: hashlib.new(name) for name in algorithms}
                for chunk in self._chunks(entry):
                    size += len(chunk)
                    if size > entry.size:
                        raise self._refuse(entry.member, "is larger than its declared size (zip bomb?)")
                    for h in hashers.values():
                        h.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                digests = {n: h.digest() for n, h in hashers.items()}
            if read_only:
                st = os.fstat(fd)
                mtime_ns = st.st_mtime_ns
                if stat.S_IMODE(st.st_mode) != mode:
                    os.fchmod(fd, mode)  # the umask took bits away (changes no mtime)
        finally:
            os.close(fd)
        return Written(size, digests, mtime_ns, executable)

    def _whole(self, entry: Entry) -> bytes | None:
        """The content of a stored or deflated zip member of at most ``_CHUNK`` bytes (packed
        and unpacked), read in one go (``zipdata.member_bytes``); None for any other member,
        which ``_chunks`` reads in pieces. Read errors are translated as ``_chunks`` does."""
        handle = self._handle
        info = entry.info
        if (
            not isinstance(handle, zipfile.ZipFile)
            or not isinstance(info, zipfile.ZipInfo)
            or info.file_size > _CHUNK
            or info.compress_size > _CHUNK
            or not zipdata.supported(info)
            or handle.fp is None
        ):
            return None
        encoding = getattr(handle, "metadata_encoding", None) or "cp437"
        try:
            return zipdata.member_bytes(handle.fp.fileno(), info, encoding=encoding)
        except OSError as exc:
            if exc.errno is None:
                raise
            raise ArchiveReadError(self.label, exc.strerror or str(exc)) from None

    @staticmethod
    def _mtime(entry: Entry) -> float:
        if isinstance(entry.info, zipfile.ZipInfo):
            return calendar.timegm((*entry.info.date_time, 0, 0, 0))
        assert entry.info is not None
        return float(entry.info.mtime)

    def _check_parent(self, target: Path, real_dest: str, entry: Entry) -> None:
        """The real directory a member lands in must be inside the destination (links are made
        last, but a member may sit below a link made earlier in that phase)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        real_parent = os.path.realpath(target.parent)
        if real_parent != real_dest and not real_parent.startswith(real_dest + os.sep):
            raise self._refuse(entry.member, "would be written outside the archive through a link")

    def _make_links(self, links: list[Entry], dest: Path, real_dest: str) -> None:
        for entry in links:
            path = dest / entry.path
            self._check_parent(path, real_dest, entry)
            if path.exists() or path.is_symlink():
                raise self._refuse(entry.member, "clashes with another member")
            if entry.kind == "hardlink":
                source = dest / entry.link
                if not source.is_file() or source.is_symlink():
                    raise self._refuse(entry.member, f"is a hard link to a missing file ({entry.link})")
                shutil.copy2(source, path)
                continue
            os.symlink(entry.link, path)
            real = os.path.realpath(path)
            if real != real_dest and not real.startswith(real_dest + os.sep):
                os.unlink(path)
                raise self._refuse(
                    entry.member, f"is a link pointing outside the archive ({entry.link})"
                )


def _makedirs(base: str, path: str, made: set[str]) -> None:
    """Make the directory ``path`` and its missing parents below ``base`` (which ends in a
    separator), one ``mkdir`` each; ``made`` remembers them. An existing directory is fine (as
    ``os.makedirs(exist_ok=True)``); anything else there raises."""
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        sub = "/".join(parts[:i])
        if sub in made:
            continue
        try:
            os.mkdir(base + sub)
        except FileExistsError:
            if not os.path.isdir(base + sub):
                raise
        made.add(sub)


def corrupt_errors() -> tuple[type[Exception], ...]:
    """``CORRUPT`` plus tarfile's errors."""
    import tarfile

    return (*CORRUPT, tarfile.TarError)
