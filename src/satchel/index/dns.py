"""Looking up host names once per run, not once per connection.

urllib3 opens a new connection for every worker that needs one, and each new connection looks
its host up again (``getaddrinfo``): one run would make a burst of identical DNS queries, ten or
more at once. Resolvers that rate-limit or drop bursts (container and cluster DNS often do)
answer some of them only after the system's retry timeout, five seconds, and every connection
waiting on one of those stalls the run. :class:`AddressCache` makes it one lookup per host and
port in a run: the first connection looks it up, the others wait for that answer, and every
later connection reuses it. A lookup that fails is not kept (the next connection tries again).

:func:`connection_classes` gives urllib3 connection classes that take their addresses from a
cache: each address of the answer is tried in turn, as ``socket.create_connection`` would, and
everything else (TLS with the host's name, proxies, errors) is urllib3's own.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("satchel.http")

#: ``getaddrinfo``'s answer: (family, type, proto, canonname, sockaddr) per address.
AddrInfo = list[tuple[Any, ...]]

#: A lookup that took this long is worth a warning: the resolver, not the index, is slow.
SLOW_LOOKUP = 2.0


def system_lookup(host: str, port: int) -> AddrInfo:
    """The system's answer for ``host``:``port`` (TCP), as urllib3 would ask for it."""
    from urllib3.util.connection import allowed_gai_family

    return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)


class _Lookup:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: AddrInfo = []
        self.error: Exception | None = None


class AddressCache:
    """Host names looked up at most once at a time, and kept for the life of the cache (one
    run). Thread-safe. ``lookup`` is the resolver (the system's, unless a test gives another)."""

    def __init__(self, lookup: Callable[[str, int], AddrInfo] = system_lookup) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int], _Lookup] = {}

    def addresses(self, host: str, port: int) -> AddrInfo:
        """The addresses of ``host``:``port``: looked up by the first caller, waited for by the
        others. Raises the lookup's error (``socket.gaierror``, say), which is not kept."""
        key = (host, port)
        with self._lock:
            entry = self._entries.get(key)
            mine = entry is None
            if entry is None:
                entry = self._entries[key] = _Lookup()
        if mine:
            started = time.monotonic()
            try:
                entry.answer = self._lookup(host, port)
            except Exception as exc:  # (socket.gaierror; UnicodeError for a name IDNA refuses)
                entry.error = exc
                with self._lock:
                    del self._entries[key]
            finally:
                entry.done.set()
            took = time.monotonic() - started
            if took >= SLOW_LOOKUP:
                log.warning("looking up %s took %.1f s: the DNS resolver is slow", host, took)
            else:
                log.debug("looked up %s in %.0f ms", host, took * 1000)
        else:
            entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.answer


def use_cache(manager: Any, cache: AddressCache) -> None:
    """Make the urllib3 pool manager ``manager`` (direct or proxy) connect through ``cache``."""
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    plain, tls = connection_classes(cache)
    manager.pool_classes_by_scheme = {
        "http": type("CachedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type("CachedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": tls}),
    }


def connection_classes(cache: AddressCache) -> tuple[type[Any], type[Any]]:
    """urllib3 HTTP and HTTPS connection classes whose new sockets connect to the addresses
    ``cache`` has for their host (for a proxy: the proxy's host)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    def new_conn(self: Any, base: Any) -> socket.socket:
        name = self._dns_host
        try:
            answer = cache.addresses(name, self.port)
        except Exception:
            return base._new_conn(self)  # (urllib3 looks it up again, and says why it failed)
        last: Exception | None = None
        for *_, sockaddr in answer:
            # urllib3 connects to ``_dns_host``: an address needs no lookup. The name is put
            # back at once: TLS checks the certificate against it, and messages show it.
            self._dns_host = sockaddr[0]
            try:
                return base._new_conn(self)
            except (OSError, NewConnectionError, ConnectTimeoutError) as exc:
                last = exc
            finally:
                self._dns_host = name
        if last is None:
            return base._new_conn(self)
        raise last

    class CachedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn(self, HTTPConnection)

    class CachedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn(self, HTTPSConnection)

    return CachedHTTPConnection, CachedHTTPSConnection
