"""git URLs: ``git+https://host/repo.git@ref#subdirectory=pkg`` (also ``git+http``, ``git+ssh``,
``git+file``, ``git+git``).

Each repository gets one bare database in the cache, ``built-v1/_git/<digest of the repo URL>/``,
updated with ``git fetch`` under a per-repository lock. A ref is resolved to a commit there; a full
commit id the database already has needs no network at all. A build checks the commit out into a
temporary directory (sharing the database's objects); the built wheel is cached by commit, so a
commit is checked out at most once per interpreter and settings.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from satchel.cache import atomic, buckets
from satchel.cache.locks import flock
from satchel.cache.store import Cache, safe_key
from satchel.errors import BuildError
from satchel.requirements.urls import redact, url_fragment

_SCHEMES = ("https", "http", "ssh", "file", "git")
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHORT_SHA = re.compile(r"[0-9a-f]{7,64}")
#: Seconds one git command may take (``Settings.git_timeout``, SATCHEL_GIT_TIMEOUT, passes another).
GIT_TIMEOUT = 600.0


@dataclass(frozen=True)
class GitRevision:
    """A git repository URL resolved to one commit."""

    repo: str  # the URL git fetches from (no "git+", no @ref, no fragment)
    ref: str | None  # what the user asked for (branch, tag, commit), None for the default branch
    commit: str  # 40 hex digits
    subdirectory: str | None = None
    # Seconds a git command may take when checking it out (what it was resolved with); not
    # part of its identity.
    timeout: float = field(default=600.0, compare=False, repr=False)


class GitError(BuildError):
    """A git URL could not be parsed, fetched, resolved or checked out."""


@dataclass(frozen=True)
class GitUrl:
    """A ``git+`` URL taken apart: the repository, the ref and the subdirectory."""
    repo: str  # what git fetches from
    ref: str | None
    subdirectory: str | None


def parse_git_url(url: str) -> GitUrl:
    """Split ``git+<scheme>://...[@ref][#subdirectory=..&egg=..]``. Raises GitError."""
    if not url.lower().startswith("git+"):
        raise GitError(f"{redact(url)}: not a git URL (expected git+https://, git+file://, ...)")
    fragment = url_fragment(url) if "#" in url else {}
    bare = url[4:].split("#", 1)[0]
    parts = urlsplit(bare)
    if parts.scheme.lower() not in _SCHEMES:
        raise GitError(
            f"{redact(url)}: unsupported git transport {parts.scheme!r}",
            hint="use git+https://, git+ssh://, git+http://, git+git:// or git+file://",
        )
    path = parts.path
    ref: str | None = None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
        if not ref:
            raise GitError(f"{redact(url)}: empty ref after '@'")
    if parts.scheme.lower() != "file" and not parts.netloc:
        raise GitError(f"{redact(url)}: no host")
    if not path or path == "/":
        raise GitError(f"{redact(url)}: no repository path")
    repo = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    sub = fragment.get("subdirectory") or None
    if sub is not None:
        norm = os.path.normpath(sub)
        if norm.startswith(("/", "..")) or os.path.isabs(sub):
            raise GitError(f"{redact(url)}: subdirectory {sub!r} is outside the repository")
    return GitUrl(repo, ref, sub)


def database_path(cache: Cache, repo: str) -> Path:
    return cache.bucket_dir(buckets.BUILT) / "_git" / safe_key(repo, 24)


def _environ() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_NAMESPACE",
            "GIT_COMMON_DIR",
        )
    }
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_ALLOW_PROTOCOL", "file:git:http:https:ssh")
    env["LC_ALL"] = "C"
    return env


