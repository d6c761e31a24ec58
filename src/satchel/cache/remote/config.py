"""The remote tier's configuration: where it is, whether this run may write, how long to wait.

Parsed and checked here (one-line errors with a hint); built by ``satchel.settings`` from the
command line and the environment and handed to ``Cache`` as a parameter. Nothing here imports
opendal: a run that never misses its local cache never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from satchel.errors import SatchelError

MODES = ("read", "read-write")
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 20.0
DEFAULT_UPLOAD_WAIT = 5.0


@dataclass(frozen=True)
class RemoteTarget:
    """A parsed remote URL: ``scheme`` is ``s3``, ``webdav`` or ``http``."""

    scheme: str
    url: str  # as given (credentials never appear in it)
    bucket: str = ""  # s3
    endpoint: str = ""  # webdav / http: scheme://host[:port]
    root: str = "/"  # the prefix under the bucket or the server's path

    @property
    def writable(self) -> bool:
        return self.scheme != "http"


@dataclass(frozen=True)
class RemoteConfig:
    """The remote tier of one run: where it is, how it is used, and its key and timeouts."""
    target: RemoteTarget
    mode: str = "read"
    key: bytes | None = None  # SATCHEL_REMOTE_CACHE_KEY: HMAC key for action records
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    upload_wait: float = DEFAULT_UPLOAD_WAIT
    # The environment the backend reads its credentials from (AWS_*), passed down explicitly.
    environ: tuple[tuple[str, str], ...] = ()

    @property
    def writes(self) -> bool:
        return self.mode == "read-write" and self.target.writable

    def env(self, name: str) -> str | None:
        for k, v in self.environ:
            if k == name:
                return v
        return None


def parse_target(url: str, *, where: str = "--remote-cache") -> RemoteTarget:
    """``s3://bucket[/prefix]``, ``webdav+http(s)://host/path`` or ``http(s)://host/path``."""
    text = url.strip()
    hint = (
        "use s3://BUCKET[/PREFIX], webdav+https://HOST/PATH or https://HOST/PATH "
        "(a read-only mirror)"
    )
    # (Split by hand: urllib.parse, with ipaddress, is 2 ms of a no-op install's start-up.)
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise SatchelError(f"{where}: unsupported remote cache URL {text!r}", hint=hint)
    netloc, _slash, path = rest.partition("/")
    path = path.split("?", 1)[0].split("#", 1)[0]
    if "@" in netloc:
        raise SatchelError(
            f"{where}: the remote cache URL must not hold credentials",
            hint="give S3 credentials as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile); "
            "WebDAV ones as SATCHEL_REMOTE_CACHE_USERNAME / SATCHEL_REMOTE_CACHE_PASSWORD",
        )
    host, colon, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not colon:
        host = netloc
    elif not port.isdigit() or not 0 < int(port) < 65536:
        raise SatchelError(f"{where}: invalid port in remote cache URL {text!r}", hint=hint)
    root = "/" + path.strip("/") + "/" if path.strip("/") else "/"
    if scheme == "s3":
        if not host:
            raise SatchelError(f"{where}: {text!r} names no bucket", hint=hint)
        return RemoteTarget("s3", text, bucket=netloc, root=root)
    if scheme in ("webdav+http", "webdav+https"):
        if not host:
            raise SatchelError(f"{where}: {text!r} names no host", hint=hint)
        return RemoteTarget("webdav", text, endpoint=f"{scheme[7:]}://{netloc}", root=root)
    if scheme in ("http", "https"):
        if not host:
            raise SatchelError(f"{where}: {text!r} names no host", hint=hint)
        return RemoteTarget("http", text, endpoint=f"{scheme}://{netloc}", root=root)
    raise SatchelError(f"{where}: unsupported remote cache URL {text!r}", hint=hint)


def parse_mode(text: str, *, where: str = "--remote-cache-mode") -> str:
    mode = text.strip().lower()
    if mode in ("rw", "readwrite", "read_write"):
        mode = "read-write"
    if mode not in MODES:
        raise SatchelError(
            f"{where}: invalid mode {text!r}",
            hint="use read (the default) or read-write (for trusted CI jobs that fill the cache)",
        )
    return mode


def parse_seconds(text: str, *, where: str, allow_zero: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value != value or value < 0 or (value == 0 and not allow_zero) or value > 3600:  # NaN
        raise SatchelError(
            f"{where}: invalid number of seconds {text!r}",
            hint="give a number of seconds, e.g. 2 or 0.5",
        )
    return value
