"""What the index offers for installed packages: the index client of a command that only asks
(`list --outdated`, `tree --outdated`, `index versions`) and the newest usable version of a
project, chosen as pip's ``list --outdated`` chooses it."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import Version

from satchel.cache.store import Cache
from satchel.index.client import IndexClient
from satchel.python.interpreter import Interpreter
from satchel.settings import Settings


@dataclass(frozen=True)
class Latest:
    """The newest usable version of a project and the kind of file it would come from."""

    version: Version
    filetype: str  # "wheel" | "sdist"



def index_client(args: argparse.Namespace, settings: Settings, cache: Cache) -> IndexClient:
    from satchel.commands.indexes import index_options
    from satchel.commands.request import IndexChoice
    from satchel.commands.timeflags import exclude_newer_of

    options = index_options(IndexChoice.from_args(args), settings, exclude_newer=exclude_newer_of(args))
    return IndexClient(cache, options)


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
