"""Resolving through the cache's remembered resolutions (:mod:`satchel.resolve.remembered`).

One :class:`ResolutionMemory` per command run: :meth:`~ResolutionMemory.resolve` answers from a
remembered resolution when it still holds, else resolves with the cache's journal open;
:meth:`~ResolutionMemory.close`, called after the index client is closed (so the page records it
held back are written and noted), stores the new resolution with the records it read.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence

from satchel.cache.journal import Journal
from satchel.cache.store import Cache
from satchel.index.client import IndexClient
from satchel.index.options import IndexOptions
from satchel.install.installed import InstalledDist
from satchel.python.interpreter import Interpreter
from satchel.resolve import Finder, Resolution, ResolveOptions, RootRequirement
from satchel.resolve.remembered import ResolutionInputs, recall, remember

log = logging.getLogger("satchel")


class ResolutionMemory:
    """``installed``: the target's distributions (those ``options.installed`` names are
    offered to the resolver, so their metadata is part of the question)."""

    def __init__(
        self,
        cache: Cache,
        client: IndexClient,
        index: IndexOptions,
        *,
        installed: Mapping[str, InstalledDist] | None = None,
    ) -> None:
        self.cache = cache
        self.client = client
        self.index = index
        self.installed = installed or {}
        self.remembered = False  # the last resolve() answered from the cache
        # The last resolve() depended on nothing but its inputs and records (it was remembered,
        # or has been stored by close()), and when the index pages it used stop being fresh.
        self.repeatable = False
        self.expires_at: float | None = None
        self._journal: Journal | None = None
        self._pending: tuple[ResolutionInputs, Resolution] | None = None

    def resolve(
        self,
        roots: Sequence[RootRequirement],
        *,
        finder: Finder,
        interpreter: Interpreter,
        constraints: Sequence[RootRequirement] = (),
        options: ResolveOptions,
    ) -> Resolution:
        inputs = ResolutionInputs(
            roots=roots,
            constraints=constraints,
            options=options,
            interpreter=interpreter,
            index=self._index(),
            installed=self._installed(options),
        )
        self.remembered = self.repeatable = False
        self.expires_at = None
        if not inputs.rememberable or self._journal is not None:
            from satchel.resolve import resolve  # (imported when it resolves: see satchel.resolve)

            return resolve(roots, finder=finder, interpreter=interpreter, constraints=constraints, options=options)
        found = recall(
            self.cache, inputs, offline=self.index.offline, refresh=self.index.refresh, now=time.time()
        )
        if found is not None:
            log.debug("resolution: remembered from the cache (every index page it read is unchanged)")
            self.remembered = self.repeatable = True
            self.expires_at = found[1]
            return found[0]
        self._journal = self.cache.start_journal()
        from satchel.resolve import resolve

        resolution = resolve(roots, finder=finder, interpreter=interpreter, constraints=constraints, options=options)
        self._pending = (inputs, resolution)
        return resolution

    def close(self) -> None:
        """Store the resolution made (if any) with the records it read. Call after the index
        client's ``close``. Never raises for a cache problem (a write failure is a warning)."""
        journal, self._journal = self._journal, None
        if journal is None:
            return
        noted = journal.close()
        pending, self._pending = self._pending, None
        if pending is not None:
            inputs, resolution = pending
            freshness = self.client.page_freshness()
            self.repeatable = remember(self.cache, inputs, resolution, noted, freshness)
            self.expires_at = min((f.expires_at for f in freshness.values()), default=None)

    def _index(self) -> dict[str, object]:
        cutoff = self.index.exclude_newer
        return {
            "index_urls": list(self.index.index_urls),
            "find_links": list(self.index.find_links),
            "exclude_newer": cutoff.isoformat() if cutoff is not None else None,
        }

    def _installed(self, options: ResolveOptions) -> list[list[str]]:
        out = []
        for name in sorted(options.installed):
            dist = self.installed.get(name)
            if dist is None:
                out.append([name, str(options.installed[name])])
                continue
            out.append([
                dist.name,
                dist.version,
                json.dumps(list(dist.requires_dist)),
                dist.requires_python or "",
                json.dumps(list(dist.provides_extra)),
            ])
        return out
