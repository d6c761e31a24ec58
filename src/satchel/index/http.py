"""The one HTTP client of a run: pooled, retrying, proxy- and credential-aware, with file:// support.

Its parts: ``responses.py`` (what it returns), ``auth.py`` (URL credentials and netrc),
``proxy.py`` (``*_proxy``/``no_proxy``) and ``file_transport.py`` (``file:`` URLs).

urllib3 is imported lazily (inside the client), so importing this module is cheap; no other satchel
module imports urllib3. Every request is logged at DEBUG on ``satchel.http`` with its URL stripped
of credentials.

Status policy: ``get`` returns 2xx/3xx(after redirects)/404/410 responses and raises ``IndexError_``
for every other 4xx; 429 and 5xx are retried (Retry-After honoured up to a cap) and raise
``IndexError_`` when retries run out. ``stream`` and the range methods raise for every status >= 400.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from satchel.errors import IndexError_
from satchel.index.auth import Credentials, redact_url, split_credentials
from satchel.index.file_transport import file_get, file_range, file_stream
from satchel.index.proxy import proxy_for, proxy_manager, should_bypass_proxy
from satchel.index.responses import (
    CHUNK,
    RangeNotSupported,
    RangeResponse,
    Response,
    StreamResponse,
)

if TYPE_CHECKING:
    import ssl

    import urllib3

# Only cheap modules are imported at module level: ssl, netrc, email, http.client and urllib3
# are imported where used, so importing this module costs almost nothing.

log = logging.getLogger("satchel.http")

DEFAULT_TIMEOUT = 15.0
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PASSTHROUGH_STATUSES = frozenset({404, 410})  # get() returns these; callers mean "no such project"
NETWORK_HINT = "check your network or --index-url; use --offline to install from the cache"
_CHUNK = CHUNK
# Re-exported: the client's public vocabulary (the helpers live in auth.py, proxy.py, responses.py).
__all__ = [
    "HttpClient",
    "RangeNotSupported",
    "RangeResponse",
    "Response",
    "StreamResponse",
    "redact_url",
    "should_bypass_proxy",
    "split_credentials",
]


def check_proxies(environ: Mapping[str, str]) -> None:
    """A clear error for a proxy variable (``http_proxy``, ``https_proxy``, ``all_proxy``, either
    case; the one used) that is not an http(s) proxy URL, before any request is made."""
    from satchel.settings import url_problem

    for base in ("http_proxy", "https_proxy", "all_proxy"):
        name = base if environ.get(base) else base.upper()
        value = environ.get(name) or ""
        if not value.strip():
            continue
        url = value.strip() if "://" in value else "http://" + value.strip()
        problem = url_problem(url, schemes=("http", "https"))
        if problem:
            raise IndexError_(
                f"environment variable {name}={redact_url(value)!r} is not a proxy URL: {problem}",
                hint=f"use http://host:port, or unset {name}",
            )


class HttpClient:
    """Thread-safe HTTP(S) and file:// client; make one per run and share it.

    Credentials found in a URL's userinfo are remembered for that host:port and sent (Basic auth)
    with every later request to it; otherwise ``~/.netrc`` (or ``$NETRC``) is consulted per host.
    """

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        pool_maxsize: int = 10,
        cafile: str | None = None,
        user_agent: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._pool_maxsize = pool_maxsize
        self._cafile = cafile
        self._environ = dict(os.environ if environ is None else environ)
        check_proxies(self._environ)
        self._user_agent = user_agent or _default_user_agent()
        self._lock = threading.Lock()
        self._auth = Credentials(self._environ)
        self._managers: dict[str | None, Any] = {}  # proxy URL (None = direct) -> PoolManager
        self._addresses: Any = None  # dns.AddressCache: each host looked up once per client
        self._ssl_context: ssl.SSLContext | None = None
        self._warming: threading.Thread | None = None  # warm_up's
        self._warmed: ssl.SSLContext | None = None

    # -- public API ------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Start building the TLS context now, in a thread of its own, for the first request to
        find ready: OpenSSL reads the trust store (~17-19 ms here) without the interpreter lock,
        beside the thread that imports urllib3 for that request (~30 ms with the lock). The
        context is the one the first request would build (``ssl.create_default_context``, which
        honours ``SSL_CERT_FILE``); if building it fails, the first request builds it again and
        reports the error."""
        with self._lock:
            if self._ssl_context is not None or self._warming is not None:
                return
            self._warming = threading.Thread(target=self._build_context, name="satchel-tls", daemon=True)
            self._warming.start()

    def _build_context(self) -> None:
        import ssl

        try:
            self._warmed = ssl.create_default_context(cafile=self._cafile)
        except Exception:  # (built again by the first request, which reports it)
            pass

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET ``url`` and read the whole body (content-decoded). 404/410 are returned, not raised."""
        if url.startswith("file:"):
            return file_get(url)
        result = self._send("GET", url, headers, read_body=True, decode=True)
        resp, body, final = result
        status = resp.status
        hdrs = _headers(resp)
        if status >= 400 and status not in PASSTHROUGH_STATUSES:
            raise self._status_error(final, status, resp.reason)
        return Response(url=final, status=status, headers=hdrs, body=body or b"")

    @contextlib.contextmanager
    def stream(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[StreamResponse]:
        """GET ``url`` and yield a response whose body is read chunk by chunk, never all at once.

        Any status >= 400 raises ``IndexError_`` (a missing file is an error for a download).
        """
        if url.startswith("file:"):
            with file_stream(url) as sr:
                yield sr
            return
        merged = {"Accept-Encoding": "identity", **(headers or {})}
        resp, _, final = self._send("GET", url, merged, read_body=False, decode=False)
        t0 = time.monotonic()
        if resp.status >= 400:
            _discard(resp)
            raise self._status_error(final, resp.status, resp.reason)

        def chunks(size: int) -> Iterator[bytes]:
            try:
                yield from resp.stream(size, decode_content=False)
            except Exception as e:
                if not _is_network_error(e):
                    raise
                raise IndexError_(
                    f"download of {final} broke off after {sr.bytes_read} bytes: {_reason(e, self.timeout)}",
                    hint=NETWORK_HINT,
                ) from None

        sr = StreamResponse(final, resp.status, _headers(resp), chunks)
        try:
            yield sr
        finally:
            # Fully read: the connection is already back in the pool and this is a no-op.
            # Partly read: the connection is closed rather than drained.
            _discard(resp)
            log.debug(
                "GET %s -> %s streamed (%d bytes, %.3fs)",
                final, resp.status, sr.bytes_read, time.monotonic() - t0,
            )

    def get_range(self, url: str, start: int, end: int) -> RangeResponse:
        """Bytes ``[start, end)`` of the file at ``url`` (end exclusive, like a slice).

        Raises ``RangeNotSupported`` when the server answers anything but 206 for a satisfiable
        range (the body of a 200 is not read).
        """
        if end <= start:
            raise ValueError(f"empty range {start}-{end}")
        return self._range(url, f"bytes={start}-{end - 1}", start)

    def get_tail(self, url: str, n: int) -> RangeResponse:
        """The last ``n`` bytes of the file at ``url`` (all of it when it is shorter)."""
        if n <= 0:
            raise ValueError("tail length must be positive")
        return self._range(url, f"bytes=-{n}", None)

    def add_credentials(self, url: str) -> None:
        """Remember the userinfo of ``url`` (if any) for its host:port."""
        self._auth.remember(url)

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for m in managers:
            m.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        *,
        read_body: bool,
        decode: bool,
    ) -> tuple[urllib3.BaseHTTPResponse, bytes | None, str]:
        """Send with redirects and retries; returns (response, body if read_body, final URL)."""
        import urllib3

        clean = self._auth.remember(url)
        attempt = 0
        redirects = 0
        while True:
            req_headers = self._headers_for(clean, headers, decode)
            manager = self._manager_for(clean)
            t0 = time.monotonic()
            resp = None
            try:
                resp = manager.request(
                    method,
                    clean,
                    headers=req_headers,
                    retries=False,
                    redirect=False,
                    timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
                    preload_content=False,
                    decode_content=decode,
                )
                body = None
                location = resp.headers.get("location") if resp.status in REDIRECT_STATUSES else None
                retry_status = resp.status == 429 or resp.status >= 500
                if read_body and not location and not (retry_status and attempt < self.retries):
                    body = resp.read(decode_content=decode)
                    resp.release_conn()
            except Exception as e:
                if resp is not None:
                    _discard(resp)
                if not _is_network_error(e):
                    raise
                if _is_tls_error(e):
                    raise IndexError_(
                        f"TLS error talking to {clean}: {_reason(e, self.timeout)}",
                        hint="set SSL_CERT_FILE or SSL_CERT_DIR to your CA bundle if a proxy "
                        "or private index uses its own certificate",
                    ) from None
                if isinstance(e, urllib3.exceptions.LocationValueError):
                    raise IndexError_(f"invalid URL: {clean}") from None
                reason = _reason(e, self.timeout)
                log.debug("%s %s failed after %.3fs: %s", method, clean, time.monotonic() - t0, reason)
                if attempt >= self.retries:
                    raise IndexError_(f"cannot reach {clean}: {reason}", hint=NETWORK_HINT) from None
                delay = self.backoff * (2**attempt)
                attempt += 1
                log.info("retrying %s %s in %.1fs (%s)", method, clean, delay, reason)
                time.sleep(delay)
                continue
            elapsed = time.monotonic() - t0
            log.debug(
                "%s %s -> %s (%s bytes, %.3fs)",
                method, clean, resp.status,
                len(body) if body is not None else resp.headers.get("content-length", "?"),
                elapsed,
            )
            if location:
                _discard(resp, drain=True)
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise IndexError_(f"too many redirects fetching {redact_url(url)}")
                clean = self._auth.remember(urllib.parse.urljoin(clean, location))
                continue
            if retry_status and attempt < self.retries:
                delay = self._retry_delay(resp, attempt)
                _discard(resp, drain=True)
                attempt += 1
                log.info(
                    "retrying %s %s in %.1fs (HTTP %s)", method, clean, delay, resp.status
                )
                time.sleep(delay)
                continue
            return resp, body, clean

    def _range(self, url: str, spec: str, start: int | None) -> RangeResponse:
        if url.startswith("file:"):
            return file_range(url, spec)
        headers = {"Range": spec, "Accept-Encoding": "identity"}
        resp, _, final = self._send("GET", url, headers, read_body=False, decode=False)
        try:
            if resp.status == 206:
                body = resp.read(decode_content=False)
                resp.release_conn()
                hdrs = _headers(resp)
                parsed = _parse_content_range(hdrs.get("content-range", ""))
                if parsed is None:
                    raise RangeNotSupported(f"{final} sent an invalid Content-Range for {spec}")
                got_start, got_end, total = parsed
                if (start is not None and got_start != start) or got_end - got_start + 1 != len(body):
                    raise RangeNotSupported(f"{final} answered {spec} with a different range")
                return RangeResponse(final, got_start, total, body, hdrs)
            if resp.status in (200, 416):
                raise RangeNotSupported(f"{final} does not support range requests (HTTP {resp.status})")
            if resp.status >= 400:
                raise self._status_error(final, resp.status, resp.reason)
            raise RangeNotSupported(f"{final} answered a range request with HTTP {resp.status}")
        except IndexError_:
            _discard(resp)
            raise
        except Exception as e:
            _discard(resp)
            if not _is_network_error(e):
                raise
            raise IndexError_(
                f"cannot reach {final}: {_reason(e, self.timeout)}", hint=NETWORK_HINT
            ) from None

    def _retry_delay(self, resp: Any, attempt: int) -> float:
        import email.utils

        value = resp.headers.get("retry-after")
        if value:
            value = value.strip()
            seconds: float | None = None
            if value.isdigit():
                seconds = float(value)
            else:
                try:
                    when = email.utils.parsedate_to_datetime(value)
                    seconds = when.timestamp() - time.time()
                except (TypeError, ValueError, IndexError):
                    seconds = None
            if seconds is not None:
                return max(0.0, min(seconds, self.max_retry_after))
        return float(self.backoff * (2**attempt))

    def _status_error(self, url: str, status: int, reason: str | None) -> IndexError_:
        text = f"HTTP {status}" + (f" {reason}" if reason else "")
        if status == 401:
            return IndexError_(
                f"{url} requires authentication ({text})",
                hint="put credentials in the index URL (https://user:token@host/...) or in ~/.netrc",
            )
        if status == 403:
            host = urllib.parse.urlsplit(url).hostname
            return IndexError_(f"{url} refused access ({text})", hint=f"check your credentials for {host}")
        if status == 429 or status >= 500:
            return IndexError_(
                f"{url} answered {text} after {self.retries} retries",
                hint="the index is having trouble; try again later",
            )
        return IndexError_(f"{url} answered {text}")

    # -- credentials, headers, pools -------------------------------------------------------------

    def _headers_for(self, url: str, headers: Mapping[str, str] | None, decode: bool) -> dict[str, str]:
        out = {"User-Agent": self._user_agent}
        if decode:
            out["Accept-Encoding"] = "gzip, deflate"
        authorization = self._auth.authorization(url)
        if authorization is not None:
            out["Authorization"] = authorization
        if headers:
            out.update(headers)
        return out

    def _proxy_for(self, url: str) -> str | None:
        return proxy_for(url, self._environ)

    def _manager_for(self, url: str) -> Any:
        proxy = self._proxy_for(url)
        warming = self._warming
        if warming is not None and self._ssl_context is None:
            warming.join()  # (the context warm_up is building: ready, or failed, soon)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is not None:
                return manager
            import ssl

            import urllib3

            if self._ssl_context is None:
                warn_unusable_cert_locations(self._environ)
                warmed, self._warmed = self._warmed, None
                self._ssl_context = warmed or ssl.create_default_context(cafile=self._cafile)
            common: dict[str, Any] = {
                "num_pools": 20,
                "maxsize": self._pool_maxsize,
                "block": True,
                "ssl_context": self._ssl_context,
            }
            if proxy is None:
                manager = urllib3.PoolManager(**common)
            else:
                manager = proxy_manager(proxy, common)
            from satchel.index import dns

            if self._addresses is None:
                self._addresses = dns.AddressCache()
            dns.use_cache(manager, self._addresses)
            self._managers[proxy] = manager
            return manager

# -- helpers -------------------------------------------------------------------------------------


def _default_user_agent() -> str:
    from satchel import __version__  # (importlib.metadata would cost ~10 ms of start-up)

    return f"satchel/{__version__}"


def _headers(resp: Any) -> dict[str, str]:
    return {k.lower(): resp.headers[k] for k in resp.headers}


def _discard(resp: Any, *, drain: bool = False) -> None:
    """Give the connection back: drained if small and asked to, else closed (never read a big body)."""
    try:
        if drain:
            length = resp.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) <= _CHUNK:
                resp.drain_conn()
                resp.release_conn()
                return
        resp.close()
        resp.release_conn()
    except Exception:
        pass


def _is_network_error(e: BaseException) -> bool:
    import http.client

    import urllib3

    return isinstance(e, (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError))


def _is_tls_error(e: BaseException) -> bool:
    import ssl

    import urllib3

    return isinstance(e, (urllib3.exceptions.SSLError, ssl.SSLError))


def _reason(e: BaseException, timeout: float) -> str:
    import errno
    import ssl

    import urllib3.exceptions as ue

    if isinstance(e, ue.ReadTimeoutError):
        return f"no response within {timeout:g}s"
    if isinstance(e, ue.NameResolutionError):
        return "cannot resolve host name"
    if isinstance(e, ue.NewConnectionError):
        return _errno_text(str(e)) or "connection failed"
    if isinstance(e, ue.ConnectTimeoutError):
        return f"connection timed out after {timeout:g}s"
    if isinstance(e, ue.ProxyError):
        inner = e.args[1] if len(e.args) > 1 else None
        return "proxy error: " + (_reason(inner, timeout) if isinstance(inner, BaseException) else str(e))
    if isinstance(e, ue.ProtocolError):
        inner = e.args[1] if len(e.args) > 1 else None
        if isinstance(inner, BaseException):
            return "connection broken: " + (_errno_text(str(inner)) or type(inner).__name__)
        return "connection broken: " + str(e.args[0] if e.args else e)
    if isinstance(e, ue.SSLError | ssl.SSLError):
        inner = e.args[0] if e.args else e
        return str(inner)
    if isinstance(e, OSError) and e.errno is not None:
        return os.strerror(e.errno).lower() if e.errno in errno.errorcode else str(e)
    return str(e) or type(e).__name__


def _errno_text(text: str) -> str:
    m = re.search(r"\[Errno -?\d+\] ([^')\"]+)", text)
    if m:
        return m.group(1).strip().rstrip(".").lower()
    m = re.search(r"IncompleteRead\(([^)]*)\)", text)
    if m:
        return f"incomplete body ({m.group(1)})"
    return ""


def _parse_content_range(value: str) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+)\s*", value)
    if not m:
        return None
    first, last, total = (int(g) for g in m.groups())
    if last < first or last >= total:
        return None
    return first, last, total


def warn_unusable_cert_locations(environ: Mapping[str, str]) -> None:
    """Warn about ``SSL_CERT_FILE``/``SSL_CERT_DIR`` naming nothing usable. OpenSSL skips such a
    location without a word (and, for ``SSL_CERT_FILE``, loads the default bundle in its place
    neither), so a typo there would otherwise show up only as a certificate error, or not at all
    while the default directory happens to do. uv warns the same way."""
    for name, usable, kind in (
        ("SSL_CERT_FILE", os.path.isfile, "file"),
        ("SSL_CERT_DIR", os.path.isdir, "directory"),
    ):
        value = environ.get(name, "")
        if not value:
            continue
        if name == "SSL_CERT_DIR":  # a list, like PATH
            missing = [p for p in value.split(os.pathsep) if p and not usable(p)]
        else:
            missing = [] if usable(value) and os.access(value, os.R_OK) else [value]
        for path in missing:
            log.warning(
                "%s=%s is not a readable %s: no certificates are loaded from it",
                name, path, kind,
            )
