"""The one HTTP client of a run: pooled, retrying, proxy- and credential-aware, with file:// support.

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
from base64 import b64encode
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from satchel.errors import IndexError_

if TYPE_CHECKING:
    import ipaddress
    import netrc
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
_CHUNK = 64 * 1024


class RangeNotSupported(IndexError_):
    """The server did not answer a Range request with 206; download the whole file instead."""


@dataclass(frozen=True, slots=True)
class Response:
    """A fully read response. ``url`` is the final URL (after redirects), without credentials.

    ``headers`` has lower-case keys; repeated headers are joined with ", ".
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type, lower-case, without parameters ("" when absent)."""
        return _media_type(self.headers.get("content-type", ""))

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class RangeResponse:
    """The bytes ``[start, start + len(body))`` of the file at ``url``, whose full size is ``total``."""

    url: str
    start: int
    total: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class StreamResponse:
    """A response whose body is read in chunks; use only inside ``HttpClient.stream``."""

    def __init__(
        self,
        url: str,
        status: int,
        headers: dict[str, str],
        chunks: Callable[[int], Iterator[bytes]],
    ) -> None:
        self.url = url
        self.status = status
        self.headers = headers
        self.bytes_read = 0
        self._chunks = chunks

    @property
    def content_type(self) -> str:
        return _media_type(self.headers.get("content-type", ""))

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    def iter_bytes(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """Yield the body as it arrives (raw bytes, no content decoding).

        A connection that breaks or a body shorter than Content-Length raises ``IndexError_``.
        """
        for chunk in self._chunks(chunk_size):
            if chunk:
                self.bytes_read += len(chunk)
                yield chunk


def redact_url(url: str) -> str:
    """``url`` without its userinfo (``https://user:pw@host/x`` -> ``https://host/x``)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split ``url`` into the URL without userinfo and its (user, password), percent-decoded."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


def should_bypass_proxy(url: str, no_proxy: str) -> bool:
    """Whether ``url`` must be fetched directly, per a NO_PROXY value.

    Entries are separated by commas or spaces; ``*`` matches everything; a host entry matches that
    host and its subdomains (a leading ``.`` or ``*.`` is ignored); ``host:port`` matches only that
    port; IP addresses and CIDR blocks match IP hosts. Loopback hosts are always fetched directly.
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port: int | None = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    import ipaddress

    ip = _ip(host)
    if host == "localhost" or host.endswith(".localhost") or (ip is not None and ip.is_loopback):
        return True
    for raw in re.split(r"[,\s]+", no_proxy.lower()):
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):  # [::1]:8080
            addr, _, rest = entry[1:].partition("]")
            entry = addr
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
        elif entry.count(":") == 1:
            name, _, p = entry.partition(":")
            if p.isdigit():
                entry, entry_port = name, int(p)
        if entry_port is not None and entry_port != port:
            continue
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if entry.startswith("*."):
            entry = entry[2:]
        entry = entry.lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _env(environ: Mapping[str, str], name: str) -> str:
    """An environment variable, lower-case spelling first (as curl and urllib do)."""
    return environ.get(name.lower()) or environ.get(name.upper()) or ""


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
        self._user_agent = user_agent or _default_user_agent()
        self._lock = threading.Lock()
        self._credentials: dict[str, tuple[str, str]] = {}  # netloc -> (user, password)
        self._netrc_cache: dict[str, tuple[str, str] | None] = {}
        self._netrc: netrc.netrc | bool | None = False  # False = not loaded yet
        self._managers: dict[str | None, Any] = {}  # proxy URL (None = direct) -> PoolManager
        self._ssl_context: ssl.SSLContext | None = None

    # -- public API ------------------------------------------------------------------------------

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET ``url`` and read the whole body (content-decoded). 404/410 are returned, not raised."""
        if url.startswith("file:"):
            return self._file_get(url)
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
            with self._file_stream(url) as sr:
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
        self._prepare(url)

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

        clean = self._prepare(url)
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
                clean = self._prepare(urllib.parse.urljoin(clean, location))
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
            return self._file_range(url, spec)
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

    def _prepare(self, url: str) -> str:
        clean, creds = split_credentials(url)
        if creds is not None:
            netloc = urllib.parse.urlsplit(clean).netloc.lower()
            with self._lock:
                self._credentials[netloc] = creds
        return clean

    def _headers_for(self, url: str, headers: Mapping[str, str] | None, decode: bool) -> dict[str, str]:
        out = {"User-Agent": self._user_agent}
        if decode:
            out["Accept-Encoding"] = "gzip, deflate"
        creds = self._auth_for(url)
        if creds is not None:
            token = b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")
            out["Authorization"] = f"Basic {token}"
        if headers:
            out.update(headers)
        return out

    def _auth_for(self, url: str) -> tuple[str, str] | None:
        parts = urllib.parse.urlsplit(url)
        with self._lock:
            creds = self._credentials.get(parts.netloc.lower())
            if creds is not None:
                return creds
            host = (parts.hostname or "").lower()
            if host in self._netrc_cache:
                return self._netrc_cache[host]
            if self._netrc is False:
                self._netrc = self._load_netrc()
            found: tuple[str, str] | None = None
            if self._netrc is not None and self._netrc is not True:
                entry = self._netrc.authenticators(host)
                if entry is not None:
                    login, _account, password = entry
                    found = (login or "", password or "")
            self._netrc_cache[host] = found
            return found

    def _load_netrc(self) -> netrc.netrc | None:
        import netrc

        path = self._environ.get("NETRC")
        if not path:
            home = self._environ.get("HOME") or os.path.expanduser("~")
            path = os.path.join(home, ".netrc")
        if not os.path.isfile(path):
            return None
        try:
            return netrc.netrc(path)
        except (netrc.NetrcParseError, OSError) as e:
            log.warning("ignoring %s: %s", path, e)
            return None

    def _proxy_for(self, url: str) -> str | None:
        scheme = urllib.parse.urlsplit(url).scheme
        proxy = _env(self._environ, f"{scheme}_proxy") or _env(self._environ, "all_proxy")
        if not proxy:
            return None
        if should_bypass_proxy(url, _env(self._environ, "no_proxy")):
            return None
        if "://" not in proxy:
            proxy = "http://" + proxy
        return proxy

    def _manager_for(self, url: str) -> Any:
        proxy = self._proxy_for(url)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is not None:
                return manager
            import ssl

            import urllib3

            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context(cafile=self._cafile)
            common: dict[str, Any] = {
                "num_pools": 20,
                "maxsize": self._pool_maxsize,
                "block": True,
                "ssl_context": self._ssl_context,
            }
            if proxy is None:
                manager = urllib3.PoolManager(**common)
            else:
                pscheme = urllib.parse.urlsplit(proxy).scheme
                if pscheme not in ("http", "https"):
                    raise IndexError_(
                        f"unsupported proxy {redact_url(proxy)}",
                        hint="use an http:// or https:// proxy in HTTPS_PROXY/HTTP_PROXY",
                    )
                clean_proxy, creds = split_credentials(proxy)
                proxy_headers = None
                if creds is not None:
                    proxy_headers = urllib3.make_headers(proxy_basic_auth=f"{creds[0]}:{creds[1]}")
                manager = urllib3.ProxyManager(clean_proxy, proxy_headers=proxy_headers, **common)
            self._managers[proxy] = manager
            return manager

    # -- file:// ---------------------------------------------------------------------------------

    def _file_get(self, url: str) -> Response:
        t0 = time.monotonic()
        path, final = _file_path(url)
        if path.is_dir():
            if not final.endswith("/"):
                final += "/"
            path = path / "index.html"
        try:
            body = path.read_bytes()
            status = 200
        except FileNotFoundError:
            body, status = b"", 404
        except OSError as e:
            raise IndexError_(f"cannot read {final}: {e.strerror or e}") from None
        headers = {"content-type": _guess_type(path)} if status == 200 else {}
        headers["content-length"] = str(len(body))
        log.debug("GET %s -> %s (%d bytes, %.3fs)", final, status, len(body), time.monotonic() - t0)
        return Response(url=final, status=status, headers=headers, body=body)

    @contextlib.contextmanager
    def _file_stream(self, url: str) -> Iterator[StreamResponse]:
        t0 = time.monotonic()
        path, final = _file_path(url)
        try:
            fh: BinaryIO = path.open("rb")
        except FileNotFoundError:
            raise IndexError_(f"{final} does not exist") from None
        except OSError as e:
            raise IndexError_(f"cannot read {final}: {e.strerror or e}") from None
        with fh:
            size = os.fstat(fh.fileno()).st_size

            def chunks(n: int) -> Iterator[bytes]:
                while chunk := fh.read(n):
                    yield chunk

            headers = {"content-type": _guess_type(path), "content-length": str(size)}
            sr = StreamResponse(final, 200, headers, chunks)
            try:
                yield sr
            finally:
                log.debug(
                    "GET %s -> 200 streamed (%d bytes, %.3fs)", final, sr.bytes_read, time.monotonic() - t0
                )

    def _file_range(self, url: str, spec: str) -> RangeResponse:
        path, final = _file_path(url)
        try:
            with path.open("rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                first, last = _resolve_range(spec, size)
                if first > last:
                    raise RangeNotSupported(f"{final}: range {spec} is not satisfiable")
                fh.seek(first)
                body = fh.read(last - first + 1)
        except FileNotFoundError:
            raise IndexError_(f"{final} does not exist") from None
        except OSError as e:
            raise IndexError_(f"cannot read {final}: {e.strerror or e}") from None
        log.debug("GET %s [%s] -> 206 (%d bytes)", final, spec, len(body))
        return RangeResponse(final, first, size, body, {"content-range": f"bytes {first}-{last}/{size}"})


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


def _resolve_range(spec: str, size: int) -> tuple[int, int]:
    """Inclusive (first, last) of a single ``bytes=`` range against ``size``; first > last if empty."""
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", spec)
    if not m or (not m.group(1) and not m.group(2)):
        raise ValueError(f"bad range {spec!r}")
    if not m.group(1):
        n = int(m.group(2))
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return first, last


def _file_path(url: str) -> tuple[Path, str]:
    from satchel.index.fileurl import url2pathname

    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise IndexError_(f"cannot read {url}: file URLs must name a local path")
    path = Path(url2pathname(parts.path))
    return path, urllib.parse.urlunsplit(parts._replace(fragment=""))


def _guess_type(path: Path) -> str:
    if path.suffix in (".html", ".htm"):
        return "text/html"
    if path.suffix == ".json":
        return "application/json"
    return "application/octet-stream"
