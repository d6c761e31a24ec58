"""What the index offers for installed packages: the index client of a command that only asks
(`list --outdated`, `tree --outdated`, `index versions`) and the newest usable version of a
project, chosen as pip's ``list --outdated`` chooses it."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache.store import Cache
from satchel.index.client import IndexClient, IndexOptions
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings


@dataclass(frozen=True)
class Latest:
    """The newest usable version of a project and the kind of file it would come from."""

    version: Version
    filetype: str  # "wheel" | "sdist"


def index_options(
    args: argparse.Namespace,
    settings: Settings,
    *,
    index_url: str | None = None,
    extra_index_urls: Iterable[str] = (),
    find_links: Iterable[str] = (),
    no_index: bool = False,
    exclude_newer: datetime | None = None,
) -> IndexOptions:
    """The index options of a command taking the index flags (``_add_index`` in the CLI); the
    keyword arguments add what requirement files said (command line first)."""
    from satchel.commands.request import IndexChoice
    from satchel.index.config import load_index_config

    IndexChoice.from_args(args)  # each URL checked up front, as for install
    links = [*getattr(args, "find_links", []), *find_links]
    if getattr(args, "no_index", False) or no_index:
        indexes: list[str] = []
    else:
        given_url = getattr(args, "index_url", None) or index_url
        config = load_index_config(index_url=given_url, env_index_url=settings.index_url)
        extras = [*getattr(args, "extra_index_url", []), *extra_index_urls]
        if not extras and not given_url:
            extras = list(config.extra_index_urls)
        if not links and not getattr(args, "index_url", None):
            links = list(config.find_links)
        indexes = [config.index_url, *[u for u in extras if u != config.index_url]]
    return IndexOptions(
        index_urls=indexes,
        find_links=links,
        offline=settings.offline,
        ttl=settings.index_ttl,
        refresh=settings.must_refresh,
        timeout=settings.timeout,
        exclude_newer=exclude_newer,
    )


def index_client(args: argparse.Namespace, settings: Settings, cache: Cache) -> IndexClient:
    from satchel.commands.timeflags import exclude_newer_of

    return IndexClient(cache, index_options(args, settings, exclude_newer=exclude_newer_of(args)))


def latest_versions(
    client: IndexClient, interpreter: Interpreter, names: Iterable[str], *, pre: bool = False
) -> dict[str, Latest]:
    """The newest version of each project (normalized names) that the interpreter could install
    from the index: a compatible wheel or an sdist, Requires-Python admitting it, not yanked,
    and no pre-release unless ``pre``. Projects the index does not have are left out."""
    from satchel.resolve.candidates import FileParser, FilePolicy, select_files

    wanted = [str(canonicalize_name(n)) for n in names]
    for name in wanted:
        client.prefetch(name)
    ranks = {tag: i for i, tag in enumerate(interpreter.tags)}
    policy = FilePolicy(tag_ranks=ranks, python_version=Version(interpreter.version_str))
    parser = FileParser(ranks, policy.python_version)
    out: dict[str, Latest] = {}
    for name in wanted:
        project = select_files(name, client.find_files(name), policy, parser)
        for i, version in enumerate(project.versions):
            if version.is_prerelease and not pre:
                continue
            file = project.entry(i).file
            if file is not None:
                out[name] = Latest(version, "wheel" if file.is_wheel else "sdist")
                break
    return out
