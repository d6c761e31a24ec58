"""The remote cache tier's faults (issue 14) against a real SeaweedFS on loopback, through the CLI:
each is a miss or one warning, never a failed install (docs/remote-cache.md, "Faults")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from satchel.cache.remote import layout
from tests.support.builds import builds_in, intree_sdist
from tests.support.cli import Satchel
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.remote import Bucket, machine, remote_warnings, warm
from tests.support.seaweed import Seaweed, running_seaweed, write_requests
from tests.support.tcp_proxy import TcpProxy
from tests.support.wheels import WheelSpec


def test_blob_overwritten_with_other_bytes_is_a_warned_miss_and_replaced_in_read_write_mode(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    warm(tmp_path, index_server, bucket, seaweed.env(), "tampered")
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    warm(tmp_path, index_server, bucket, seaweed.env(), "orphan")
    rec = bucket.action(bucket.wheel_record("orphan"))
    bucket.op.delete(layout.blob_path(rec.files[0].sha256))  # type: ignore[attr-defined]
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env())
    out = b.run("install", "-p", b.venv(), "orphan", "-v")
    assert len(builds_in(out.stderr)) == 1, out
    assert " + orphan==1.0" in out.stderr
    assert b.run("cache", "verify").returncode == 0


def test_wrong_credentials_one_warning_then_local(
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    warm(tmp_path, index_server, bucket, seaweed.env(), "creds")
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env(secret="not-the-secret"),
                mode="read-write")
    out = b.run("install", "-p", b.venv(), "creds", "-v")
    assert len(builds_in(out.stderr)) == 1, out
    warned = remote_warnings(out.stderr)
    assert len(warned) == 1 and "unavailable" in warned[0] and "403" in warned[0], out


def test_server_stopped_mid_run(tmp_path: Path, index_server: IndexServer) -> None:
    with running_seaweed(tmp_path / "private-seaweed") as server:
        private = Bucket(server, "mid")
        warm(tmp_path, index_server, private, server.env(), "one", "two", "three")
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
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
    tmp_path: Path, index_server: IndexServer, seaweed: Seaweed, bucket: Bucket
) -> None:
    intree_sdist(index_server.directory, "readonly-pkg")
    publish(index_server, WheelSpec("plainwheel", "1.0"))
    before = write_requests(seaweed)
    b = machine(tmp_path, index_server, "b", bucket.url, seaweed.env(), mode="read")
    out = b.run("install", "-p", b.venv(), "readonly-pkg", "plainwheel", "-v")
    assert len(builds_in(out.stderr)) == 1 and out.warnings() == [], out
    assert write_requests(seaweed) == before
    assert bucket.paths() == []

