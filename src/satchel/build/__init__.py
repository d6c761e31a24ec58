"""Isolated PEP 517 builds with an exact built-wheel cache.

Public API (see builder.py for the details)::

    from satchel.build import BuildRequest, Source, source_from_url, build_wheel, prepare_metadata

    source = Source.sdist(path, name="foo", sha256=digest)        # or Source.directory(path)
    source = source_from_url("git+https://host/repo.git@v1", cache=cache)
    request = BuildRequest(source, interpreter, cache, install_requirements=installer)
    wheel = build_wheel(request)
    meta = prepare_metadata(request)
"""

from satchel.build.backend import BackendError
from satchel.build.builder import build_wheel, prepare_metadata
from satchel.build.cache import BuiltWheel
from satchel.build.env import InstallRequirements
from satchel.build.request import BuildRequest
from satchel.build.source import Source, source_from_url

__all__ = [
    "BackendError",
    "BuildRequest",
    "BuiltWheel",
    "InstallRequirements",
    "Source",
    "build_wheel",
    "prepare_metadata",
    "source_from_url",
]
