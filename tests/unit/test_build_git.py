"""git+file:// URLs: refs resolve to commits, the commit is the cache key, no network once a
commit is known."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from satchel.build import BuildRequest, build_wheel, source_from_url
from satchel.build.git import GitError, database_path, resolve
from satchel.cache.store import Cache
from satchel.python.interpreter import Interpreter
from tests.support.builds import (
    cache_fixture,  # noqa: F401
    events,
    interpreter_fixture,  # noqa: F401
    intree_project,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository with an in-tree-backend project: v1.0 tagged, then 2.0 on main."""
    root = intree_project(
        tmp_path / "repo", "gitdemo", "1.0", events=str(tmp_path / "events.jsonl")
    )
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "one")
    _git(root, "tag", "v1.0")
    first = _git(root, "rev-parse", "HEAD")
    (root / "backend.json").write_text(
        (root / "backend.json").read_text().replace('"1.0"', '"2.0"')
    )
    _git(root, "commit", "-q", "-am", "two")
    second = _git(root, "rev-parse", "HEAD")
    return root, first, second


def test_refs_resolve_to_commits(repo: tuple[Path, str, str], cache: Cache) -> None:
    root, first, second = repo
    url = f"git+{root.as_uri()}"
    assert resolve(url, cache=cache).commit == second  # default branch
    assert resolve(url + "@main", cache=cache).commit == second
    assert resolve(url + "@v1.0", cache=cache).commit == first
    assert resolve(url + f"@{first}", cache=cache).commit == first
    assert resolve(url + f"@{first[:10]}", cache=cache).commit == first
    with pytest.raises(GitError, match="no ref 'nope'"):
        resolve(url + "@nope", cache=cache)
    with pytest.raises(GitError, match="cannot fetch"):
        resolve(f"git+{(root.parent / 'missing').as_uri()}", cache=cache)


def test_a_known_commit_needs_no_fetch(repo: tuple[Path, str, str], cache: Cache) -> None:
    root, first, _second = repo
    url = f"git+{root.as_uri()}"
    resolve(url, cache=cache)
    shutil.rmtree(root)  # the remote is gone: a pinned, known commit still resolves
    assert resolve(url + f"@{first}", cache=cache).commit == first
    with pytest.raises(GitError):
        resolve(url + "@main", cache=cache)  # a branch must be fetched


def test_git_url_pinned_to_a_commit_builds_and_caches_by_commit(
    tmp_path: Path,
    repo: tuple[Path, str, str],
    cache: Cache,
    interpreter: Interpreter,
) -> None:
    root, first, second = repo
    url = f"git+{root.as_uri()}"
    source = source_from_url(url + f"@{first}", cache=cache, name="gitdemo")
    assert source.kind == "git" and source.key() == f"git-{first}"
    wheel = build_wheel(BuildRequest(source, interpreter, cache=cache))
    assert wheel.filename == "gitdemo-1.0-py3-none-any.whl" and not wheel.cached
    assert f"/gitdemo/git-{first}/" in str(wheel.path)
    # The same commit by tag: the same entry, no new build.
    by_tag = build_wheel(BuildRequest(
        source_from_url(url + "@v1.0", cache=cache, name="gitdemo"), interpreter, cache=cache
    ))
    assert by_tag.cached and by_tag.sha256 == wheel.sha256
    # The branch points at another commit: another key, another build.
    latest = build_wheel(BuildRequest(
        source_from_url(url + "@main", cache=cache, name="gitdemo"), interpreter, cache=cache
    ))
    assert latest.filename == "gitdemo-2.0-py3-none-any.whl" and f"git-{second}" in str(latest.path)
    assert len(events(tmp_path / "events.jsonl", "build_wheel")) == 2
    # The checkout is temporary: nothing of the work tree stays in the cache, only the database.
    assert (database_path(cache, root.as_uri()) / "HEAD").is_file()
    assert not list((cache.root / "built-v1").rglob("backend.json"))


def test_git_subdirectory_and_a_deleted_database(
    tmp_path: Path,
    cache: Cache,
    interpreter: Interpreter,
) -> None:
    root = tmp_path / "mono"
    intree_project(root / "py", "subdemo")
    (root / "README").write_text("not a python project at the top\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "one")
    url = f"git+{root.as_uri()}@main#subdirectory=py"
    source = source_from_url(url, cache=cache)
    assert source.subdirectory == "py" and source.key().startswith("git-")
    shutil.rmtree(database_path(cache, root.as_uri()))  # `cache clean` between resolve and build
    wheel = build_wheel(BuildRequest(source, interpreter, cache=cache))
    assert wheel.name == "subdemo"
    missing = source_from_url(f"git+{root.as_uri()}@main#subdirectory=nope", cache=cache)
    with pytest.raises(Exception, match="subdirectory 'nope' does not exist"):
        build_wheel(BuildRequest(missing, interpreter, cache=cache))


def test_the_git_timeout_is_the_callers(repo: tuple[Path, str, str], cache: Cache, tmp_path: Path) -> None:
    # (SATCHEL_GIT_TIMEOUT was read at import; now Settings passes it down)
    root, _first, second = repo
    url = f"git+{root.as_uri()}"
    with pytest.raises(GitError, match=r"did not finish within 1e-06 seconds"):
        resolve(url, cache=cache, timeout=1e-6)
    revision = resolve(url, cache=cache, timeout=30)
    assert revision.commit == second and revision.timeout == 30
    # Checking out uses the timeout the revision was resolved with.
    from dataclasses import replace

    from satchel.build.git import checkout

    with pytest.raises(GitError, match=r"did not finish within 1e-06 seconds"):
        checkout(cache, replace(revision, timeout=1e-6), tmp_path / "checkout")
    assert replace(revision, timeout=1e-6) == revision  # not part of its identity


def test_a_database_removed_while_it_is_made_again(
    repo: tuple[Path, str, str], cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database directory left without HEAD (a `cache clean` under way, an interrupted init)
    is made again; when another process removes it at that very moment, pathlib's mkdir raises
    FileExistsError (the name was taken, then no directory was there): the resolve tries again
    instead of failing with a traceback."""
    import os

    from satchel.cache import atomic

    root, _first, second = repo
    url = f"git+{root.as_uri()}"
    db = database_path(cache, str(root.as_uri()))
    db.mkdir(parents=True)
    real_mkdir = os.mkdir
    raced: list[str] = []

    def mkdir(path: str | os.PathLike[str], mode: int = 0o777, **kwargs: object) -> None:
        try:
            real_mkdir(path, mode, **kwargs)  # type: ignore[arg-type]
        except FileExistsError:
            if Path(path) == db and not raced:
                raced.append(str(path))
                atomic.remove_tree(db)
            raise

    monkeypatch.setattr(os, "mkdir", mkdir)
    assert resolve(url, cache=cache).commit == second
    assert raced == [str(db)]
