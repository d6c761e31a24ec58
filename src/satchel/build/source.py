"""What can be built: an sdist archive, a local project directory, or a git commit.

A :class:`Source` is a plain description; nothing is unpacked or checked out until a build needs it
(:func:`project_dir`). Each source has an exact cache key (:meth:`Source.key`):

* sdist: ``sha256-<hex>`` of the archive;
* git: ``git-<commit>`` (plus a digest of ``#subdirectory=`` when given);
* local directory: ``dir-<fingerprint>``, a digest of pyproject.toml, setup.py and setup.cfg and of
  the (relative path, size, mtime_ns) of every file below the directory, skipping VCS metadata,
  build outputs, caches and virtual environments (:func:`fingerprint_directory`).

Unpacking an sdist (``satchel.archives`` with ``SDIST_RULES``) refuses members that would land
outside the target directory (absolute paths, ``..``, links pointing outside, special files) with a
BuildError naming the member.
"""

from __future__ import annotations

import configparser
import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name

from satchel.archives import SDIST_RULES, Archive, ArchiveError, corrupt_errors
from satchel.cache.store import Cache, sha256_of
from satchel.errors import BuildError
from satchel.requirements.urls import infer_name_from_filename, redact, url_fragment, url_to_path

# git.py (subprocess, its timeout setting) is imported only when a git source is used.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.build.git import GitRevision

SourceKind = Literal["sdist", "directory", "git"]

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")

# Directories never part of a local project's fingerprint (at any depth), and names matched by
# suffix or prefix. ``build`` and ``dist`` are skipped only at the project's top level.
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
_SKIP_TOP_DIRS = frozenset({"build", "dist"})
_DEFINING_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class Source:
    """Something to build a wheel from. Create with :meth:`sdist`, :meth:`directory` or
    :func:`source_from_url` (which also resolves git URLs)."""

    kind: SourceKind
    # sdist: the archive file; directory: the project directory; git: the cache's bare repository.
    location: Path
    name: str | None = None  # canonical project name when known
    sha256: str | None = None  # sdist only
    git: GitRevision | None = None  # git only
    url: str | None = None  # the URL the user gave, for messages
    subdirectory: str | None = None  # the project's directory inside an sdist or a git checkout
    # sdist only: the archive is not on disk yet, this gets it (a download) when a build needs
    # it -- a wheel already built from it (its key is the known sha256) needs no download.
    fetch: Callable[[], Path] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def sdist(
        cls,
        path: Path,
        *,
        name: str | None = None,
        sha256: str | None = None,
        url: str | None = None,
        fetch: Callable[[], Path] | None = None,
    ) -> Source:
        """An sdist archive on disk. ``sha256`` is computed when not given (pass it when the
        download already verified it). ``name`` defaults to the one in the file name. With
        ``fetch`` the archive is not there yet: ``path`` only names it, ``fetch()`` gets it."""
        path = Path(os.path.abspath(path))
        if name is None:
            name = infer_name_from_filename(path.name)
        return cls(
            "sdist",
            path,
            name=_canonical(name),
            sha256=sha256.lower() if sha256 else None,
            url=url,
            fetch=fetch,
        )

    @classmethod
    def directory(cls, path: Path, *, name: str | None = None, url: str | None = None) -> Source:
        """A local project directory (pyproject.toml, or setup.py / setup.cfg only). ``name``
        defaults to the statically declared one (see :func:`static_project_name`)."""
        path = Path(os.path.abspath(path))
        if not path.is_dir():
            raise BuildError(f"{path}: not a directory")
        if not any((path / f).is_file() for f in _DEFINING_FILES):
            raise BuildError(
                f"{path} is not a Python project: it has no pyproject.toml, setup.py or setup.cfg"
            )
        if name is None:
            name = static_project_name(path)
        return cls("directory", path, name=_canonical(name), url=url)

    def with_name(self, name: str) -> Source:
        return Source(
            self.kind,
            self.location,
            name=_canonical(name),
            sha256=self.sha256,
            git=self.git,
            url=self.url,
            subdirectory=self.subdirectory,
            fetch=self.fetch,
        )

    def key(self) -> str:
        """The exact cache key of this source (one path segment)."""
        if self.kind == "sdist":
            digest = self.sha256 or sha256_of(self.archive())
            return f"sha256-{digest}"
        if self.kind == "git":
            assert self.git is not None
            if self.subdirectory:
                sub = hashlib.sha256(self.subdirectory.encode()).hexdigest()[:12]
                return f"git-{self.git.commit}-{sub}"
            return f"git-{self.git.commit}"
        return f"dir-{fingerprint_directory(self.location)}"

    def archive(self) -> Path:
        """The sdist archive on disk (fetched now if it was not yet)."""
        return self.fetch() if self.fetch is not None else self.location

    def describe(self) -> str:
        if self.url:
            return redact(self.url)
        if self.kind == "git" and self.git is not None:
            return f"{redact(self.git.repo)}@{self.git.commit}"
        return str(self.location)

    @property
    def label(self) -> str:
        """The package name when known, else where the source is."""
        return self.name or self.describe()


