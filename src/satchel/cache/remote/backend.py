"""The object store behind the remote tier, through Apache OpenDAL's Python binding.

Imported only when a remote is configured and needed. One blocking ``Operator`` per run with a
``TimeoutLayer``: control operations (stat, the request of a read, up to its response) are
bounded by the connect timeout, each chunk of I/O by the read timeout. No retries: a remote that
fails is switched off for the run, the local cache carries on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from satchel.cache.remote.config import RemoteConfig
from satchel.errors import SatchelError

CHUNK = 1 << 20


class Missing(Exception):
    """The object does not exist."""


class Exists(Exception):
    """A write-if-absent found the object already there (another writer won)."""


class RemoteDown(Exception):
    """The remote cannot be used (unreachable, refused, timed out, 5xx, credentials rejected)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _import_opendal() -> Any:
    try:
        import opendal
    except ImportError as exc:
        raise SatchelError(
            f"a remote cache is configured, but the opendal package is not installed ({exc})",
            hint="pip install 'satchel[remote]'",
        ) from None
    return opendal


def describe(exc: BaseException) -> str:
    """A short reason from an opendal error (its messages span many lines)."""
    text = str(exc).split("Backtrace:", 1)[0]
    code = re.search(r'code: "([^"]+)"', text)
    status = re.search(r"status: (\d{3})", text)
    if code:
        return f"{code[1]}" + (f" (HTTP {status[1]})" if status else "")
    if status:
        if status[1] in ("401", "403"):
            return f"HTTP {status[1]}: access denied, check the credentials"
        return f"HTTP {status[1]}"
    source = text.split("Source:", 1)
    if len(source) == 2:
        lines = [ln.strip() for ln in source[1].strip().splitlines() if ln.strip()]
        if lines:
            return lines[-1][:200]
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


