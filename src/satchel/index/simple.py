"""Parsers for simple-repository-API pages: PEP 503 HTML and PEP 691 JSON (with PEPs 592/658/714).

Hand-written and fast (about 3x faster than ``html.parser`` merely tokenizing the same page): the
HTML scanner is a regex over ``<a>``/``<base>`` tags, not a DOM. Only entries that are wheels or
sdists of the requested project are kept, by the rules of ``packaging.utils.parse_wheel_filename``
/ ``parse_sdist_filename``.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from satchel.errors import SatchelError
from satchel.index.models import IndexFile
from satchel.standards.digests import is_hex_digest

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
ACCEPT_HEADER = f"{JSON_V1}, {HTML_V1};q=0.2, text/html;q=0.01"

_JSON_TYPES = frozenset({JSON_V1, "application/vnd.pypi.simple.latest+json", "application/json"})
SDIST_EXTENSIONS = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tbz", ".txz", ".tar")
# Hash names accepted in URL fragments and JSON "hashes" (hashlib's guaranteed algorithms).
HASH_NAMES = frozenset(
    {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s",
     "sha3_224", "sha3_256", "sha3_384", "sha3_512"}
)  # fmt: skip

_TAG_RE = re.compile(r"<(a|base)\s([^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*)>", re.IGNORECASE)
_ATTR_RE = re.compile(r"([^\s\"'>/=]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)


class PageParseError(SatchelError):
    """An index page could not be parsed (invalid JSON, unsupported API version...)."""


def parse_page(body: bytes, content_type: str, page_url: str, project: str) -> list[IndexFile]:
    """Parse a project page, choosing the format from Content-Type (servers often ignore Accept).

    A body that starts with ``{`` is JSON and one that starts with ``<`` is HTML whatever the
    header says; otherwise the header decides; otherwise HTML.
    """
    first = body.lstrip()[:1]
    media = content_type.split(";", 1)[0].strip().lower()
    if first == b"{" or (first != b"<" and media in _JSON_TYPES):
        return parse_json(body, page_url, project)
    return parse_html(body, page_url, project, charset=_charset(content_type))


# -- HTML (PEP 503) ------------------------------------------------------------------------------


def parse_html(
    body: bytes, page_url: str, project: str, *, charset: str | None = None
) -> list[IndexFile]:
    """Files of ``project`` linked from a PEP 503 page.

    Relative hrefs are resolved against ``<base href>`` or ``page_url``; ``#<hash>=<hex>``
    fragments become ``hashes``; ``data-requires-python``, ``data-yanked`` and
    ``data-core-metadata`` / ``data-dist-info-metadata`` are read.
    """
    text = _decode(body, charset)
    if "<!--" in text:
        text = _COMMENT_RE.sub("", text)
    matches = _ProjectMatcher(canonicalize_name(project))
    join = _Joiner(page_url)
    unescaped: dict[str, str] = {}
    out: list[IndexFile] = []
    append = out.append
    for tag, raw in _TAG_RE.findall(text):
        attrs = _attrs(raw, unescaped)
        href = attrs.get("href")
        if tag != "a" and tag != "A" and tag.lower() == "base":
            if href:
                join = _Joiner(urllib.parse.urljoin(page_url, href))
            continue
        if not href:
            continue
        url, fragment = join(href)
        filename = _filename(url)
        if not matches(filename):
            continue
        hashes: dict[str, str] = {}
        if fragment:
            name, sep, value = fragment.partition("=")
            if sep and value:
                name = name.lower()
                if name in HASH_NAMES:
                    hashes[name] = value.lower()
        _check_digests(hashes, page_url, filename)
        requires_python = attrs.get("data-requires-python")
        if requires_python is not None:
            requires_python = requires_python.strip() or None
        meta = attrs.get("data-core-metadata")
        if meta is None:
            meta = attrs.get("data-dist-info-metadata")
        meta_hashes = None if meta is None else _html_metadata(meta)
        append(IndexFile(filename, url, hashes, requires_python, attrs.get("data-yanked"), meta_hashes))
    return out


def _attrs(raw: str, unescaped: dict[str, str]) -> dict[str, str]:
    """Attribute name (lower-case) -> HTML-unescaped value ("" for a bare attribute).

    ``unescaped`` memoizes ``html.unescape`` across a page (values like ``&gt;=3.8`` repeat).
    """
    out: dict[str, str] = {}
    if "'" not in raw:
        # Fast path for the usual shape, name="value" name="value": split on the quotes.
        parts = raw.split('"')
        tail = parts[-1]
        if len(parts) & 1 and (not tail or tail.isspace() or tail.strip() == "/"):
            for name, value in zip(parts[0:-1:2], parts[1::2], strict=False):
                name = name.strip()
                if name[-1:] != "=":
                    break
                name = name[:-1].rstrip().lower()
                if not name or " " in name or "=" in name or "\n" in name or "\t" in name:
                    break
                if "&" in value:
                    value = unescaped.get(value) or unescaped.setdefault(value, html.unescape(value))
                if name not in out:
                    out[name] = value
            else:
                return out
            out.clear()
    for m in _ATTR_RE.finditer(raw):
        name = m.group(1).lower()
        if name in out:
            continue  # first occurrence wins, as in browsers
        value = m.group(2)
        if value is None:
            value = m.group(3)
            if value is None:
                value = m.group(4) or ""
        if "&" in value:
            value = html.unescape(value)
        out[name] = value
    return out


def _html_metadata(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return {}
    name, sep, digest = value.partition("=")
    if sep and name.lower() in HASH_NAMES and digest:
        return {name.lower(): digest.lower()}
    return None  # "false" or garbage: no usable metadata file


def _decode(body: bytes, charset: str | None) -> str:
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except LookupError:
            pass
    return body.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str | None:
    m = re.search(r";\s*charset\s*=\s*\"?([\w.:-]+)", content_type, re.IGNORECASE)
    return m.group(1) if m else None


class _Joiner:
    """Resolve hrefs against a base URL, fast for the common shapes (absolute, same-directory).

    Returns (absolute URL without fragment, fragment).
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self._dirs: dict[str, str] = {}

    def __call__(self, href: str) -> tuple[str, str]:
        href = href.strip()
        url, _, fragment = href.partition("#")
        if url.startswith(("https://", "http://")):
            return url, fragment
        if url.startswith("file:") or not url or "?" in url or ";" in url or "\\" in url:
            return urllib.parse.urljoin(self.base, url), fragment
        head, sep, last = url.rpartition("/")
        if last in (".", "..") or (not sep and ":" in last):
            return urllib.parse.urljoin(self.base, url), fragment
        key = head + sep
        prefix = self._dirs.get(key)
        if prefix is None:
            prefix = urllib.parse.urljoin(self.base, key or "./")
            if not prefix.endswith("/"):  # pragma: no cover - defensive
                return urllib.parse.urljoin(self.base, url), fragment
            self._dirs[key] = prefix
        return prefix + last, fragment


def _filename(url: str) -> str:
    if "?" in url:
        url = urllib.parse.urlsplit(url).path
    name = url.rpartition("/")[2]
    return urllib.parse.unquote(name) if "%" in name else name


_SIMPLE_VERSION = re.compile(r"\d+(?:\.\d+)*")
_WHEEL_NAME = re.compile(r"[\w\d._]*", re.UNICODE)  # as packaging.utils.parse_wheel_filename
_BUILD_TAG = re.compile(r"\d", re.ASCII)


class _ProjectMatcher:
    """Whether a filename is a wheel or sdist of one project.

    Applies exactly the rules of ``packaging.utils.parse_wheel_filename`` and
    ``parse_sdist_filename`` (part count, name characters, PEP 440 version, numeric build tag),
    without building their result objects, and memoizes name and version checks per page: this is
    most of the cost of parsing a big page. tests/unit/test_index_simple.py checks it agrees with
    packaging on awkward filenames.
    """

    def __init__(self, project: str) -> None:
        self.project = project
        self._wheel_names: dict[str, bool] = {}
        self._sdist_names: dict[str, bool] = {}
        self._versions: dict[str, bool] = {}

    def _check_name(self, part: str, wheel: bool) -> bool:
        if wheel and ("__" in part or _WHEEL_NAME.fullmatch(part) is None):
            ok = False
        else:
            ok = canonicalize_name(part) == self.project
        (self._wheel_names if wheel else self._sdist_names)[part] = ok
        return ok

    def _check_version(self, text: str) -> bool:
        if _SIMPLE_VERSION.fullmatch(text):
            ok = True
        else:
            try:
                Version(text)
                ok = True
            except InvalidVersion:
                ok = False
        self._versions[text] = ok
        return ok

    def __call__(self, filename: str) -> bool:
        if filename[-4:] == ".whl":
            parts = filename[:-4].split("-")
            n = len(parts)
            if n != 5 and n != 6:
                return False
            ok = self._wheel_names.get(parts[0])
            if ok is None:
                ok = self._check_name(parts[0], True)
            if not ok:
                return False
            ok = self._versions.get(parts[1])
            if ok is None:
                ok = self._check_version(parts[1])
            return ok and (n == 5 or _BUILD_TAG.match(parts[2]) is not None)
        stem = filename[:-7] if filename[-7:] == ".tar.gz" else _sdist_stem(filename)
        if stem is None:
            return False
        name, sep, version = stem.rpartition("-")
        if not sep:
            return False
        ok = self._sdist_names.get(name)
        if ok is None:
            ok = self._check_name(name, False)
        if not ok:
            return False
        ok = self._versions.get(version)
        if ok is None:
            ok = self._check_version(version)
        return ok


def _sdist_stem(filename: str) -> str | None:
    if filename.endswith(".tar.gz"):  # fast path
        return filename[:-7]
    lower = filename.lower()
    for ext in SDIST_EXTENSIONS:
        if lower.endswith(ext):
            return filename[: -len(ext)]
    return None


def split_sdist_filename(filename: str) -> tuple[str, str] | None:
    """(canonical project name, version text) of an sdist filename, or None if it is not one.

    Legacy extensions (.tar.bz2, .tgz, ...) follow the same name-version rule as .tar.gz.
    """
    stem = _sdist_stem(filename)
    if stem is None:
        return None
    try:
        name = parse_sdist_filename(stem + ".tar.gz")[0]
    except InvalidSdistFilename:
        return None
    return name, stem.rpartition("-")[2]


def sdist_project(filename: str) -> str | None:
    """The canonical project name of an sdist filename, or None if it is not a valid one."""
    parsed = split_sdist_filename(filename)
    return parsed[0] if parsed else None


def file_project(filename: str) -> str | None:
    """The canonical project name of a wheel or sdist filename, or None if it is neither."""
    if filename.endswith(".whl"):
        try:
            return parse_wheel_filename(filename)[0]
        except InvalidWheelFilename:
            return None
    return sdist_project(filename)


# -- JSON (PEP 691) ------------------------------------------------------------------------------


def parse_json(body: bytes, page_url: str, project: str) -> list[IndexFile]:
    """Files of ``project`` from a PEP 691 v1 JSON page (api-version 1.x)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise PageParseError(
            f"invalid JSON index page from {page_url}: {_json_reason(e)}",
            hint="the index or a proxy sent a broken page; try again",
        ) from None
    if not isinstance(data, dict):
        raise PageParseError(f"invalid JSON index page from {page_url}: not an object")
    meta = data.get("meta")
    version = meta.get("api-version") if isinstance(meta, dict) else None
    if not isinstance(version, str):
        raise PageParseError(f"invalid JSON index page from {page_url}: no meta.api-version")
    if version.split(".", 1)[0].strip() != "1":
        raise PageParseError(
            f"{page_url} uses simple API version {version}; satchel supports 1.x",
            hint="use an index that serves the v1 simple API (HTML or JSON)",
        )
    files = data.get("files")
    if not isinstance(files, list):
        raise PageParseError(f"invalid JSON index page from {page_url}: no files list")
    matcher = _ProjectMatcher(canonicalize_name(project))
    join = _Joiner(page_url)
    out: list[IndexFile] = []
    for entry in files:
        if not isinstance(entry, dict):
            continue
        filename = entry.get("filename")
        href = entry.get("url")
        if not isinstance(filename, str) or not isinstance(href, str) or not matcher(filename):
            continue
        url, _ = join(href)
        raw_hashes = entry.get("hashes")
        hashes = _json_hashes(raw_hashes) if isinstance(raw_hashes, dict) else {}
        _check_digests(hashes, page_url, filename)
        rp = entry.get("requires-python")
        meta_value = entry.get("core-metadata", entry.get("dist-info-metadata"))
        size = entry.get("size")
        upload_time = entry.get("upload-time")
        out.append(
            IndexFile(
                filename=filename,
                url=url,
                hashes=hashes,
                requires_python=(rp.strip() or None) if isinstance(rp, str) else None,
                yanked=_json_yanked(entry.get("yanked")),
                metadata_hashes=_json_metadata(meta_value),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                upload_time=upload_time if isinstance(upload_time, str) else None,
            )
        )
    return out


def _json_hashes(raw: Mapping[str, Any]) -> dict[str, str]:
    return {
        k.lower(): v.lower()
        for k, v in raw.items()
        if isinstance(k, str) and isinstance(v, str) and k.lower() in HASH_NAMES and v
    }


def _check_digests(hashes: Mapping[str, str], page_url: str, filename: str) -> None:
    """A sha256 that is not 64 hex digits cannot name any file (the cache keys files by it, and
    downloads are verified against it): the page is broken or hostile."""
    value = hashes.get("sha256")
    if value is not None and not is_hex_digest("sha256", value):
        raise PageParseError(
            f"invalid index page from {page_url}: {filename} has a malformed sha256 digest {value!r}",
            hint="the index or a proxy sent a broken page",
        )


def _json_yanked(value: object) -> str | None:
    if value is True:
        return ""
    if isinstance(value, str):
        return value
    return None


def _json_metadata(value: object) -> dict[str, str] | None:
    if value is True:
        return {}
    if isinstance(value, dict):
        return _json_hashes(value)
    return None


def _json_reason(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"{e.msg} at byte {e.pos} (truncated?)" if e.pos >= len(e.doc) - 1 else e.msg
    return str(e)


# Exposed for find-links and tests: does a filename belong to a project?
def matches_project(project: str) -> Callable[[str], bool]:
    """A predicate: is a filename a valid wheel or sdist of ``project``?"""
    return _ProjectMatcher(canonicalize_name(project))