def _canonical(name: str | None) -> str | None:
    return str(canonicalize_name(name)) if name else None


def source_from_url(
    url: str, *, cache: Cache, name: str | None = None, git_timeout: float | None = None
) -> Source:
    """The source of a direct reference: ``git+<scheme>://...[@ref][#subdirectory=...]``,
    ``file://`` URLs or plain paths of sdists or project directories.

    A git URL is resolved to its commit now (fetching into the cache's git database when the ref
    is not a known commit; each git command given ``git_timeout`` seconds, default
    ``git.GIT_TIMEOUT``). Remote archive URLs are not handled here: download them (verifying
    hashes) and pass the file to :meth:`Source.sdist`.
    """
    if url.lower().startswith("git+"):
        from satchel.build.git import GIT_TIMEOUT, database_path, resolve

        timeout = GIT_TIMEOUT if git_timeout is None else git_timeout
        revision = resolve(url, cache=cache, timeout=timeout)
        return Source(
            "git",
            database_path(cache, revision.repo),
            name=_canonical(name or url_fragment(url).get("egg")),
            git=revision,
            url=url,
            subdirectory=revision.subdirectory,
        )
    if url.lower().startswith(("hg+", "svn+", "bzr+")):
        raise BuildError(
            f"{redact(url)}: only git URLs are supported among version control systems"
        )
    fragment = url_fragment(url) if "#" in url else {}
    path = url_to_path(url) if url.lower().startswith("file:") else None
    if path is None:
        if "://" in url:
            raise BuildError(
                f"{redact(url)}: remote archives must be downloaded before they can be built"
            )
        path = Path(url.split("#", 1)[0])
    path = Path(os.path.abspath(path))
    name = name or fragment.get("egg")
    if path.is_dir():
        sub = fragment.get("subdirectory")
        if sub:
            path = _inside(path, sub, url)
        return Source.directory(path, name=name, url=url if "://" in url else None)
    if path.is_file() and path.name.lower().endswith(SDIST_SUFFIXES):
        return Source.sdist(path, name=name, url=url if "://" in url else None)
    if not path.exists():
        raise BuildError(f"{redact(url)}: no such file or directory")
    raise BuildError(f"{redact(url)}: not a source distribution or a project directory")


def _inside(root: Path, sub: str, what: str) -> Path:
    target = Path(os.path.normpath(root / sub))
    if not target.is_relative_to(root):
        raise BuildError(f"{redact(what)}: subdirectory {sub!r} is outside the project")
    return target


