"""Run-wide settings: the one piece of shared state, built once by the CLI from the command line
and the ``SATCHEL_*`` environment variables.

Every ``SATCHEL_*`` variable is read, parsed and checked here and nowhere else (:data:`VARIABLES`
lists them): a bad value is one clear error naming the variable, the value and what is expected,
before anything runs. The layers below get the values as parameters.

Kept cheap to import: every command, including the no-op install, loads it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

from satchel.errors import SatchelError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from satchel.cache.remote.config import RemoteConfig

#: How files get from the cache into an environment (``--link-mode``, ``SATCHEL_LINK_MODE``).
LINK_MODES = ("hardlink", "copy", "symlink", "clone")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingsError(SatchelError):
    """A setting (an environment variable or an option) has a value satchel cannot use."""


@dataclass
class Settings:
    """Every setting of one run, from the command line and ``SATCHEL_*``, parsed and checked in one
    place."""
    # From the command line (the CLI passes them).
    cache_dir: Path | None = None  # --cache-dir, else SATCHEL_CACHE_DIR; None: the user cache dir
    no_cache: bool = False
    offline: bool = False
    refresh: bool = False
    refresh_packages: frozenset[str] = frozenset()
    timeout: float = 15.0
    verbose: int = 0
    quiet: int = 0  # -q: 1, -qq: 2
    force: bool = False
    # From the environment only (see VARIABLES).
    index_ttl: float = 600.0  # SATCHEL_INDEX_TTL: seconds an index page without caching headers stays fresh
    index_url: str | None = None  # SATCHEL_INDEX_URL: the default index, below --index-url
    lock_timeout: float = 600.0  # SATCHEL_LOCK_TIMEOUT: seconds to wait for a cache entry's lock
    git_timeout: float = 600.0  # SATCHEL_GIT_TIMEOUT: seconds one git command may take
    link_mode: str | None = None  # SATCHEL_LINK_MODE: the default --link-mode
    fast_path: bool = True  # SATCHEL_NO_FAST_PATH=1 turns the no-op install check and replays off
    replay: bool = True  # SATCHEL_NO_REPLAY=1 turns replays off (satchel.cache.replays)
    fsync: bool = True  # SATCHEL_UNSAFE_NO_FSYNC=1 (tests only) makes cache writes not durable
    link_worker: bool = True  # SATCHEL_NO_LINK_WORKER=1: link and unpack in this process only
    remote: RemoteConfig | None = None  # the remote cache tier (remote_config below)
    cache_max_size: int | None = None  # SATCHEL_CACHE_MAX_SIZE: prune down to this many bytes, at most once a day

    def must_refresh(self, name: str) -> bool:
        return self.refresh or name in self.refresh_packages

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **options: Any) -> Settings:
        """Settings from the ``SATCHEL_*`` variables of ``environ`` (default ``os.environ``),
        then ``options`` (the command line's; a ``cache_dir`` of None does not override
        SATCHEL_CACHE_DIR). Raises :class:`SettingsError` for the first bad variable."""
        values = parse_environ(os.environ if environ is None else environ)
        for key, value in options.items():
            if key == "cache_dir" and value is None:
                continue
            values[key] = value
        return cls(**values)


def parse_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the ``SATCHEL_*`` variables set, by field name (unset and empty variables
    are left out: the field's default applies)."""
    out: dict[str, Any] = {}
    for name, (key, parse) in VARIABLES.items():
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        out[key] = parse(name, raw.strip())
    return out


def _bad(name: str, raw: str, expected: str, hint: str | None = None) -> SettingsError:
    return SettingsError(
        f"environment variable {name}={raw!r}: expected {expected}",
        hint=hint or f"fix or unset {name}",
    )


def _seconds(*, zero: bool) -> Callable[[str, str], float]:
    expected = "a number of seconds" + (", 0 or more" if zero else ", more than 0")

    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise _bad(name, raw, expected, f"for example {name}=600, or unset it") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise _bad(name, raw, expected, f"for example {name}=600, or unset it")
        return value

    return parse


def _flag(name: str, raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad(name, raw, "1 or 0 (or true/false, yes/no, on/off)", f"for example {name}=1, or unset it")


def _path(name: str, raw: str) -> Path:
    return Path(raw).expanduser()


def _index_url(name: str, raw: str) -> str:
    problem = url_problem(raw)
    if problem:
        raise _bad(name, raw, f"an index URL ({problem})", f"for example {name}=https://host/simple, or unset it")
    return raw


def _size(name: str, raw: str) -> int:
    from satchel.cache.manage import parse_size

    try:
        return parse_size(raw)
    except ValueError as exc:
        raise _bad(name, raw, f"a size ({exc})", f"for example {name}=500M or {name}=2G, or unset it") from None


def _link_mode(name: str, raw: str) -> str:
    if raw not in LINK_MODES:
        raise _bad(name, raw, f"one of {', '.join(LINK_MODES)}")
    return raw


VARIABLES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    # variable: (Settings field, parser); a parser gets (name, stripped value) and raises _bad().
    "SATCHEL_CACHE_DIR": ("cache_dir", _path),
    "SATCHEL_INDEX_URL": ("index_url", _index_url),
    "SATCHEL_INDEX_TTL": ("index_ttl", _seconds(zero=True)),
    "SATCHEL_LOCK_TIMEOUT": ("lock_timeout", _seconds(zero=True)),
    "SATCHEL_GIT_TIMEOUT": ("git_timeout", _seconds(zero=False)),
    "SATCHEL_LINK_MODE": ("link_mode", _link_mode),
    "SATCHEL_NO_FAST_PATH": ("fast_path", lambda name, raw: not _flag(name, raw)),
    "SATCHEL_NO_REPLAY": ("replay", lambda name, raw: not _flag(name, raw)),
    "SATCHEL_UNSAFE_NO_FSYNC": ("fsync", lambda name, raw: not _flag(name, raw)),
    "SATCHEL_NO_LINK_WORKER": ("link_worker", lambda name, raw: not _flag(name, raw)),
    "SATCHEL_CACHE_MAX_SIZE": ("cache_max_size", _size),
    # The remote tier's variables (SATCHEL_REMOTE_*) are read by remote_config() below.
}
assert {key for key, _ in VARIABLES.values()} <= {f.name for f in fields(Settings)}


