"""Helpers of the remote-cache tests: "machines" (satchel CLIs with their own cache sharing a
bucket prefix) and a test's view of its bucket prefix, read and tampered with through opendal."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from satchel.cache.remote import layout
from tests.support.builds import builds_in, intree_sdist
from tests.support.cli import Satchel
from tests.support.index_server import IndexServer
from tests.support.seaweed import Seaweed


def machine(
    tmp_path: Path,
    index: IndexServer,
    name: str,
    url: str,
    env: dict[str, str],
    *,
    mode: str = "read",
) -> Satchel:
    home = tmp_path / name
    home.mkdir(parents=True, exist_ok=True)
    return Satchel(
        home,
        home / "cache",
        index_url=index.index_url,
        env={
            **env,
            "SATCHEL_REMOTE_CACHE": url,
            "SATCHEL_REMOTE_CACHE_MODE": mode,
            "SATCHEL_REMOTE_UPLOAD_WAIT": "60",
        },
    )


class Bucket:
    """One test's prefix of the shared bucket, seen directly (not through satchel)."""

    def __init__(self, server: Seaweed, prefix: str) -> None:
        self.server = server
        self.prefix = prefix
        self.op = server.operator(f"/{prefix}/")

    @property
    def url(self) -> str:
        return f"s3://satchel/{self.prefix}"

    def paths(self) -> list[str]:
        return sorted(e.path for e in self.op.list("", recursive=True) if not e.path.endswith("/"))  # type: ignore[attr-defined]

    def records(self, kind: str = "built") -> list[str]:
        return [p for p in self.paths() if p.startswith(f"v1/ac/{kind}/")]

    def blobs(self) -> list[str]:
        return [p for p in self.paths() if p.startswith("v1/cas/")]

    def read(self, path: str) -> bytes:
        return bytes(self.op.read(path))  # type: ignore[attr-defined]

    def action(self, path: str) -> layout.ActionRecord:
        return layout.loads(self.read(path))

    def wheel_record(self, name: str) -> str:
        found = [p for p in self.records() if f"/{name}/" in p and p.endswith("/wheel")]
        assert len(found) == 1, self.paths()
        return found[0]

    def check_consistent(self) -> None:
        """Every blob hashes to its name; every record decodes and its blobs are there."""
        paths = set(self.paths())
        for p in paths:
            digest = layout.parse_blob_path(p)
            if digest is not None:
                assert hashlib.sha256(self.read(p)).hexdigest() == digest, p
        for p in paths:
            if p.startswith("v1/ac/"):
                rec = self.action(p)
                for f in rec.files:
                    assert layout.blob_path(f.sha256) in paths, (p, f)


@pytest.fixture
def bucket(seaweed: Seaweed) -> Bucket:
    return Bucket(seaweed, seaweed.prefix())


def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def remote_warnings(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("warning:") and "remote" in ln]



def warm(tmp_path: Path, index_server: IndexServer, bucket: Bucket, env: dict[str, str],
         *names: str) -> None:
    """A read-write machine builds in-tree sdists ``names`` once: the bucket holds them."""
    for name in names:
        intree_sdist(index_server.directory, name)
    a = machine(tmp_path, index_server, "warm", bucket.url, env, mode="read-write")
    out = a.run("install", "-p", a.venv(), *names, "-v")
    assert len(builds_in(out.stderr)) == len(names), out
