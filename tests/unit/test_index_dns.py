"""Host names looked up once per run (satchel/index/dns.py): one lookup however many connections
and threads, failures not kept, every address of an answer tried, and TLS still checked against
the name -- with the real HTTP client against the local index, addressed as ``localhost``."""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from satchel.errors import IndexError_
from satchel.index import dns
from satchel.index.http import HttpClient
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def by_name(url: str) -> str:
    return url.replace("://127.0.0.1:", "://localhost:", 1)


class CountingLookup:
    """A resolver answering after ``delay`` seconds with the system's answer (or failing the
    first ``failures`` times), counting how often it was asked."""

    def __init__(self, delay: float = 0.0, failures: int = 0) -> None:
        self.delay = delay
        self.failures = failures
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, host: str, port: int) -> dns.AddrInfo:
        with self.lock:
            self.calls += 1
            fail = self.calls <= self.failures
        time.sleep(self.delay)
        if fail:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return dns.system_lookup(host, port)


def test_concurrent_connections_share_one_lookup() -> None:
    lookup = CountingLookup(delay=0.2)
    cache = dns.AddressCache(lookup)
    answers: list[dns.AddrInfo] = []
    threads = [threading.Thread(target=lambda: answers.append(cache.addresses("localhost", 80))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lookup.calls == 1
    assert len(answers) == 8 and all(a == answers[0] for a in answers)
    assert ("127.0.0.1", 80) in [info[4][:2] for info in answers[0]]
    cache.addresses("localhost", 80)
    assert lookup.calls == 1  # kept for the run
    cache.addresses("localhost", 443)
    assert lookup.calls == 2  # (host, port) is the key


def test_a_failed_lookup_is_not_kept() -> None:
    lookup = CountingLookup(delay=0.1, failures=1)
    cache = dns.AddressCache(lookup)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            cache.addresses("localhost", 80)
        except socket.gaierror as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lookup.calls == 1 and len(errors) == 4  # the waiters got the one answer: an error
    assert cache.addresses("localhost", 80)  # asked again, and answered
    assert lookup.calls == 2


def test_a_slow_lookup_is_one_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(dns, "SLOW_LOOKUP", 0.05)
    cache = dns.AddressCache(CountingLookup(delay=0.1))
    with caplog.at_level(logging.DEBUG, logger="satchel"):
        for _ in range(3):
            cache.addresses("localhost", 80)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and messages[0].startswith("looking up localhost took 0.1 s"), messages


def test_every_address_of_the_answer_is_tried(index_server: IndexServer) -> None:
    """The first address refuses the connection (nothing listens on 127.0.0.2): the next one
    is used, as ``socket.create_connection`` would."""
    from urllib3.connectionpool import HTTPConnectionPool

    publish(index_server, WheelSpec("demo", "1.0"))
    good = dns.system_lookup("127.0.0.1", index_server.port)
    refused = [(*info[:4], ("127.0.0.2", index_server.port)) for info in good]
    cache = dns.AddressCache(lambda host, port: [*refused, *good])
    plain, _ = dns.connection_classes(cache)
    pool = HTTPConnectionPool("localhost", index_server.port, retries=False)
    pool.ConnectionCls = plain
    assert pool.request("GET", "/simple/demo/").status == 200
    only_refused = dns.AddressCache(lambda host, port: refused)
    pool = HTTPConnectionPool("localhost", index_server.port, retries=False)
    pool.ConnectionCls = dns.connection_classes(only_refused)[0]
    with pytest.raises(Exception, match="Connection refused"):
        pool.request("GET", "/simple/demo/")


@pytest.mark.parametrize("tls", [False, True])
def test_the_client_looks_a_host_up_once(
    index_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, tls: bool
) -> None:
    """Ten threads, fifty requests, a server that closes every connection (a new connection for
    each): one lookup. Over TLS the certificate is still checked against the name (it is valid
    for localhost and 127.0.0.1, and the client trusts only it)."""
    tls_files = None
    if tls:
        if shutil.which("openssl") is None:
            pytest.skip("needs the openssl command")
        from tests.support.index_server import make_self_signed_cert

        tls_files = make_self_signed_cert(tmp_path)
    with IndexServer(index_dir, tls=tls_files) as server:
        publish(server, *(WheelSpec(f"p{i}", "1.0") for i in range(5)))
        http = HttpClient(timeout=5, environ={}, cafile=str(tls_files[0]) if tls_files else None)
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                for _ in range(5):
                    assert http.get(by_name(server.project_url(f"p{i % 5}"))).status == 200
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        with caplog.at_level(logging.DEBUG, logger="satchel"):
            threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert not errors, errors
        assert server.count("/simple/p") == 50
        lookups = [r.getMessage() for r in caplog.records if r.getMessage().startswith("looked up ")]
        assert len(lookups) == 1 and lookups[0].startswith("looked up localhost in "), lookups


def test_https_through_a_connect_proxy(index_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """HTTPS_PROXY with a CONNECT tunnel, as in a corporate CI: the client looks up only the
    proxy (once), asks the proxy for the index's name (which only the proxy can reach: it does
    not resolve here), and checks the certificate against that name through the tunnel."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    from tests.support.connect_proxy import ConnectProxy
    from tests.support.index_server import make_self_signed_cert

    name = "pkgs.example.test"  # (.test: reserved, never resolves)
    cert, key = make_self_signed_cert(tmp_path, names=(name,))
    with IndexServer(index_dir, tls=(cert, key)) as server, ConnectProxy() as proxy:
        publish(server, *(WheelSpec(f"p{i}", "1.0") for i in range(3)))
        http = HttpClient(timeout=5, environ={"HTTPS_PROXY": proxy.endpoint}, cafile=str(cert))
        with caplog.at_level(logging.DEBUG, logger="satchel"):
            for i in range(6):
                url = server.project_url(f"p{i % 3}").replace("://127.0.0.1:", f"://{name}:", 1)
                assert http.get(url).status == 200
        assert proxy.targets and set(proxy.targets) == {f"CONNECT {name}:{server.port}"}
        lookups = [r.getMessage() for r in caplog.records if r.getMessage().startswith("looked up ")]
        assert len(lookups) == 1 and lookups[0].startswith("looked up 127.0.0.1 in "), lookups
        # the certificate is checked against the name: one without it fails the handshake
        (tmp_path / "other").mkdir()
        other_cert, other_key = make_self_signed_cert(tmp_path / "other")
        with IndexServer(index_dir, tls=(other_cert, other_key)) as wrong:
            url = wrong.project_url("p0").replace("://127.0.0.1:", f"://{name}:", 1)
            with pytest.raises(IndexError_, match=r"^TLS error talking to "):
                HttpClient(timeout=5, retries=0, environ={"HTTPS_PROXY": proxy.endpoint}, cafile=str(other_cert)).get(url)


def test_names_the_resolver_cannot_take_are_urllib3s_errors_as_before() -> None:
    """A name IDNA refuses (a label over 63 characters): the error the client gave before the
    cache (one line, no traceback), and nothing kept. (No name is looked up for real here.)"""
    calls: list[str] = []

    def refusing(host: str, port: int) -> dns.AddrInfo:
        calls.append(host)
        raise UnicodeError("label too long")

    cache = dns.AddressCache(refusing)
    for _ in range(2):
        with pytest.raises(UnicodeError):
            cache.addresses("x" * 70 + ".test", 443)
    assert len(calls) == 2  # not kept
    http = HttpClient(timeout=3, environ={}, retries=0)
    with pytest.raises(IndexError_) as long_label:
        http.get("https://" + "a" * 70 + ".example.test/simple/x/")
    assert long_label.value.message.startswith("invalid URL: https://aaaa")