def url_problem(url: str, *, schemes: tuple[str, ...] = ("http", "https", "file")) -> str | None:
    """Why ``url`` is not a usable absolute URL with one of ``schemes`` (None when it is).
    Index URLs, find-links URLs and proxies are checked with it before any request is made."""
    from urllib.parse import urlsplit

    if any(c.isspace() for c in url):
        return "it contains white space"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        return str(exc)
    if not parts.scheme or ("://" not in url and parts.scheme != "file"):
        return "no scheme such as https://"
    if parts.scheme.lower() not in schemes:
        return f"scheme {parts.scheme!r} is not one of {', '.join(s + '://' for s in schemes)}"
    if parts.scheme.lower() != "file" and not parts.hostname:
        return "no host name"
    if parts.scheme.lower() == "file" and not parts.path:
        return "no path"
    return None


#: The remote tier's variables, read by remote_config() (besides the backend's own AWS_*).
REMOTE_VARIABLES = (
    "SATCHEL_REMOTE_CACHE",
    "SATCHEL_REMOTE_CACHE_MODE",
    "SATCHEL_REMOTE_CACHE_KEY",
    "SATCHEL_REMOTE_CONNECT_TIMEOUT",
    "SATCHEL_REMOTE_READ_TIMEOUT",
    "SATCHEL_REMOTE_UPLOAD_WAIT",
    "SATCHEL_REMOTE_CACHE_USERNAME",
    "SATCHEL_REMOTE_CACHE_PASSWORD",
    "SATCHEL_REMOTE_CACHE_TOKEN",
)


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
    when no remote is configured. Bad values raise SatchelError (one line and a hint), whether
    a remote is configured or not: the mode and the times are checked whenever they are given."""
    env = os.environ if environ is None else environ
    where = "--remote-cache"
    if url is None:
        url, where = env.get("SATCHEL_REMOTE_CACHE") or None, "SATCHEL_REMOTE_CACHE"
    timed = ("SATCHEL_REMOTE_CONNECT_TIMEOUT", "SATCHEL_REMOTE_READ_TIMEOUT", "SATCHEL_REMOTE_UPLOAD_WAIT")
    if not url and mode is None and upload_wait is None and not any(
        env.get(name) for name in ("SATCHEL_REMOTE_CACHE_MODE", *timed)
    ):
        return None  # (nothing to check: satchel.cache.remote is not imported)
    from satchel.cache.remote import config as rc

    target = rc.parse_target(url, where=where) if url else None
    if mode is not None:
        parsed_mode = rc.parse_mode(mode)
    else:
        parsed_mode = rc.parse_mode(
            env.get("SATCHEL_REMOTE_CACHE_MODE") or "read", where="SATCHEL_REMOTE_CACHE_MODE"
        )
    if target is not None and parsed_mode == "read-write" and not target.writable:
        from satchel.errors import SatchelError

        raise SatchelError(
            f"{where}: {target.url} is a read-only HTTP mirror; it cannot be written",
            hint="use --remote-cache-mode read, or an s3:// or webdav+https:// URL to write",
        )

    def seconds(name: str, given: str | None, default: float, *, allow_zero: bool = False) -> float:
        # (an option given empty is a bad value; an empty variable is unset, as in parse_environ)
        text, source = (given, "--remote-upload-wait") if given is not None else (env.get(name), name)
        if text is None or (given is None and text == ""):
            return default
        return rc.parse_seconds(text, where=source, allow_zero=allow_zero)

    connect_timeout = seconds("SATCHEL_REMOTE_CONNECT_TIMEOUT", None, rc.DEFAULT_CONNECT_TIMEOUT)
    read_timeout = seconds("SATCHEL_REMOTE_READ_TIMEOUT", None, rc.DEFAULT_READ_TIMEOUT)
    upload_wait_seconds = seconds(
        "SATCHEL_REMOTE_UPLOAD_WAIT", upload_wait, rc.DEFAULT_UPLOAD_WAIT, allow_zero=True
    )
    if target is None:
        return None
    key_text = env.get("SATCHEL_REMOTE_CACHE_KEY") or None
    passed = ("AWS_", "SATCHEL_REMOTE_CACHE_USERNAME", "SATCHEL_REMOTE_CACHE_PASSWORD",
              "SATCHEL_REMOTE_CACHE_TOKEN")
    return rc.RemoteConfig(
        target=target,
        mode=parsed_mode,
        key=key_text.encode() if key_text else None,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        upload_wait=upload_wait_seconds,
        environ=tuple(sorted((k, v) for k, v in env.items() if k.startswith(passed))),
    )
