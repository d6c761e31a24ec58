from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satchel.errors import IndexError_
from satchel.index.http import (
    HttpClient,
    RangeNotSupported,
    redact_url,
    should_bypass_proxy,
    split_credentials,
)
from satchel.index.simple import ACCEPT_HEADER, parse_page
from tests.support.fixtures import publish
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec


def client(**kw: object) -> HttpClient:
    kw.setdefault("timeout", 5)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("environ", {})
    return HttpClient(**kw)  # type: ignore[arg-type]


def test_get_page_follows_redirects(index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("Demo.Pkg", "1.0"))
    http = client()
    resp = http.get(f"{index_server.url}/simple/Demo.Pkg", {"Accept": ACCEPT_HEADER})
    assert resp.status == 200 and resp.ok
    assert resp.url == index_server.project_url("demo-pkg")
    assert resp.content_type == "text/html"
    files = parse_page(resp.body, resp.headers["content-type"], resp.url, "demo-pkg")
    assert [f.filename for f in files] == ["demo_pkg-1.0-py3-none-any.whl"]
    assert index_server.requests[-1].headers["accept"] == ACCEPT_HEADER


def test_404_is_returned_not_raised(index_server: IndexServer) -> None:
    resp = client().get(index_server.project_url("nothing-here"))
    assert resp.status == 404 and not resp.ok


def test_other_4xx_raise_naming_url_and_status(index_server: IndexServer) -> None:
    url = index_server.project_url("demo")
    index_server.fail_next("/simple/demo/", 418)
    with pytest.raises(IndexError_) as exc:
        client().get(url)
    assert url in exc.value.message and "418" in exc.value.message
    index_server.fail_next("/simple/demo/", 403)
    with pytest.raises(IndexError_) as exc:
        client().get(url)
    assert "403" in exc.value.message and exc.value.hint


