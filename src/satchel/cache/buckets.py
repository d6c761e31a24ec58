"""Every cache bucket and its format version, in one place.

A bucket's directory name carries its version (``index-v1``). Changing any record stored in a
bucket, or the layout of its files, means bumping that bucket's version here; the schema test
(tests/unit/test_cache_schema.py) fails until you do. Buckets of other versions are never read or
written by normal runs: an older or newer satchel may share the cache. Only ``cache prune``
removes them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    """One kind of cache entry: its directory is ``<name>-v<version>``."""
    name: str
    version: int
    description: str
    # Costly to rebuild: kept by `cache prune --ci`.
    costly: bool = False
    # Entries live under "<bucket>/<normalized project name>/...".
    per_package: bool = True

    @property
    def dirname(self) -> str:
        return f"{self.name}-v{self.version}"


INDEX = Bucket("index", 2, "parsed index pages (simple API), with HTTP freshness")
METADATA = Bucket("metadata", 1, "core metadata of distribution files")
FILES = Bucket("files", 1, "downloaded wheels and sdists, addressed by sha256")
ARCHIVES = Bucket("archives", 1, "unpacked wheels, addressed by the wheel's sha256, with manifests")
BUILT = Bucket("built", 1, "wheels built from sources, keyed by source and interpreter", costly=True)
INTERPRETERS = Bucket(
    "interpreters", 2, "introspected interpreters, keyed by path and file identity", per_package=False
)

RESOLUTIONS = Bucket(
    "resolutions",
    3,
    "remembered resolutions, keyed by everything they depend on",
    per_package=False,
)

REPLAYS = Bucket(
    "replays",
    1,
    "the outcome of a command run, keyed by its command line and environment, with its inputs",
    per_package=False,
)

ALL: tuple[Bucket, ...] = (INDEX, METADATA, FILES, ARCHIVES, BUILT, INTERPRETERS, RESOLUTIONS, REPLAYS)

# The remote tier's layout (``v1/`` in the bucket, docs/remote-cache.md): not a local directory,
# but its action records are versioned like a bucket's.
REMOTE = Bucket(
    "remote", 1, "the remote tier's action records (v1/ac/...)", costly=True, per_package=False
)
LAYOUTS: tuple[Bucket, ...] = (REMOTE,)

# Names of the bucket families satchel has ever used; any "<name>-v<N>" directory with another N
# belongs to another satchel version.
FAMILIES: frozenset[str] = frozenset(b.name for b in ALL)


def by_dirname(dirname: str) -> Bucket | None:
    for bucket in ALL:
        if bucket.dirname == dirname:
            return bucket
    return None
