"""The remote cache tier (issue 14) against a real SeaweedFS on loopback, through the CLI.

Each test is one or more "machines": satchel CLIs with their own empty cache directory, sharing
one prefix of the bucket. What a machine did is read from its output (-v says "Building ..."),
from the local index server's request log, and from the bucket itself (listed and tampered with
through opendal); writes are counted by the S3 gateway's own metrics.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from satchel.cache import record
from satchel.cache.remote import layout
from tests.e2e.test_install_builds import builds_in, intree_sdist
from tests.support.cli import Satchel, assert_error, pyenv_python, run_python
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.seaweed import Seaweed, running_seaweed, seaweed, write_requests  # noqa: F401
from tests.support.tcp_proxy import TcpProxy
from tests.support.wheels import WheelSpec, write_sdist
from tests.unit.test_build_real import _C_SOURCE
from tests.unit.test_build_support import backend_wheels_fixture  # noqa: F401

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


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
def bucket(seaweed: Seaweed) -> Bucket:  # noqa: F811
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


# -- two machines, one bucket ----------------------------------------------------------------------


def test_machine_b_gets_what_a_built_and_downloaded_without_building(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
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
    seaweed: Seaweed,  # noqa: F811
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


# -- faults ------------------------------------------------------------------------------------------


def _warm(tmp_path: Path, index_server: IndexServer, bucket: Bucket, env: dict[str, str],
          *names: str) -> None:
    for name in names:
        intree_sdist(index_server.directory, name)
    a = machine(tmp_path, index_server, "warm", bucket.url, env, mode="read-write")
    out = a.run("install", "-p", a.venv(), *names, "-v")
    assert len(builds_in(out.stderr)) == len(names), out


def test_blob_overwritten_with_other_bytes_is_a_warned_miss_and_replaced_in_read_write_mode(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    _warm(tmp_path, index_server, bucket, seaweed.env(), "tampered")
    rec = bucket.action(bucket.wheel_record("tampered"))
    blob = layout.blob_path(rec.files[0].sha256)
    data = bytearray(bucket.read(blob))
    data[len(data) // 2] ^= 0xFF
    bucket.op.write(blob, bytes(data))  # type: ignore[attr-defined]

    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env(), mode="read-write")
    out = b.run("install", "-p", b.venv(), "tampered", "-v")
    assert len(builds_in(out.stderr)) == 1, out  # redone locally
    warned = remote_warnings(out.stderr)
    assert len(warned) == 1 and blob in warned[0], out
    # Replaced: the bucket is consistent again and a third machine builds nothing.
    bucket.check_consistent()
    c = machine(tmp_path, index_server, "c", bucket.url, seaweed.env())
    third = c.run("install", "-p", c.venv(), "tampered", "-v")
    assert builds_in(third.stderr) == [] and third.warnings() == [], third


def test_record_whose_blob_was_deleted_is_a_miss(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    _warm(tmp_path, index_server, bucket, seaweed.env(), "orphan")
    rec = bucket.action(bucket.wheel_record("orphan"))
    bucket.op.delete(layout.blob_path(rec.files[0].sha256))  # type: ignore[attr-defined]
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env())
    out = b.run("install", "-p", b.venv(), "orphan", "-v")
    assert len(builds_in(out.stderr)) == 1, out
    assert " + orphan==1.0" in out.stderr
    assert b.run("cache", "verify").returncode == 0


def test_wrong_credentials_one_warning_then_local(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    _warm(tmp_path, index_server, bucket, seaweed.env(), "creds")
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env(secret="not-the-secret"),
                mode="read-write")
    out = b.run("install", "-p", b.venv(), "creds", "-v")
    assert len(builds_in(out.stderr)) == 1, out
    warned = remote_warnings(out.stderr)
    assert len(warned) == 1 and "unavailable" in warned[0] and "403" in warned[0], out


def test_server_stopped_mid_run(tmp_path: Path, index_server: IndexServer) -> None:
    with running_seaweed(tmp_path / "private-seaweed") as server:
        private = Bucket(server, "mid")
        _warm(tmp_path, index_server, private, server.env(), "one", "two", "three")
        proxy = TcpProxy(server.s3_port)
        stopped = threading.Event()
        stopper: list[threading.Thread] = []

        def watch(data: bytes) -> None:
            # The first blob read: the run is under way; the server goes away under it.
            if b"/v1/cas/" in data and not stopped.is_set():
                stopped.set()
                t = threading.Thread(target=server.stop)
                stopper.append(t)
                t.start()

        proxy.on_data = watch
        try:
            b = machine(tmp_path, index_server, "b", private.url, server.env(proxy.endpoint))
            out = b.run("install", "-p", b.venv(), "one", "two", "three", "-v")
        finally:
            proxy.close()
        assert stopped.is_set()
        assert " + one==1.0" in out.stderr and " + three==1.0" in out.stderr, out
        warned = remote_warnings(out.stderr)
        assert len(warned) == 1 and "unavailable" in warned[0], out
        assert b.run("cache", "verify").returncode == 0


def _timed(s: Satchel, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    out = s.run(*args)
    return time.monotonic() - started, out.stderr


def test_remote_that_is_down_or_stalls_adds_at_most_3_seconds_and_one_warning(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed  # noqa: F811
) -> None:
    publish(index_server, WheelSpec("alpha", "1.0", requires=["beta"]), WheelSpec("beta", "1.0"))
    plain = Satchel(tmp_path / "plain", tmp_path / "plain" / "cache", index_url=index_server.index_url)
    (tmp_path / "plain").mkdir()
    base, _ = _timed(plain, "install", "-p", plain.venv(), "alpha")

    refused_port = TcpProxy(1)
    refused_port.close()  # nothing listens there any more: connections are refused
    stall = TcpProxy(seaweed.s3_port)
    stall.mode = "stall"
    try:
        for name, endpoint in (("refused", refused_port.endpoint), ("stalled", stall.endpoint)):
            m = machine(tmp_path, index_server, name, "s3://satchel/down", seaweed.env(endpoint))
            took, stderr = _timed(m, "install", "-p", m.venv(), "alpha")
            warned = remote_warnings(stderr)
            assert len(warned) == 1 and "unavailable" in warned[0], stderr
            assert " + alpha==1.0" in stderr
            assert took - base < 3.0, (name, took, base)
    finally:
        stall.close()


def test_two_writers_racing_on_one_key_first_writer_wins(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    intree_sdist(index_server.directory, "raced")
    writers = [machine(tmp_path, index_server, f"w{i}", bucket.url, seaweed.env(), mode="read-write")
               for i in range(2)]
    venvs = [w.venv() for w in writers]
    procs = [
        subprocess.Popen([sys.executable, "-m", "satchel", "install", "-p", str(v), "raced"],
                         env=w.base_env(), cwd=w.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for w, v in zip(writers, venvs, strict=True)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert remote_warnings(err) == [], err
    assert len(bucket.records()) == 1 + 1  # the wheel and its prepared metadata, once each
    bucket.check_consistent()
    c = machine(tmp_path, index_server, "c", bucket.url, seaweed.env())
    out = c.run("install", "-p", c.venv(), "raced", "-v")
    assert builds_in(out.stderr) == [] and out.warnings() == [], out


def test_sigkill_during_upload_leaves_no_partial_object_and_a_sound_local_cache(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    big = os.urandom(3 << 20)  # incompressible: a few MB to upload
    publish(index_server, WheelSpec("bulky", "1.0", files={"bulky/data.txt": big}))
    proxy = TcpProxy(seaweed.s3_port)
    seen_put = threading.Event()

    def watch(data: bytes) -> bool:
        if data.startswith(b"PUT ") and b"/v1/cas/" in data.split(b"\r\n", 1)[0]:
            seen_put.set()
            return True  # the body stops half-way: the upload hangs in flight
        return False

    proxy.on_data = watch
    a = machine(tmp_path, index_server, "a", bucket.url, seaweed.env(proxy.endpoint), mode="read-write")
    venv = a.venv()
    proc = subprocess.Popen([sys.executable, "-m", "satchel", "install", "-p", str(venv), "bulky"],
                            env=a.base_env(), cwd=a.tmp, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert seen_put.wait(60), "no upload started"
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proxy.close()
    # Nothing partial is visible: every object there is whole.
    bucket.check_consistent()
    assert a.run("cache", "verify").returncode == 0


def test_read_mode_makes_zero_writes_even_when_it_builds(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    intree_sdist(index_server.directory, "readonly-pkg")
    publish(index_server, WheelSpec("plainwheel", "1.0"))
    before = write_requests(seaweed)
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env(), mode="read")
    out = b.run("install", "-p", b.venv(), "readonly-pkg", "plainwheel", "-v")
    assert len(builds_in(out.stderr)) == 1 and out.warnings() == [], out
    assert write_requests(seaweed) == before
    assert bucket.paths() == []


# -- trust ---------------------------------------------------------------------------------------------


def test_signed_records_are_used_and_unsigned_or_forged_ones_ignored_with_one_warning(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    key = {"SATCHEL_REMOTE_CACHE_KEY": "fleet-secret"}
    _warm(tmp_path, index_server, bucket, {**seaweed.env(), **key}, "signed")
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed  # noqa: F811
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
) -> None:
    _warm(tmp_path, index_server, bucket, seaweed.env(), "mirrored")
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket  # noqa: F811
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
