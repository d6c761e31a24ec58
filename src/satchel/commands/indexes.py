"""Which indexes and find-links a command uses, and how it treats their pages, by one rule for
every command: the command line first, then the requirement files, then pip's configuration
(``--index-url`` > ``SATCHEL_INDEX_URL`` > pip's configuration > pip's default)."""

from __future__ import annotations

from collections.abc import Callable

from satchel.commands.request import IndexChoice
from satchel.index.client import IndexOptions
from satchel.requirements.models import ParsedRequirements
from satchel.settings import Settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime


def index_options(
    choice: IndexChoice,
    settings: Settings,
    parsed: ParsedRequirements | None = None,
    *,
    refresh: Callable[[str], bool] | None = None,
    exclude_newer: datetime | None = None,
    needs_index: bool = True,
) -> IndexOptions:
    """The index options of a run. ``parsed``: what requirement files said (after the command
    line). ``refresh``: which projects' pages to revalidate (default: --refresh and
    --refresh-package). With ``needs_index`` False (a lock whose files all have URLs), no index is
    used unless the command line names one."""
    from satchel.index.config import load_index_config

    file_url = parsed.index_url if parsed is not None else None
    no_index = choice.no_index or (parsed is not None and parsed.no_index)
    find_links = [*choice.find_links, *(parsed.find_links if parsed is not None else ())]
    if no_index or (not needs_index and not choice.index_url):
        indexes: list[str] = []
    else:
        config = load_index_config(
            index_url=choice.index_url or file_url, env_index_url=settings.index_url
        )
        extras = [*choice.extra_index_urls, *(parsed.extra_index_urls if parsed is not None else ())]
        if not extras and not choice.index_url and not file_url:
            extras = list(config.extra_index_urls)
        if not find_links and not choice.index_url:
            find_links = list(config.find_links)
        indexes = [config.index_url, *[u for u in extras if u != config.index_url]]
    return IndexOptions(
        index_urls=indexes,
        find_links=find_links,
        offline=settings.offline,
        ttl=settings.index_ttl,
        refresh=refresh or settings.must_refresh,
        timeout=settings.timeout,
        exclude_newer=exclude_newer,
    )
