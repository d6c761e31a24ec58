"""A real, local package index for tests: a threaded HTTP server on 127.0.0.1.

Serves a directory of wheels/sdists as a simple API:

* ``/simple/`` — root listing; ``/simple/<name>/`` — project page, PEP 503 HTML (``mode="html"``),
  PEP 691 JSON (``mode="json"``) or whichever the Accept header prefers (``mode="accept"``);
  non-normalized names and missing trailing slashes redirect (301) like the public index does.
* ``/files/<filename>`` — the files, linked with ``#sha256=``; Range requests (206) unless
  ``ranges=False``; ``/files/<filename>.metadata`` — PEP 658 metadata when ``serve_metadata``.

Knobs: ``yank(filename, reason)``, ``upload_times[filename] = "2024-03-01T12:00:00Z"`` (PEP 700's
``upload-time``, served in JSON only, as PEP 700 defines it for JSON only; default
``2020-01-01T00:00:00.000000Z``; None leaves the key out), ``cache_control`` / ``etag`` headers (default: none, like the
registry proxy here), ``auth=(user, password)`` to require basic auth, ``add_page(path, html)`` for
arbitrary pages (``links_page()`` renders a find-links page of every file). Faults: ``fail_next``,
``stall``, ``truncate``, ``corrupt``; the first three match requests whose path contains the given
substring, or (``exact=True``) whose path is exactly it (``/files/x.whl`` without
``/files/x.whl.metadata``). Every request is logged in ``requests``; ``count(substr)`` counts
requests whose path contains ``substr``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import shutil
import ssl
import subprocess
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name

from satchel.index.simple import file_project

Mode = Literal["html", "json", "accept"]
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_V1_TYPE = "application/vnd.pypi.simple.v1+html"
DEFAULT_UPLOAD_TIME = "2020-01-01T00:00:00.000000Z"


@dataclass
class RequestRecord:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0  # set once the response is sent; 0 while in progress


@dataclass
class _FileInfo:
    path: Path
    project: str
    sha256: str
    size: int
    requires_python: str | None
    metadata: bytes | None  # METADATA (wheels) / PKG-INFO (sdists)
    mtime_ns: int


class Hold:
    """Requests held open by the server until :meth:`release` (or the server stops): which
    arrived, and how many are being held right now."""

    def __init__(self) -> None:
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.arrived: list[str] = []
        self.held = 0

    def release(self) -> None:
        self._released.set()

    def wait(self, path: str, stopping: threading.Event) -> None:
        with self._lock:
            self.arrived.append(path)
            self.held += 1
        try:
            while not self._released.wait(0.05) and not stopping.is_set():
                pass
        finally:
            with self._lock:
                self.held -= 1


@dataclass
class _Fault:
    kind: str  # "fail" | "stall" | "truncate" | "hold"
    substring: str
    times: int | None  # None = every matching request
    status: int = 500
    seconds: float = 0.0
    nbytes: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    exact: bool = False  # match the whole path, not a substring of it
    hold: Hold | None = None

    def matches(self, path: str) -> bool:
        return path == self.substring if self.exact else self.substring in path


class IndexServer:
    def __init__(
        self,
        directory: Path,
        *,
        mode: Mode = "html",
        serve_metadata: bool = False,
        ranges: bool = True,
        cache_control: str | None = None,
        etag: bool = False,
        auth: tuple[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.mode: Mode = mode
        self.serve_metadata = serve_metadata
        self.ranges = ranges
        self.cache_control = cache_control
        self.etag = etag
        self.auth = auth
        self.tls = tls  # (certificate, key) PEM files: serve https
        self.requests: list[RequestRecord] = []
        self.yanked: dict[str, str] = {}  # filename -> reason ("" for none)
        self.upload_times: dict[str, str | None] = {}  # filename -> PEP 700 upload-time
        self.corrupted: set[str] = set()
        self.pages: dict[str, tuple[bytes, str]] = {}  # path -> (body, content type)
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._infos: dict[str, _FileInfo] = {}
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> IndexServer:
        self._stopping.clear()
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        if self.tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="index-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    def project_url(self, name: str) -> str:
        return f"{self.url}/simple/{canonicalize_name(name)}/"

    def file_url(self, filename: str) -> str:
        return f"{self.url}/files/{quote(filename)}"

    def auth_url(self, user: str, password: str) -> str:
        """The index URL with credentials in it."""
        creds = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"{self.scheme}://{creds}@127.0.0.1:{self.port}/simple/"

    # -- content ---------------------------------------------------------------------------------

    def add_file(self, path: Path) -> Path:
        """Publish ``path`` (copied into the served directory unless already there)."""
        path = Path(path)
        dest = self.directory / path.name
        if path.resolve() != dest.resolve():
            shutil.copyfile(path, dest)
        return dest

    def add_page(self, path: str, body: bytes | str, content_type: str = "text/html") -> str:
        """Serve ``body`` at ``path`` (e.g. a find-links page); returns its URL."""
        raw = body.encode() if isinstance(body, str) else body
        self.pages[path] = (raw, content_type)
        return self.url + path

    def links_page(self) -> str:
        """HTML linking every served file (with ``#sha256=``), as a find-links page would."""
        rows = [
            f'<a href="/files/{quote(name)}#sha256={info.sha256}">{html.escape(name)}</a><br/>'
            for name, info in self._files().items()
        ]
        return "<!DOCTYPE html><html><body>\n" + "\n".join(rows) + "\n</body></html>\n"

    def yank(self, filename: str, reason: str = "") -> None:
        self.yanked[filename] = reason

    def sha256(self, filename: str) -> str:
        return self._info(filename).sha256

    # -- faults ----------------------------------------------------------------------------------

    def fail_next(
        self,
        path_substring: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        *,
        exact: bool = False,
    ) -> None:
        """Answer the next ``times`` requests whose path contains ``path_substring`` with ``status``."""
        with self._lock:
            self._faults.append(
                _Fault("fail", path_substring, times, status=status, headers=headers or {}, exact=exact)
            )

    def stall(
        self, path_substring: str, seconds: float, times: int | None = None, *, exact: bool = False
    ) -> None:
        """Wait ``seconds`` before answering matching requests (every one unless ``times``)."""
        with self._lock:
            self._faults.append(_Fault("stall", path_substring, times, seconds=seconds, exact=exact))

    def hold(self, *path_substrings: str) -> Hold:
        """Hold every request whose path contains one of ``path_substrings`` open, unanswered,
        until the returned :class:`Hold` is released (or the server stops)."""
        gate = Hold()
        with self._lock:
            for sub in path_substrings:
                self._faults.append(_Fault("hold", sub, None, hold=gate))
        return gate

    def truncate(
        self, path_substring: str, nbytes: int, times: int | None = None, *, exact: bool = False
    ) -> None:
        """Send only ``nbytes`` of matching bodies (with the full Content-Length), then hang up."""
        with self._lock:
            self._faults.append(_Fault("truncate", path_substring, times, nbytes=nbytes, exact=exact))

    def corrupt(self, filename: str) -> None:
        """Serve different bytes for ``filename`` than its listed sha256 promises."""
        self.corrupted.add(filename)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self.corrupted.clear()

    # -- request log -----------------------------------------------------------------------------

    def count(self, path_substring: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests if path_substring in r.path)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals -------------------------------------------------------------------------------

    def _take_faults(self, path: str) -> list[_Fault]:
        taken = []
        with self._lock:
            for f in list(self._faults):
                if f.matches(path):
                    taken.append(f)
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self._faults.remove(f)
        return taken

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _files(self) -> dict[str, _FileInfo]:
        out = {}
        for p in sorted(self.directory.iterdir()):
            if p.is_file() and file_project(p.name) is not None:
                out[p.name] = self._info(p.name)
        return out

    def _info(self, filename: str) -> _FileInfo:
        path = self.directory / filename
        st = path.stat()
        with self._lock:
            info = self._infos.get(filename)
            if info is not None and info.mtime_ns == st.st_mtime_ns and info.size == st.st_size:
                return info
        data = path.read_bytes()
        project = file_project(filename) or ""
        metadata = _read_metadata(path, data)
        rp = None
        if metadata is not None:
            m = re.search(rb"^Requires-Python:[ \t]*(.+?)\s*$", metadata.split(b"\n\n", 1)[0], re.M)
            rp = m.group(1).decode() if m else None
        info = _FileInfo(path, project, hashlib.sha256(data).hexdigest(), len(data), rp, metadata, st.st_mtime_ns)
        with self._lock:
            self._infos[filename] = info
        return info

    def _project_files(self, project: str) -> list[_FileInfo]:
        return [i for i in self._files().values() if i.project == project]

    def project_html(self, project: str) -> bytes:
        rows = []
        for info in self._project_files(project):
            name = info.path.name
            attrs = [f'href="../../files/{quote(name)}#sha256={info.sha256}"']
            if info.requires_python:
                attrs.append(f'data-requires-python="{html.escape(info.requires_python)}"')
            if name in self.yanked:
                attrs.append(f'data-yanked="{html.escape(self.yanked[name])}"')
            if self.serve_metadata and info.metadata is not None and name.endswith(".whl"):
                digest = hashlib.sha256(info.metadata).hexdigest()
                attrs.append(f'data-dist-info-metadata="sha256={digest}"')
                attrs.append(f'data-core-metadata="sha256={digest}"')
            rows.append(f"    <a {' '.join(attrs)}>{html.escape(name)}</a><br/>")
        body = (
            "<!DOCTYPE html>\n<html>\n  <head>\n"
            '    <meta name="pypi:repository-version" content="1.1">\n'
            f"    <title>Links for {html.escape(project)}</title>\n  </head>\n  <body>\n"
            f"    <h1>Links for {html.escape(project)}</h1>\n" + "\n".join(rows) + "\n  </body>\n</html>\n"
        )
        return body.encode()

    def project_json(self, project: str) -> bytes:
        files = []
        versions = set()
        for info in self._project_files(project):
            name = info.path.name
            entry: dict[str, object] = {
                "filename": name,
                "url": f"../../files/{quote(name)}",
                "hashes": {"sha256": info.sha256},
                "requires-python": info.requires_python,
                "size": info.size,
                "upload-time": self.upload_times.get(name, DEFAULT_UPLOAD_TIME),
                "yanked": self.yanked.get(name, False) or (name in self.yanked),
            }
            if entry["upload-time"] is None:
                del entry["upload-time"]
            if self.serve_metadata and info.metadata is not None and name.endswith(".whl"):
                digest = {"sha256": hashlib.sha256(info.metadata).hexdigest()}
                entry["core-metadata"] = digest
                entry["dist-info-metadata"] = digest
            files.append(entry)
            versions.add(_version_of(name))
        doc = {
            "meta": {"api-version": "1.1"},
            "name": project,
            "files": files,
            "versions": sorted(v for v in versions if v),
        }
        return json.dumps(doc).encode()

    def root_html(self) -> bytes:
        projects = sorted({i.project for i in self._files().values()})
        rows = "\n".join(f'    <a href="{p}/">{p}</a>' for p in projects)
        return f"<!DOCTYPE html>\n<html><body>\n{rows}\n</body></html>\n".encode()

    def root_json(self) -> bytes:
        projects = sorted({i.project for i in self._files().values()})
        return json.dumps(
            {"meta": {"api-version": "1.1"}, "projects": [{"name": p} for p in projects]}
        ).encode()


def _version_of(filename: str) -> str:
    stem = filename[:-4] if filename.endswith(".whl") else re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)$", "", filename)
    parts = stem.split("-")
    return parts[1] if filename.endswith(".whl") else stem.rpartition("-")[2]