class Store:
    """Blocking get/put/stat/list/delete on the configured remote, errors classified."""

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        opendal = _import_opendal()
        self._exc = opendal.exceptions
        target = config.target
        options: dict[str, str] = {"root": target.root}
        if target.scheme == "s3":
            env = config.env
            endpoint = env("AWS_ENDPOINT_URL_S3") or env("AWS_ENDPOINT_URL")
            options["bucket"] = target.bucket
            options["region"] = env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1"
            if endpoint:
                options["endpoint"] = endpoint
            for option, name in (
                ("access_key_id", "AWS_ACCESS_KEY_ID"),
                ("secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                ("session_token", "AWS_SESSION_TOKEN"),
                ("profile", "AWS_PROFILE"),
            ):
                value = env(name)
                if value:
                    options[option] = value
            if not env("AWS_ACCESS_KEY_ID") and not env("AWS_PROFILE"):
                # No keys given: a public bucket is read unsigned; the instance metadata service
                # is never asked (it would stall a run outside the cloud).
                options["disable_ec2_metadata"] = "true"
                options["allow_anonymous"] = "true"
            scheme = "s3"
        elif target.scheme == "webdav":
            options["endpoint"] = target.endpoint
            user = config.env("SATCHEL_REMOTE_CACHE_USERNAME")
            password = config.env("SATCHEL_REMOTE_CACHE_PASSWORD")
            token = config.env("SATCHEL_REMOTE_CACHE_TOKEN")
            if user:
                options["username"] = user
            if password:
                options["password"] = password
            if token:
                options["token"] = token
            scheme = "webdav"
        else:
            options["endpoint"] = target.endpoint
            token = config.env("SATCHEL_REMOTE_CACHE_TOKEN")
            if token:
                options["token"] = token
            scheme = "http"
        try:
            base = opendal.Operator(scheme, **options)
            op = base.layer(
                opendal.layers.TimeoutLayer(
                    timeout=config.connect_timeout, io_timeout=config.read_timeout
                )
            )
            # Small reads (action records) and the first contact: an answer within the connect
            # timeout or the remote is off (a read's request counts as I/O to the timeout layer).
            quick = base.layer(
                opendal.layers.TimeoutLayer(
                    timeout=config.connect_timeout, io_timeout=config.connect_timeout
                )
            )
        except Exception as exc:  # a bad option is a configuration error
            raise SatchelError(
                f"remote cache {target.url}: {describe(exc)}",
                hint="check the URL and the AWS_* / SATCHEL_REMOTE_CACHE_* settings",
            ) from None
        self._quick = quick
        self._op = op
        try:
            self.can_write_if_absent = bool(op.capability().write_with_if_not_exists)
            self.can_list = bool(op.capability().list)
        except Exception:
            self.can_write_if_absent = False
            self.can_list = False

    # -- classification ------------------------------------------------------------------------

    def _classify(self, exc: BaseException) -> BaseException:
        text = str(exc)
        if isinstance(exc, self._exc.NotFound) or text.startswith("NotFound") or (
            re.search(r'code: "NoSuchKey"|status: 404\b', text) is not None
        ):
            return Missing(text)
        if isinstance(exc, (self._exc.ConditionNotMatch, self._exc.AlreadyExists)):
            return Exists(str(exc))
        return RemoteDown(describe(exc))

    # -- operations ----------------------------------------------------------------------------

    def probe(self) -> None:
        """One quick request (a stat): RemoteDown unless the remote answers in time. A missing
        object is an answer."""
        try:
            self._quick.stat("v1/.probe")
        except Exception as exc:
            err = self._classify(exc)
            if not isinstance(err, Missing):
                raise err from None

    def read(self, path: str) -> bytes:
        """The whole object (small ones: action records), within the connect timeout."""
        try:
            return bytes(self._quick.read(path))
        except Exception as exc:
            raise self._classify(exc) from None

    def stream(self, path: str) -> Iterator[bytes]:
        """The object in chunks (blobs). Missing / RemoteDown as for ``read``."""
        try:
            fh = self._op.open(path, "rb")
        except Exception as exc:
            raise self._classify(exc) from None
        try:
            while True:
                try:
                    chunk = fh.read(CHUNK)
                except Exception as exc:
                    raise self._classify(exc) from None
                if not chunk:
                    return
                yield bytes(chunk)
        finally:
            try:
                fh.close()
            except Exception:
                pass

    def size(self, path: str) -> int:
        try:
            return int(self._op.stat(path).content_length)
        except Exception as exc:
            raise self._classify(exc) from None

    def write(self, path: str, data: bytes | Path, *, if_absent: bool) -> None:
        """Write ``data`` (bytes, or a file streamed) at ``path``; with ``if_absent`` raise
        Exists when something is there already (natively where the backend can, else by a stat
        first: a race then lets the last writer win, harmless for content-addressed blobs)."""
        try:
            native = if_absent and self.can_write_if_absent
            if if_absent and not native:
                try:
                    self._op.stat(path)
                except self._exc.NotFound:
                    pass
                else:
                    raise Exists(path)
            kwargs = {"if_not_exists": True} if native else {}
            if isinstance(data, Path):
                with open(data, "rb") as src, self._op.open(path, "wb", **kwargs) as dst:
                    while chunk := src.read(CHUNK * 8):
                        dst.write(chunk)
            else:
                self._op.write(path, data, **kwargs)
        except Exists:
            raise
        except FileNotFoundError:
            raise  # the local file went away (evicted): nothing to upload
        except Exception as exc:
            raise self._classify(exc) from None

    def delete(self, path: str) -> None:
        try:
            self._op.delete(path)
        except Exception as exc:
            raise self._classify(exc) from None

    def list(self, path: str) -> Iterator[tuple[str, int]]:
        """(path, size) of every object under ``path`` (recursive)."""
        try:
            for entry in self._op.list(path, recursive=True):
                p = entry.path
                if p.endswith("/"):
                    continue
                meta = getattr(entry, "metadata", None)
                size = int(getattr(meta, "content_length", 0) or 0) if meta is not None else 0
                yield p, size
        except Missing:
            return
        except Exception as exc:
            err = self._classify(exc)
            if isinstance(err, Missing):
                return
            raise err from None
