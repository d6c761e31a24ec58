"""Shared pytest fixtures (index server, interpreters, environments)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.index.http import HttpClient
from tests.support.cli import Satchel
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist, build_wheel


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """An empty directory whose wheels/sdists an ``index_server`` serves."""
    d = tmp_path / "index"
    d.mkdir()
    return d


@pytest.fixture
def index_server(index_dir: Path) -> Iterator[IndexServer]:
    """A started local index (HTML mode, ranges on, no cache headers) serving ``index_dir``.

    Reconfigure it in the test (``index_server.mode = "json"``, ``serve_metadata = True``, ...).
    """
    with IndexServer(index_dir) as server:
        yield server


@pytest.fixture
def http_client() -> Iterator[HttpClient]:
    """An HttpClient for tests: short timeout and backoff, no proxies or netrc from the host."""
    client = HttpClient(timeout=5, backoff=0.01, environ={})
    try:
        yield client
    finally:
        client.close()


def publish(server: IndexServer, *items: WheelSpec | Path) -> list[Path]:
    """Build each WheelSpec (or take each ready file) and publish it on ``server``."""
    out = []
    for item in items:
        if isinstance(item, WheelSpec):
            out.append(build_wheel(item, server.directory))
        else:
            out.append(server.add_file(item))
    return out


def publish_sdist(server: IndexServer, name: str, version: str, **kwargs: object) -> Path:
    """Build an sdist with tests.support.wheels.build_sdist into ``server``'s directory."""
    return build_sdist(name, version, server.directory, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def satchel(tmp_path: Path, index_server: IndexServer) -> Satchel:
    """The satchel CLI (subprocess) with its own cache, pointed at the local ``index_server``."""
    return Satchel(tmp_path, tmp_path / "cache", index_url=index_server.index_url)
