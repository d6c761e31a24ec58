"""``--find-links``: files of a project from a local directory or an HTML page of links."""

from __future__ import annotations

import errno
import logging
import os
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from satchel.errors import IndexError_, OfflineError
from satchel.index.models import IndexFile
from satchel.index.simple import matches_project, parse_html
from satchel.standards.digests import file_digest

if TYPE_CHECKING:
    from satchel.index.http import HttpClient

log = logging.getLogger("satchel.index")


def find_links_files(location: str, project: str, http: HttpClient | None) -> list[IndexFile]:
    """Files of ``project`` found at a find-links ``location``.

    ``location`` is a local directory or HTML file (a path or ``file://`` URL) or an http(s) URL of
    an HTML page that may list files of many projects. Files of a local directory get their sha256
    computed here (only those of ``project``). A local location that does not exist is skipped
    with a warning, as pip does. ``http`` may be None (offline) for local locations only.
    """
    path = _local_path(location)
    if path is None:
        if http is None:
            raise OfflineError(f"find-links page {location} needs the network but --offline was given")
        return _from_page(location, project, http)
    try:
        if path.is_dir():
            return _from_directory(path, project)
        if path.is_file():
            page_url = path.resolve().as_uri()
            return parse_html(path.read_bytes(), page_url, project)
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:  # (a name no file can have: missing, as below)
            raise IndexError_(f"cannot read find-links location {location}: {exc.strerror or exc}") from None
    log.warning("find-links location %s does not exist; ignoring it", location)
    return []


def _local_path(location: str) -> Path | None:
    if location.startswith("file:"):
        parts = urllib.parse.urlsplit(location)
        if parts.netloc not in ("", "localhost"):
            raise IndexError_(f"find-links location {location} is not a local path")
        from satchel.index.fileurl import url2pathname

        return Path(url2pathname(parts.path))
    scheme = urllib.parse.urlsplit(location).scheme
    if scheme in ("http", "https"):
        return None
    if scheme and len(scheme) > 1:  # a one-letter "scheme" is a Windows drive
        raise IndexError_(
            f"find-links location {location} has an unsupported scheme",
            hint="use a directory, a file:// URL or an http(s):// URL",
        )
    return Path(location).expanduser()


def _from_directory(directory: Path, project: str) -> list[IndexFile]:
    matches = matches_project(project)
    out = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as e:
        raise IndexError_(f"cannot list find-links directory {directory}: {e.strerror or e}") from None
    for entry in entries:
        if not matches(entry.name) or not entry.is_file():
            continue
        path = Path(entry.path).resolve()
        try:
            digest, size = file_digest(path)
        except OSError as e:
            log.warning("cannot read %s: %s; skipping it", path, e.strerror or e)
            continue
        out.append(
            IndexFile(filename=entry.name, url=path.as_uri(), hashes={"sha256": digest}, size=size)
        )
    return out




def _from_page(url: str, project: str, http: HttpClient) -> list[IndexFile]:
    resp = http.get(url, headers={"Accept": "text/html"})
    if resp.status != 200:
        raise IndexError_(f"find-links page {resp.url} answered HTTP {resp.status}")
    return parse_html(resp.body, resp.url, canonicalize_name(project))