def test_retries_after_500_then_succeeds(index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    index_server.fail_next("/simple/demo/", 500, times=2)
    resp = client().get(index_server.project_url("demo"))
    assert resp.status == 200
    assert index_server.count("/simple/demo/") == 3


def test_gives_up_after_three_retries(index_server: IndexServer) -> None:
    index_server.fail_next("/simple/demo/", 503, times=10)
    with pytest.raises(IndexError_) as exc:
        client().get(index_server.project_url("demo"))
    assert "503" in exc.value.message
    assert index_server.count("/simple/demo/") == 4


def test_retry_after_is_honoured_up_to_a_cap(index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    index_server.fail_next("/simple/demo/", 503, headers={"Retry-After": "1"})
    t0 = time.monotonic()
    assert client().get(index_server.project_url("demo")).status == 200
    assert time.monotonic() - t0 >= 0.9
    index_server.fail_next("/simple/demo/", 429, headers={"Retry-After": "3600"})
    t0 = time.monotonic()
    assert client(max_retry_after=0.2).get(index_server.project_url("demo")).status == 200
    assert time.monotonic() - t0 < 2


def test_stall_times_out_quickly_with_a_clear_error(index_server: IndexServer) -> None:
    index_server.stall("/simple/demo/", 10)
    url = index_server.project_url("demo")
    t0 = time.monotonic()
    with pytest.raises(IndexError_) as exc:
        client(timeout=0.2).get(url)
    assert time.monotonic() - t0 < 4
    assert exc.value.message.startswith(f"cannot reach {url}: ")
    assert "0.2s" in exc.value.message
    assert exc.value.hint and "--offline" in exc.value.hint


def test_connection_refused(tmp_path: Path) -> None:
    with IndexServer(tmp_path) as server:
        url = server.project_url("demo")
    with pytest.raises(IndexError_) as exc:
        client(retries=1).get(url)
    assert exc.value.message.startswith(f"cannot reach {url}: ")
    assert "refused" in exc.value.message


def test_truncated_body_is_retried_for_pages(index_server: IndexServer) -> None:
    publish(index_server, WheelSpec("demo", "1.0"))
    index_server.truncate("/simple/demo/", 10, times=1)
    resp = client().get(index_server.project_url("demo"))
    assert b"demo-1.0-py3-none-any.whl" in resp.body
    assert index_server.count("/simple/demo/") == 2


def test_stream_reads_in_chunks(index_server: IndexServer, tmp_path: Path) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0", files={"demo/big.bin": os.urandom(300_000)}))
    data = path.read_bytes()
    http = client()
    with http.stream(index_server.file_url(path.name)) as resp:
        assert resp.status == 200
        assert resp.content_length == len(data)
        chunks = list(resp.iter_bytes(1024))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= 1024
    assert resp.bytes_read == len(data)
    # the pooled connection is reusable afterwards
    assert http.get(index_server.file_url(path.name)).body == data


def test_stream_truncated_download_raises(index_server: IndexServer) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0", files={"demo/big.bin": os.urandom(100_000)}))
    index_server.truncate("/files/", 5000)
    with pytest.raises(IndexError_) as exc, client().stream(index_server.file_url(path.name)) as resp:
        for _ in resp.iter_bytes():
            pass
    assert path.name in exc.value.message


def test_stream_raises_on_404(index_server: IndexServer) -> None:
    url = index_server.file_url("demo-1.0.tar.gz")
    with pytest.raises(IndexError_) as exc, client().stream(url):
        pass
    assert "404" in exc.value.message and url in exc.value.message


def test_stream_abandoned_early_does_not_poison_the_pool(index_server: IndexServer) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0", files={"demo/big.bin": os.urandom(500_000)}))
    http = client(pool_maxsize=1)
    with http.stream(index_server.file_url(path.name)) as resp:
        next(resp.iter_bytes(100))
    assert http.get(index_server.file_url(path.name)).body == path.read_bytes()


def test_ranges(index_server: IndexServer) -> None:
    (path,) = publish(index_server, WheelSpec("demo", "1.0"))
    data = path.read_bytes()
    url = index_server.file_url(path.name)
    http = client()
    r = http.get_range(url, 10, 20)
    assert (r.start, r.total, r.body) == (10, len(data), data[10:20])
    t = http.get_tail(url, 100)
    assert (t.start, t.body) == (len(data) - 100, data[-100:])
    t = http.get_tail(url, 10 * len(data))
    assert (t.start, t.body) == (0, data)
    index_server.ranges = False
    with pytest.raises(RangeNotSupported):
        http.get_tail(url, 100)


def test_file_urls(tmp_path: Path) -> None:
    page = tmp_path / "simple" / "demo"
    page.mkdir(parents=True)
    (page / "index.html").write_text('<a href="../../files/demo-1.0.tar.gz">x</a>')
    files = tmp_path / "files"
    files.mkdir()
    (files / "demo-1.0.tar.gz").write_bytes(b"0123456789")
    http = client()
    resp = http.get(page.as_uri())
    assert resp.status == 200 and resp.url == page.as_uri() + "/"
    (f,) = parse_page(resp.body, resp.headers["content-type"], resp.url, "demo")
    assert f.url == (files / "demo-1.0.tar.gz").as_uri()
    with http.stream(f.url) as s:
        assert b"".join(s.iter_bytes(3)) == b"0123456789"
    assert http.get_range(f.url, 2, 5).body == b"234"
    assert http.get_tail(f.url, 3).body == b"789"
    assert http.get((tmp_path / "simple" / "nope").as_uri()).status == 404
    with pytest.raises(IndexError_), http.stream((files / "nope.tar.gz").as_uri()):
        pass


def test_file_urls_with_a_name_too_long_to_exist_are_missing(tmp_path: Path) -> None:
    """ENAMETOOLONG (a project name of 300 letters) is a missing file, not an OSError."""
    long = "a" * 300
    http = client()
    assert http.get((tmp_path / long).as_uri() + "/").status == 404
    assert http.get((tmp_path / long / "index.html").as_uri()).status == 404
    with pytest.raises(IndexError_, match="does not exist"), http.stream((tmp_path / long).as_uri()):
        pass
    with pytest.raises(IndexError_, match="does not exist"):
        http.get_range((tmp_path / long).as_uri(), 0, 1)


def test_basic_auth_from_url(index_dir: Path) -> None:
    with IndexServer(index_dir, auth=("alice", "s3cr:t")) as server:
        publish(server, WheelSpec("demo", "1.0"))
        with pytest.raises(IndexError_) as exc:
            client().get(server.project_url("demo"))
        assert "401" in exc.value.message or "authentication" in exc.value.message
        http = client()
        resp = http.get(server.auth_url("alice", "s3cr:t") + "demo/")
        assert resp.status == 200
        assert "alice" not in resp.url and "s3cr" not in resp.url
        # later requests to the same host reuse the credentials (file links carry none)
        (f,) = parse_page(resp.body, resp.headers["content-type"], resp.url, "demo")
        with http.stream(f.url) as s:
            assert b"".join(s.iter_bytes()) == (server.directory / f.filename).read_bytes()
        auth = server.requests[-1].headers["authorization"]
        assert base64.b64decode(auth.split()[1]) == b"alice:s3cr:t"


def test_basic_auth_from_netrc(index_dir: Path, tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login bob\n  password hunter2\n")
    netrc.chmod(0o600)
    with IndexServer(index_dir, auth=("bob", "hunter2")) as server:
        publish(server, WheelSpec("demo", "1.0"))
        assert client(environ={"NETRC": str(netrc)}).get(server.project_url("demo")).status == 200
        missing = tmp_path / "missing"
        with pytest.raises(IndexError_):
            client(environ={"NETRC": str(missing), "HOME": str(tmp_path)}).get(server.project_url("demo"))


def test_credentials_never_logged_or_in_errors(
    index_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with IndexServer(index_dir, auth=("alice", "topsecret")) as server:
        caplog.set_level(logging.DEBUG, logger="satchel.http")
        server.fail_next("/simple/", 404)
        url = server.auth_url("alice", "wrong-topsecret") + "demo/"
        resp = client().get(url)
        assert resp.status == 404
        with pytest.raises(IndexError_) as exc:
            client().get(url)
        assert "topsecret" not in exc.value.message
        assert caplog.records and "topsecret" not in caplog.text
        assert f"GET {server.project_url('demo')} -> 404" in caplog.text


def test_redact_and_split_credentials() -> None:
    assert redact_url("https://u:p@127.0.0.1:8080/x?y#z") == "https://u:****@127.0.0.1:8080/x?y#z"
    assert redact_url("https://127.0.0.1/x") == "https://127.0.0.1/x"
    assert split_credentials("https://us%40er:p%3Aw@h.test/x") == ("https://h.test/x", ("us@er", "p:w"))
    assert split_credentials("https://token@h.test/") == ("https://h.test/", ("token", ""))


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypass"),
    [
        ("http://127.0.0.1:8080/x", "", True),  # loopback always direct
        ("http://localhost/x", "", True),
        ("http://[::1]:80/x", "", True),
        ("https://pkgs.corp.test/x", "", False),
        ("https://pkgs.corp.test/x", "corp.test", True),
        ("https://pkgs.corp.test/x", ".corp.test", True),
        ("https://pkgs.corp.test/x", "*.corp.test", True),
        ("https://corp.test/x", ".corp.test", True),
        ("https://notcorp.test/x", "corp.test", False),
        ("https://pkgs.corp.test/x", "other.test, corp.test", True),
        ("https://pkgs.corp.test/x", "other.test corp.test", True),
        ("https://pkgs.corp.test/x", "*", True),
        ("https://pkgs.corp.test/x", "pkgs.corp.test:8443", False),
        ("https://pkgs.corp.test:8443/x", "pkgs.corp.test:8443", True),
        ("https://PKGS.Corp.Test/x", "corp.TEST", True),
        ("http://10.1.2.3/x", "10.0.0.0/8", True),
        ("http://11.1.2.3/x", "10.0.0.0/8", False),
        ("http://10.1.2.3/x", "10.1.2.3", True),
        ("http://[fd00::1]/x", "fd00::/8", True),
    ],
)
def test_no_proxy_matching(url: str, no_proxy: str, bypass: bool) -> None:
    assert should_bypass_proxy(url, no_proxy) is bypass


def test_proxy_from_environment_is_used(index_server: IndexServer) -> None:
    """A plain-HTTP request through HTTP_PROXY: the proxy sees the absolute URL."""
    publish(index_server, WheelSpec("demo", "1.0"))
    # The index server doubles as a (bad) proxy: it gets "GET http://... HTTP/1.1".
    target = "http://pkgs.example.test/simple/demo/"
    http = client(environ={"HTTP_PROXY": index_server.url, "NO_PROXY": "other.test"})
    resp = http.get(target)
    assert resp.status == 200  # the server routes on the path part of the absolute URL
    assert index_server.requests[-1].path == target
    http = client(environ={"http_proxy": index_server.url, "no_proxy": "example.test"})
    assert http._proxy_for(target) is None
    assert http._proxy_for("https://pkgs.other.test/") is None  # no https_proxy set


def test_client_is_thread_safe(index_server: IndexServer) -> None:
    for i in range(5):
        publish(index_server, WheelSpec(f"p{i}", "1.0"))
    http = client(pool_maxsize=2)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                assert http.get(index_server.project_url(f"p{i % 5}")).status == 200
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert index_server.count("/simple/p") == 50


@contextlib.contextmanager
def tls_index(index_dir: Path, tmp_path: Path) -> Iterator[tuple[IndexServer, Path]]:
    """A local index over HTTPS, serving demo 1.0 with a self-signed certificate; and that
    certificate (the test is skipped without the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    from tests.support.index_server import make_self_signed_cert

    cert, key = make_self_signed_cert(tmp_path)
    with IndexServer(index_dir, tls=(cert, key)) as server:
        publish(server, WheelSpec("demo", "1.0"))
        yield server, cert


def test_tls_uses_the_system_store_and_ssl_cert_file(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_index(index_dir, tmp_path) as (server, cert):
        url = server.project_url("demo")
        assert url.startswith("https://127.0.0.1:")
        with pytest.raises(IndexError_) as exc:
            client().get(url)  # a self-signed certificate is not in the system store
        assert exc.value.message.startswith(f"TLS error talking to {url}")
        assert exc.value.hint and "SSL_CERT_FILE" in exc.value.hint
        assert server.count() == 0  # not retried, and no request got through
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        assert client().get(url).status == 200
        assert client(cafile=str(cert)).get(url).status == 200


@pytest.mark.parametrize("warm", [False, True], ids=["plain", "warmed-up"])
def test_an_unusable_ssl_cert_location_is_warned_about_once_tls_is_used(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, warm: bool
) -> None:
    # (warmed up: the context built ahead, as a cold run does, warns all the same, and no sooner)
    missing = tmp_path / "no-such-bundle.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    monkeypatch.setenv("SSL_CERT_DIR", f"{tmp_path / 'no-such-dir'}{os.pathsep}{tmp_path}")
    with tls_index(index_dir, tmp_path) as (server, cert):
        http = client(environ=dict(os.environ))
        with caplog.at_level("WARNING", logger="satchel"):
            if warm:
                http.warm_up()
                assert http._warming is not None
                http._warming.join()
            assert not caplog.records  # nothing said before TLS is used
            with pytest.raises(IndexError_):
                http.get(server.project_url("demo"))
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert f"SSL_CERT_FILE={missing} is not a readable file: no certificates are loaded from it" in warnings
        assert f"SSL_CERT_DIR={tmp_path / 'no-such-dir'} is not a readable directory: no certificates are loaded from it" in warnings
        assert not any(f"SSL_CERT_DIR={tmp_path} " in w for w in warnings)  # the usable one
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        caplog.clear()
        with caplog.at_level("WARNING", logger="satchel"):
            assert client(environ=dict(os.environ)).get(server.project_url("demo")).status == 200
        assert not [r for r in caplog.records if "SSL_CERT_FILE" in r.getMessage()]


def test_warm_up_builds_the_tls_context_beside_and_the_first_request_uses_it(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    built_in: list[str] = []
    real = ssl.create_default_context

    def create_default_context(*args: object, **kwargs: object) -> ssl.SSLContext:
        built_in.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", create_default_context)
    with tls_index(index_dir, tmp_path) as (server, cert):
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # (honoured by the context warm_up builds)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        http = client(environ=dict(os.environ))
        http.warm_up()
        http.warm_up()  # (once is enough)
        assert http.get(server.project_url("demo")).status == 200
        assert http.get(server.project_url("demo")).status == 200
        assert built_in == ["satchel-tls"]  # one context, built beside, used by the requests
        plain = client(environ=dict(os.environ))
        assert plain.get(server.project_url("demo")).status == 200
        assert built_in == ["satchel-tls", threading.current_thread().name]  # (without: here)


def test_a_warm_up_that_fails_leaves_the_error_to_the_first_request(
    index_dir: Path, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with tls_index(index_dir, tmp_path) as (server, _cert):
        errors = []
        for warm in (False, True):
            http = client(cafile=str(garbage))
            if warm:
                http.warm_up()
            with pytest.raises(Exception) as exc:
                http.get(server.project_url("demo"))
            errors.append((type(exc.value), str(exc.value)))
        assert errors[0] == errors[1]
        assert server.count() == 0
