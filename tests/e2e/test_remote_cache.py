"""The remote cache tier (issue 14) against a real SeaweedFS on loopback, through the CLI.

Each test is one or more "machines": satchel CLIs with their own empty cache directory, sharing
one prefix of the bucket. What a machine did is read from its output (-v says "Building ..."),
from the local index server's request log, and from the bucket itself (listed and tampered with
through opendal); writes are counted by the S3 gateway's own metrics.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from satchel.cache import record
from tests.support.builds import (
    _C_SOURCE,
    backend_wheels_fixture,  # noqa: F401
    builds_in,
    intree_sdist,
)
from tests.support.cli import Satchel, assert_error, pyenv_python, run_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.remote import Bucket, machine, remote_warnings, warm
from tests.support.seaweed import Seaweed, write_requests
from tests.support.tcp_proxy import TcpProxy
from tests.support.wheels import WheelSpec, write_sdist

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


# -- two machines, one bucket ----------------------------------------------------------------------


def test_machine_b_gets_what_a_built_and_downloaded_without_building(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    publish(index_server, WheelSpec("dep", "1.0"))
    intree_sdist(index_server.directory, "srcpkg", requires_dist=["dep"])
    a = machine(tmp_path, index_server, "a", bucket.url, seaweed.env(), mode="read-write")
    first = a.run("install", "-p", a.venv(), "srcpkg", "-v")
    assert len(builds_in(first.stderr)) == 1, first
    assert remote_warnings(first.stderr) == [], first
    record_path = bucket.wheel_record("srcpkg")
    bucket.check_consistent()
    assert any(p.startswith("v1/ac/metadata/dep/") for p in bucket.paths()), bucket.paths()

    index_server.reset_log()
    before = write_requests(seaweed)
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env(), mode="read")
    second = b.run("install", "-p", b.venv(), "srcpkg", "-v")
    assert builds_in(second.stderr) == [], second
    assert " + srcpkg==1.0" in second.stderr and " + dep==1.0" in second.stderr, second
    assert second.warnings() == [], second
    # Files came from the bucket: the index served pages only.
    assert [p for p in index_server.paths() if p.endswith((".whl", ".tar.gz"))] == [], index_server.paths()
    # Read mode wrote nothing, counted by the server.
    assert write_requests(seaweed) == before
    # What B got is in its local cache, whole: a third run uses it without the remote.
    assert b.run("cache", "verify").returncode == 0
    assert record_path.endswith("/wheel")


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None, reason="no C compiler")
def test_c_extension_from_a_without_a_compiler_on_b_and_rebuilt_for_another_python(
    tmp_path: Path,
    index_server: IndexServer,
    backend_wheels: Path,
    seaweed: Seaweed,
    bucket: Bucket,
) -> None:
    publish(index_server, *sorted(backend_wheels.glob("*.whl")))
    setup_py = (
        "from setuptools import Extension, setup\n"
        "setup(name='cext-demo', version='1.0', packages=['cext_demo'],\n"
        "      ext_modules=[Extension('cext_demo._speed', ['cext_demo/_speed.c'])])\n"
    )
    write_sdist(index_server.directory, "cext_demo-1.0", {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools>=40.8.0"]\nbuild-backend = "setuptools.build_meta"\n',
        "setup.py": setup_py,
        "cext_demo/__init__.py": "",
        "cext_demo/_speed.c": _C_SOURCE,
        "PKG-INFO": "Metadata-Version: 2.1\nName: cext-demo\nVersion: 1.0\n",
    })
    a = machine(tmp_path, index_server, "a", bucket.url, seaweed.env(), mode="read-write")
    first = a.run("install", "-p", a.venv(), "cext-demo", "-v")
    assert len(builds_in(first.stderr)) == 1, first
    bucket.wheel_record("cext-demo")

    # Machine B has no compiler at all: CC fails, and PATH holds no gcc/cc.
    nobin = tmp_path / "empty-bin"
    nobin.mkdir()
    b = machine(tmp_path, index_server, "b", bucket.url,
                {**seaweed.env(), "CC": "/bin/false", "CXX": "/bin/false", "PATH": str(nobin)})
    venv_b = a.venv("venv-b")  # (made by A: B's PATH has nothing; the venv is B's own)
    second = b.run("install", "-p", venv_b, "cext-demo", "-v")
    assert builds_in(second.stderr) == [], second
    assert second.warnings() == [], second
    assert run_python(venv_b, "from cext_demo import _speed; print(_speed.answer())") == "42"
    assert not (b.cache_dir / "built-v1" / "_envs").exists(), "B made no build environment"

    # Another interpreter key: B's sibling with another Python builds for itself.
    other = pyenv_python("3.12") if PY != "3.12" else pyenv_python("3.11")
    if other is None:
        pytest.skip("needs a second pyenv CPython (3.12 or 3.11) for another interpreter key")
    c = machine(tmp_path, index_server, "c", bucket.url, seaweed.env(), mode="read")
    third = c.run("install", "-p", c.venv(python=other), "cext-demo", "-v")
    assert len(builds_in(third.stderr)) == 1, third
    assert run_python(c.tmp / "venv", "from cext_demo import _speed; print(_speed.answer())") == "42"


# -- trust ---------------------------------------------------------------------------------------------


def test_signed_records_are_used_and_unsigned_or_forged_ones_ignored_with_one_warning(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    key = {"SATCHEL_REMOTE_CACHE_KEY": "fleet-secret"}
    warm(tmp_path, index_server, bucket, {**seaweed.env(), **key}, "signed")
    path = bucket.wheel_record("signed")
    assert bucket.action(path).signature
    good = machine(tmp_path, index_server, "good", bucket.url, {**seaweed.env(), **key})
    out = good.run("install", "-p", good.venv(), "signed", "-v")
    assert builds_in(out.stderr) == [] and out.warnings() == [], out

    other = machine(tmp_path, index_server, "other", bucket.url,
                    {**seaweed.env(), "SATCHEL_REMOTE_CACHE_KEY": "another-secret"})
    out = other.run("install", "-p", other.venv(), "signed", "-v")
    assert len(builds_in(out.stderr)) == 1, out
    warned = remote_warnings(out.stderr)
    assert len(warned) == 1 and "signed" in warned[0], out

    # A bucket writer without the key forges a record: unsigned, it is ignored.
    rec = bucket.action(path)
    import dataclasses
    forged = dataclasses.replace(rec, signature="")
    bucket.op.write(path, record.dumps(forged))  # type: ignore[attr-defined]
    out = good.run("install", "-p", good.venv("venv2"), "signed", "-v")
    # (the wheel is in good's local cache now: the remote is not even asked)
    assert out.warnings() == [], out
    fresh = machine(tmp_path, index_server, "fresh", bucket.url, {**seaweed.env(), **key})
    out = fresh.run("install", "-p", fresh.venv(), "signed", "-v")
    assert len(builds_in(out.stderr)) == 1 and len(remote_warnings(out.stderr)) == 1, out


# -- WebDAV and a read-only HTTP mirror -------------------------------------------------------------


def test_webdav_on_the_same_server(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed
) -> None:
    intree_sdist(index_server.directory, "davpkg")
    url = f"webdav+{seaweed.webdav}/dav-{seaweed.prefix()}"
    a = machine(tmp_path, index_server, "a", url, {}, mode="read-write")
    out = a.run("install", "-p", a.venv(), "davpkg", "-v")
    assert len(builds_in(out.stderr)) == 1 and out.warnings() == [], out
    b = machine(tmp_path, index_server, "b", url, {})
    out = b.run("install", "-p", b.venv(), "davpkg", "-v")
    assert builds_in(out.stderr) == [] and out.warnings() == [], out


def test_read_only_http_mirror_of_an_exported_layout(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    warm(tmp_path, index_server, bucket, seaweed.env(), "mirrored")
    export = tmp_path / "export"
    for p in bucket.paths():
        (export / p).parent.mkdir(parents=True, exist_ok=True)
        (export / p).write_bytes(bucket.read(p))
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(export)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        port = int(line.split(" port ")[1].split()[0])
        url = f"http://127.0.0.1:{port}/"
        b = machine(tmp_path, index_server, "b", url, {})
        out = b.run("install", "-p", b.venv(), "mirrored", "-v")
        assert builds_in(out.stderr) == [] and out.warnings() == [], out
        bad = b.run("install", "-p", b.venv(), "mirrored", "--remote-cache-mode", "read-write",
                    check=False)
        assert_error(bad, "read-only HTTP mirror")
    finally:
        server.terminate()
        server.wait(10)


# -- configuration errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SATCHEL_REMOTE_CACHE": "ftp://host/x"}, "SATCHEL_REMOTE_CACHE: unsupported remote cache URL"),
        ({"SATCHEL_REMOTE_CACHE": "s3://"}, "names no bucket"),
        ({"SATCHEL_REMOTE_CACHE": "s3://b", "SATCHEL_REMOTE_CACHE_MODE": "write"}, "SATCHEL_REMOTE_CACHE_MODE: invalid mode"),
        ({"SATCHEL_REMOTE_CACHE": "s3://b", "SATCHEL_REMOTE_READ_TIMEOUT": "soon"}, "SATCHEL_REMOTE_READ_TIMEOUT: invalid number"),
        ({"SATCHEL_REMOTE_CACHE": "https://u:p@host/x"}, "must not hold credentials"),
    ],
)
def test_bad_remote_settings_are_one_line_errors(
    tmp_path: Path, index_server: IndexServer, env: dict[str, str], needle: str
) -> None:
    s = Satchel(tmp_path, tmp_path / "cache", index_url=index_server.index_url, env=env)
    out = s.run("install", "anything", check=False)
    line = assert_error(out, needle)
    assert line.startswith("error:") and "hint:" in out.stderr, out


# -- commands -------------------------------------------------------------------------------------


def test_push_info_and_verify_remote(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    intree_sdist(index_server.directory, "pushed")
    publish(index_server, WheelSpec("wheelonly", "1.0"))
    local = Satchel(tmp_path / "local", tmp_path / "local" / "cache", index_url=index_server.index_url)
    (tmp_path / "local").mkdir()
    local.run("install", "-p", local.venv(), "pushed", "wheelonly")
    remote_env = {**seaweed.env(), "SATCHEL_REMOTE_CACHE": bucket.url}
    assert bucket.paths() == []
    pushed = local.run("cache", "push", env=remote_env)
    assert "Pushed" in pushed.stdout, pushed
    assert len(bucket.records("built")) == 2 and bucket.records("metadata"), bucket.paths()
    info = local.run("cache", "remote", "info", env=remote_env)
    assert "reachable" in info.stdout and "built records: 2" in info.stdout, info
    assert local.run("cache", "verify", "--remote", env=remote_env).returncode == 0

    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env())
    out = b.run("install", "-p", b.venv(), "pushed", "wheelonly", "-v")
    assert builds_in(out.stderr) == [] and out.warnings() == [], out

    blob = bucket.blobs()[0]
    bucket.op.write(blob, b"not what it was")  # type: ignore[attr-defined]
    bad = local.run("cache", "verify", "--remote", env=remote_env, check=False)
    assert bad.returncode == 1 and f"corrupt: {blob}" in bad.stdout, bad
    down = local.run("cache", "remote", "info", check=False,
                     env={**remote_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert down.returncode == 1 and "unreachable" in down.stdout, down
    none = local.run("cache", "push", check=False)
    assert_error(none, "no remote cache is configured")


def test_uploads_get_a_bounded_wait_then_are_abandoned_with_one_line(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    publish(index_server, WheelSpec("slowup", "1.0"))
    proxy = TcpProxy(seaweed.s3_port)

    def watch(data: bytes) -> bool:
        return data.startswith(b"PUT ")  # uploads hang; reads go on

    proxy.on_data = watch
    try:
        a = machine(tmp_path, index_server, "a", bucket.url, seaweed.env(proxy.endpoint),
                    mode="read-write")
        venv = a.venv()
        started = time.monotonic()
        out = a.run("install", "-p", venv, "slowup", "--remote-upload-wait", "1")
        took = time.monotonic() - started
    finally:
        proxy.close()
    assert " + slowup==1.0" in out.stderr
    abandoned = [ln for ln in out.stderr.splitlines() if "abandoning" in ln]
    assert len(abandoned) == 1 and "--remote-upload-wait" in abandoned[0], out
    assert took < 10, took


def test_a_run_served_by_the_local_cache_never_loads_the_remote_client(
    tmp_path: Path, index_server: IndexServer
) -> None:
    publish(index_server, WheelSpec("localonly", "1.0"))
    s = machine(tmp_path, index_server, "a", "s3://satchel/never", {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    first = s.run("install", "-p", s.venv(), "localonly")
    assert len(remote_warnings(first.stderr)) == 1, first  # the cold run asked it (refused)
    again = s.run("install", "-p", s.venv("v2"), "localonly", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert " + localonly==1.0" in again.stderr
    assert remote_warnings(again.stderr) == [], again
    assert "opendal" not in again.stderr and "satchel.cache.remote.tier" not in again.stderr
    noop = s.run("install", "-p", s.tmp / "v2", "localonly", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert "Nothing to do" in noop.stderr or "already" in noop.stderr, noop
    for module in ("opendal", "satchel.cache.remote.tier", "satchel.cache.remote.backend"):
        assert f"| {module}\n" not in noop.stderr and f"  {module}\n" not in noop.stderr, module


def test_a_remote_answering_5xx_is_one_warning_and_off_for_the_run(
    tmp_path: Path, index_server: IndexServer
) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Failing(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _fail(self) -> None:
            hits.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_PROPFIND = _fail

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        intree_sdist(index_server.directory, "fivexx")
        publish(index_server, WheelSpec("fivexx-dep", "1.0"))
        url = f"http://127.0.0.1:{server.server_address[1]}/cache/"
        b = machine(tmp_path, index_server, "b", url, {})
        out = b.run("install", "-p", b.venv(), "fivexx", "fivexx-dep", "-v")
    finally:
        server.shutdown()
    assert len(builds_in(out.stderr)) == 1 and " + fivexx-dep==1.0" in out.stderr, out
    warned = remote_warnings(out.stderr)
    assert len(warned) == 1 and "503" in warned[0], out
    assert len(hits) == 1, hits  # asked once, then off for the run