# -- names ---------------------------------------------------------------------------------------


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def load_pyproject(project: Path) -> dict[str, Any] | None:
    """The parsed pyproject.toml of ``project``, None when it has none; BuildError when invalid
    (nested too deeply to parse included)."""
    path = project / "pyproject.toml"
    try:
        return _load_toml(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BuildError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise BuildError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:  # the parser recurses once per level of [ or {
        raise BuildError(f"{path} is not valid TOML: arrays or inline tables nested too deeply to read") from None


def static_project_name(project: Path) -> str | None:
    """The project name declared statically: pyproject.toml ``[project] name``, else setup.cfg
    ``[metadata] name``. None when it is only known by running the build backend."""
    try:
        data = load_pyproject(project)
    except BuildError:
        data = None
    if data is not None:
        table = data.get("project")
        if isinstance(table, dict):
            name = table.get("name")
            if isinstance(name, str) and name and "name" not in (table.get("dynamic") or []):
                return str(canonicalize_name(name))
    cfg = project / "setup.cfg"
    if cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(cfg, encoding="utf-8")
            name = parser.get("metadata", "name", fallback="").strip()
        except (configparser.Error, OSError, UnicodeDecodeError):
            name = ""
        if name and "%" not in name and "attr:" not in name:
            return str(canonicalize_name(name))
    return None


# -- the local directory fingerprint -------------------------------------------------------------


def _skipped(name: str, top: bool) -> bool:
    return (
        name in _SKIP_DIRS
        or name.endswith(".egg-info")
        or name.startswith(".venv")
        or (top and name in _SKIP_TOP_DIRS)
    )


def fingerprint_directory(project: Path) -> str:
    """A digest of what defines a local project: the bytes of pyproject.toml, setup.py and
    setup.cfg, and (relative path, size, mtime_ns) of every file below ``project`` except in
    ``.git``/VCS directories, top-level ``build/`` and ``dist/``, ``*.egg-info``, ``__pycache__``,
    ``.venv*`` and tool caches. Symbolic links are recorded with their target, not followed."""
    h = hashlib.sha256(b"satchel-dir-fingerprint-v1\0")
    for name in _DEFINING_FILES:
        try:
            data = (project / name).read_bytes()
        except FileNotFoundError:
            h.update(f"{name}\0absent\0".encode())
            continue
        except OSError as exc:
            raise BuildError(f"cannot read {project / name}: {exc.strerror or exc}") from None
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    entries: list[str] = []
    base = str(project)
    for dirpath, dirnames, filenames in os.walk(base):
        top = dirpath == base
        dirnames[:] = sorted(d for d in dirnames if not _skipped(d, top))
        for fname in filenames:
            full = os.path.join(dirpath, fname)
            rel = os.path.relpath(full, base).replace(os.sep, "/")
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                try:
                    entries.append(f"L\0{rel}\0{os.readlink(full)}")
                except OSError:
                    continue
            else:
                entries.append(f"F\0{rel}\0{st.st_size}\0{st.st_mtime_ns}")
        for d in dirnames:  # symlinked directories are not walked: record them
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                rel = os.path.relpath(full, base).replace(os.sep, "/")
                with contextlib.suppress(OSError):
                    entries.append(f"L\0{rel}\0{os.readlink(full)}")
    for entry in sorted(entries):
        h.update(entry.encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()[:32]


# -- getting a project directory to build in -----------------------------------------------------


@contextlib.contextmanager
def project_dir(source: Source, *, cache: Cache) -> Iterator[Path]:
    """A directory holding ``source``'s project for the duration of the block: the directory
    itself, a safely unpacked sdist, or a git checkout (both in a temporary directory removed
    afterwards)."""
    if source.kind == "directory":
        yield source.location
        return
    tmp = Path(tempfile.mkdtemp(prefix="satchel-build-"))
    try:
        if source.kind == "sdist":
            root = unpack_sdist(source.archive(), tmp / "src")
        else:
            from satchel.build.git import checkout

            assert source.git is not None
            root = tmp / "src"
            checkout(cache, source.git, root)
            if source.subdirectory:
                root = _inside(root, source.subdirectory, source.describe())
                if not root.is_dir():
                    raise BuildError(
                        f"{source.describe()}: subdirectory {source.subdirectory!r} does not "
                        f"exist at commit {source.git.commit}"
                    )
        if not any((root / f).is_file() for f in _DEFINING_FILES):
            raise BuildError(
                f"{source.describe()} is not a Python project: "
                "it has no pyproject.toml, setup.py or setup.cfg"
            )
        yield root
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unpack_sdist(archive: Path, dest: Path) -> Path:
    """Unpack an sdist (tar or zip) into ``dest`` and return the project directory in it (the
    single top-level directory, when there is one). Raises BuildError for unsafe members (the
    rules are ``satchel.archives.SDIST_RULES``)."""
    label = archive.name
    dest.mkdir(parents=True, exist_ok=True)
    unreadable: tuple[type[Exception], ...] = (*corrupt_errors(), OSError)
    try:
        with Archive.open(archive, label, SDIST_RULES) as opened:
            opened.extract(opened.entries, dest)
    except ArchiveError as exc:
        hint = "the source archive is malformed or hostile; nothing was built"
        raise BuildError(exc.message, hint=hint if exc.member else None) from None
    except unreadable as exc:
        if isinstance(exc, OSError) and exc.strerror:
            raise BuildError(f"cannot unpack {label}: {exc.strerror}") from None
        raise BuildError(f"cannot unpack {label}: corrupt archive ({exc})") from None
    children = [c for c in dest.iterdir()]
    if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
        return children[0]
    return dest
