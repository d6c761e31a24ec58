"""Credentials: a URL's userinfo (remembered per host:port) and ``~/.netrc`` (or ``$NETRC``).

``Credentials`` is what ``HttpClient`` asks for the Basic auth of each request: the userinfo last
seen in a URL for that host:port, else the netrc entry of the host (the file read once).
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.parse
from base64 import b64encode
from collections.abc import Mapping
from typing import TYPE_CHECKING

from satchel.standards.redact import redact

if TYPE_CHECKING:
    import netrc

log = logging.getLogger("satchel.http")


def redact_url(url: str) -> str:
    """``url`` as shown to people: :func:`satchel.standards.redact.redact` (``user:****@``)."""
    return redact(url)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split ``url`` into the URL without userinfo and its (user, password), percent-decoded."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


class Credentials:
    """Thread-safe: the credentials of each host, from URLs and netrc."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._lock = threading.Lock()
        self._credentials: dict[str, tuple[str, str]] = {}  # netloc -> (user, password)
        self._netrc_cache: dict[str, tuple[str, str] | None] = {}
        self._netrc: netrc.netrc | bool | None = False  # False = not loaded yet

    def remember(self, url: str) -> str:
        """``url`` without its userinfo, which (if any) is remembered for its host:port."""
        clean, creds = split_credentials(url)
        if creds is not None:
            netloc = urllib.parse.urlsplit(clean).netloc.lower()
            with self._lock:
                self._credentials[netloc] = creds
        return clean

    def authorization(self, url: str) -> str | None:
        """The ``Authorization`` header value for ``url`` (Basic), None without credentials."""
        creds = self.for_url(url)
        if creds is None:
            return None
        token = b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")
        return f"Basic {token}"

    def for_url(self, url: str) -> tuple[str, str] | None:
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
