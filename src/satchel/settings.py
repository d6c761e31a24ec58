"""Run-wide settings: the one piece of shared state, built once from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from satchel.cache.remote.config import RemoteConfig


def _default_ttl() -> float:
    try:
        return float(os.environ.get("SATCHEL_INDEX_TTL", "600"))
    except ValueError:
        return 600.0


@dataclass
class Settings:
    cache_dir: Path | None = None
    no_cache: bool = False
    offline: bool = False
    refresh: bool = False
    refresh_packages: frozenset[str] = frozenset()
    index_ttl: float = field(default_factory=_default_ttl)
    timeout: float = 15.0
    verbose: int = 0
    quiet: bool = False
    force: bool = False
    remote: RemoteConfig | None = None  # the remote cache tier (remote_config below)
    # SATCHEL_CACHE_MAX_SIZE: prune the cache down to this many bytes, at most once a day
    cache_max_size: int | None = field(default_factory=lambda: cache_max_size())

    def must_refresh(self, name: str) -> bool:
        return self.refresh or name in self.refresh_packages


def cache_max_size(environ: dict[str, str] | None = None) -> int | None:
    """SATCHEL_CACHE_MAX_SIZE in bytes (500M, 2G, ...), or None. A bad value is an error."""
    text = (os.environ if environ is None else environ).get("SATCHEL_CACHE_MAX_SIZE")
    if not text:
        return None
    from satchel.cache.manage import parse_size
    from satchel.errors import SatchelError

    try:
        return parse_size(text)
    except ValueError as exc:
        raise SatchelError(f"SATCHEL_CACHE_MAX_SIZE: {exc}", hint="e.g. 500M or 2G") from None


def remote_config(
    url: str | None,
    mode: str | None,
    upload_wait: str | None,
    environ: dict[str, str] | None = None,
) -> RemoteConfig | None:
    """The remote cache tier's configuration from the command line (given values win) and the
    environment: SATCHEL_REMOTE_CACHE, SATCHEL_REMOTE_CACHE_MODE, SATCHEL_REMOTE_CACHE_KEY,
    SATCHEL_REMOTE_CONNECT_TIMEOUT, SATCHEL_REMOTE_READ_TIMEOUT, SATCHEL_REMOTE_UPLOAD_WAIT, and
    the backend's own variables (AWS_*, SATCHEL_REMOTE_CACHE_USERNAME/PASSWORD/TOKEN). None
    when no remote is configured. Bad values raise SatchelError (one line and a hint)."""
    env = os.environ if environ is None else environ
    where = "--remote-cache"
    if url is None:
        url, where = env.get("SATCHEL_REMOTE_CACHE") or None, "SATCHEL_REMOTE_CACHE"
    if not url:
        return None
    from satchel.cache.remote import config as rc

    target = rc.parse_target(url, where=where)
    if mode is not None:
        parsed_mode = rc.parse_mode(mode)
    else:
        parsed_mode = rc.parse_mode(
            env.get("SATCHEL_REMOTE_CACHE_MODE") or "read", where="SATCHEL_REMOTE_CACHE_MODE"
        )
    if parsed_mode == "read-write" and not target.writable:
        from satchel.errors import SatchelError

        raise SatchelError(
            f"{where}: {target.url} is a read-only HTTP mirror; it cannot be written",
            hint="use --remote-cache-mode read, or an s3:// or webdav+https:// URL to write",
        )

    def seconds(name: str, given: str | None, default: float, *, allow_zero: bool = False) -> float:
        text, source = (given, "--remote-upload-wait") if given is not None else (env.get(name), name)
        if text is None or text == "":
            return default
        return rc.parse_seconds(text, where=source, allow_zero=allow_zero)

    key_text = env.get("SATCHEL_REMOTE_CACHE_KEY") or None
    passed = ("AWS_", "SATCHEL_REMOTE_CACHE_USERNAME", "SATCHEL_REMOTE_CACHE_PASSWORD",
              "SATCHEL_REMOTE_CACHE_TOKEN")
    return rc.RemoteConfig(
        target=target,
        mode=parsed_mode,
        key=key_text.encode() if key_text else None,
        connect_timeout=seconds("SATCHEL_REMOTE_CONNECT_TIMEOUT", None, rc.DEFAULT_CONNECT_TIMEOUT),
        read_timeout=seconds("SATCHEL_REMOTE_READ_TIMEOUT", None, rc.DEFAULT_READ_TIMEOUT),
        upload_wait=seconds(
            "SATCHEL_REMOTE_UPLOAD_WAIT", upload_wait, rc.DEFAULT_UPLOAD_WAIT, allow_zero=True
        ),
        environ=tuple(sorted((k, v) for k, v in env.items() if k.startswith(passed))),
    )