def _git(
    *args: str, cwd: Path | None = None, check: bool = True, timeout: float = GIT_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_environ(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        if cwd is not None and not cwd.is_dir():
            raise GitError(f"cannot run git in {cwd}: the directory does not exist") from None
        raise GitError("git URLs need git, and no `git` command was found on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {args[0]}` did not finish within {timeout:g} seconds") from None
    if check and proc.returncode != 0:
        raise GitError(
            f"`git {' '.join(redact(a) for a in args[:2])}` failed: {_last_line(proc.stderr)}"
        )
    return proc


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact(lines[-1]) if lines else "no output"


def _rev(db: Path, spec: str) -> str | None:
    if not (db / "HEAD").is_file():
        return None
    proc = _git("rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}", cwd=db, check=False)
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and _FULL_SHA.fullmatch(out) else None


def _fetch(db: Path, repo: str, *refspecs: str, timeout: float) -> subprocess.CompletedProcess[str]:
    # No automatic gc: temporary checkouts borrow the database's objects (clone --shared).
    return _git(
        "-c",
        "gc.auto=0",
        "fetch",
        "--quiet",
        "--force",
        "--prune",
        repo,
        *refspecs,
        cwd=db,
        check=False,
        timeout=timeout,
    )


def resolve(url: str, *, cache: Cache, timeout: float = GIT_TIMEOUT) -> GitRevision:
    """Resolve a git URL's ref (default: the remote's HEAD) to a commit, fetching into the
    cache's database for the repository when needed (each git command given ``timeout``
    seconds). Raises GitError."""
    parsed = parse_git_url(url)
    db = database_path(cache, parsed.repo)
    shown = redact(parsed.repo)
    with flock(db.parent / f"{db.name}.lock", timeout=cache.lock_timeout):
        if not (db / "HEAD").is_file():
            atomic.make_dirs(db)  # (survives `cache clean` removing it at that moment)
            _git("init", "--quiet", "--bare", str(db))
        ref = parsed.ref
        if ref is not None and _FULL_SHA.fullmatch(ref.lower()):
            commit = _rev(db, ref.lower())
            if commit is not None:
                return GitRevision(parsed.repo, ref, commit, parsed.subdirectory, timeout=timeout)
        refspecs = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
        proc = _fetch(db, parsed.repo, *refspecs, "+HEAD:refs/remotes/origin/HEAD", timeout=timeout)
        if proc.returncode != 0:
            # A remote whose HEAD names no branch fails the whole fetch: try without it.
            proc = _fetch(db, parsed.repo, *refspecs, timeout=timeout)
        if proc.returncode != 0:
            raise GitError(f"cannot fetch {shown}: {_last_line(proc.stderr)}")
        commit = _resolve_ref(db, ref)
        if (
            commit is None
            and ref is not None
            and _SHORT_SHA.fullmatch(ref.lower())
            and _fetch(db, parsed.repo, ref, timeout=timeout).returncode == 0
        ):
            # A commit no branch or tag points at, asked for by id.
            commit = _rev(db, ref.lower())
        if commit is None:
            what = f"ref {ref!r}" if ref is not None else "a default branch (HEAD)"
            raise GitError(f"{shown} has no {what}")
        return GitRevision(parsed.repo, ref, commit, parsed.subdirectory, timeout=timeout)


def _resolve_ref(db: Path, ref: str | None) -> str | None:
    if ref is None:
        return _rev(db, "refs/remotes/origin/HEAD")
    for spec in (f"refs/remotes/origin/{ref}", f"refs/tags/{ref}"):
        commit = _rev(db, spec)
        if commit is not None:
            return commit
    if _SHORT_SHA.fullmatch(ref.lower()):
        return _rev(db, ref.lower())
    return None


def checkout(cache: Cache, revision: GitRevision, dest: Path) -> None:
    """Check ``revision.commit`` out into the new directory ``dest`` (with submodules).
    The commit must have been resolved by :func:`resolve` with the same cache (whose git
    timeout applies here too)."""
    timeout = revision.timeout
    db = database_path(cache, revision.repo)
    shown = redact(revision.repo)
    if _rev(db, revision.commit) is None:
        # The database was removed (cache clean) since the ref was resolved: fetch again.
        resolve(f"git+{revision.repo}@{revision.commit}", cache=cache, timeout=timeout)
    _git("clone", "--quiet", "--shared", "--no-checkout", str(db), str(dest), timeout=timeout)
    _git("remote", "set-url", "origin", revision.repo, cwd=dest, timeout=timeout)
    proc = _git(
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "--quiet",
        "--detach",
        revision.commit,
        cwd=dest,
        check=False,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise GitError(f"cannot check out {revision.commit} of {shown}: {_last_line(proc.stderr)}")
    if (dest / ".gitmodules").is_file():
        proc = _git(
            "submodule", "update", "--init", "--recursive", "--quiet", cwd=dest, check=False,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise GitError(
                f"cannot fetch the submodules of {shown} at {revision.commit}: "
                f"{_last_line(proc.stderr)}"
            )