def _read_metadata(path: Path, data: bytes) -> bytes | None:
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for n in zf.namelist():
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                        return zf.read(n)
        elif path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
                for m in tf.getmembers():
                    if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"):
                        f = tf.extractfile(m)
                        return f.read() if f else None
    except (zipfile.BadZipFile, tarfile.TarError, OSError):
        return None
    return None


def _wants_json(accept: str) -> bool:
    """Whether an Accept header prefers the JSON simple API over HTML."""
    best_json = best_html = -1.0
    for i, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        q -= i * 1e-6  # earlier wins ties
        media = media.lower()
        if media in (JSON_TYPE, "application/vnd.pypi.simple.latest+json"):
            best_json = max(best_json, q)
        elif media in (HTML_V1_TYPE, "application/vnd.pypi.simple.latest+html", "text/html", "*/*"):
            best_html = max(best_html, q)
    return best_json > 0 and best_json > best_html


def _parse_range(value: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """(first, last) inclusive; None if the header is not a single byte range; False if unsatisfiable."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        n = int(m.group(2))
        if n == 0 or size == 0:
            return False
        return max(0, size - n), size - 1
    first = int(m.group(1))
    if first >= size:
        return False
    last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if last < first:
        return None
    return first, last


def _make_handler(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes
        server_version = "satchel-test-index/1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._handle(head=True)

        def do_GET(self) -> None:
            self._handle(head=False)

        # -- dispatch ------------------------------------------------------------------------

        def _handle(self, *, head: bool) -> None:
            # Logged before answering, so a client that saw the answer sees the record.
            self._record = RequestRecord(
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
            )
            server._log(self._record)
            try:
                self._dispatch(urlsplit(self.path).path, head)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _dispatch(self, path: str, head: bool) -> None:
            faults = server._take_faults(path)
            truncate_at: int | None = None
            for f in faults:
                if f.kind == "stall":
                    server._stopping.wait(f.seconds)
                if f.kind == "hold" and f.hold is not None:
                    f.hold.wait(path, server._stopping)
            for f in faults:
                if f.kind == "fail":
                    body = f"injected failure {f.status}\n".encode()
                    self._send(f.status, body, "text/plain", head=head, extra=f.headers)
                    return
                if f.kind == "truncate":
                    truncate_at = f.nbytes
            if server.auth is not None and not self._authorized():
                self._send(
                    401, b"authentication required\n", "text/plain", head=head,
                    extra={"WWW-Authenticate": 'Basic realm="index"'},
                )
                return
            if path in server.pages:
                body, ctype = server.pages[path]
                self._send(200, body, ctype, head=head, truncate_at=truncate_at)
                return
            if path in ("/simple", "/simple/"):
                if path == "/simple":
                    self._redirect("/simple/")
                    return
                want_json = self._want_json()
                body = server.root_json() if want_json else server.root_html()
                self._send_page(body, want_json, head, truncate_at)
                return
            m = re.fullmatch(r"/simple/([^/]+)(/?)", path)
            if m:
                raw, slash = unquote(m.group(1)), m.group(2)
                project = canonicalize_name(raw)
                if raw != project or not slash:
                    self._redirect(f"/simple/{project}/")
                    return
                if not server._project_files(project):
                    self._send(404, b"not found\n", "text/plain", head=head)
                    return
                want_json = self._want_json()
                body = server.project_json(project) if want_json else server.project_html(project)
                self._send_page(body, want_json, head, truncate_at)
                return
            m = re.fullmatch(r"/files/([^/]+)", path)
            if m:
                self._serve_file(unquote(m.group(1)), head, truncate_at)
                return
            self._send(404, b"not found\n", "text/plain", head=head)

        def _want_json(self) -> bool:
            if server.mode == "json":
                return True
            if server.mode == "html":
                return False
            return _wants_json(self.headers.get("Accept", ""))

        def _authorized(self) -> bool:
            assert server.auth is not None
            value = self.headers.get("Authorization", "")
            if not value.startswith("Basic "):
                return False
            try:
                user, _, password = base64.b64decode(value[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return (user, password) == server.auth

        def _send_page(self, body: bytes, is_json: bool, head: bool, truncate_at: int | None) -> None:
            if is_json:
                ctype = JSON_TYPE
            elif server.mode == "accept" and HTML_V1_TYPE in self.headers.get("Accept", ""):
                ctype = HTML_V1_TYPE
            else:
                ctype = "text/html; charset=utf-8"
            extra: dict[str, str] = {}
            if server.mode == "accept":
                extra["Vary"] = "Accept"
            if server.cache_control:
                extra["Cache-Control"] = server.cache_control
            if server.etag:
                tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                extra["ETag"] = tag
                if self.headers.get("If-None-Match") == tag:
                    self._send(304, b"", None, head=True, extra=extra)
                    return
            self._send(200, body, ctype, head=head, extra=extra, truncate_at=truncate_at)

        def _serve_file(self, filename: str, head: bool, truncate_at: int | None) -> None:
            meta = filename.endswith(".metadata")
            target = filename[: -len(".metadata")] if meta else filename
            path = server.directory / target
            if not path.is_file() or file_project(target) is None:
                self._send(404, b"not found\n", "text/plain", head=head)
                return
            if meta:
                info = server._info(target)
                if not server.serve_metadata or info.metadata is None or not target.endswith(".whl"):
                    self._send(404, b"not found\n", "text/plain", head=head)
                    return
                self._send(200, info.metadata, "application/octet-stream", head=head, truncate_at=truncate_at)
                return
            data = path.read_bytes()
            if target in server.corrupted:
                data = bytes(b ^ 0xFF for b in data[:64]) + data[64:] if data else b"x"
            extra: dict[str, str] = {}
            if server.cache_control:
                extra["Cache-Control"] = server.cache_control
            ctype = "application/octet-stream"
            rng = self.headers.get("Range")
            if server.ranges:
                extra["Accept-Ranges"] = "bytes"
                if rng:
                    parsed = _parse_range(rng, len(data))
                    if parsed is False:
                        extra["Content-Range"] = f"bytes */{len(data)}"
                        self._send(416, b"", None, head=head, extra=extra)
                        return
                    if parsed is not None:
                        first, last = parsed
                        extra["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
                        self._send(206, data[first : last + 1], ctype, head=head, extra=extra, truncate_at=truncate_at)
                        return
            self._send(200, data, ctype, head=head, extra=extra, truncate_at=truncate_at)

        def _redirect(self, location: str) -> None:
            self._send(301, b"", None, head=True, extra={"Location": location})

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str | None,
            *,
            head: bool,
            extra: dict[str, str] | None = None,
            truncate_at: int | None = None,
        ) -> None:
            self._record.status = status
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            if truncate_at is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            if truncate_at is not None and truncate_at < len(body):
                self.wfile.write(body[:truncate_at])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


def make_self_signed_cert(directory: Path, names: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, localhost and ``names`` made with the openssl CLI
    (tests skip without it)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    alt = ",".join(["IP:127.0.0.1", "DNS:localhost", *(f"DNS:{n}" for n in names)])
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", f"subjectAltName={alt}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
