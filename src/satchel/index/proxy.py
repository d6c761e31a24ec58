"""Proxies: which proxy a URL goes through (``*_proxy``, ``no_proxy``) and its pool manager."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from satchel.errors import IndexError_
from satchel.index.auth import redact_url, split_credentials

if TYPE_CHECKING:
    import ipaddress


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL for ``url`` per ``environ`` (``<scheme>_proxy``, ``all_proxy``, ``no_proxy``,
    either case), None for a direct connection."""
    scheme = urllib.parse.urlsplit(url).scheme
    proxy = _env(environ, f"{scheme}_proxy") or _env(environ, "all_proxy")
    if not proxy:
        return None
    if should_bypass_proxy(url, _env(environ, "no_proxy")):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    return proxy


def proxy_manager(proxy: str, common: dict[str, Any]) -> Any:
    """A urllib3 ProxyManager for ``proxy`` (its userinfo sent as Proxy-Authorization)."""
    import urllib3

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
    return urllib3.ProxyManager(clean_proxy, proxy_headers=proxy_headers, **common)


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


def _env(environ: Mapping[str, str], name: str) -> str:
    """An environment variable, lower-case spelling first (as curl and urllib do)."""
    return environ.get(name.lower()) or environ.get(name.upper()) or ""

