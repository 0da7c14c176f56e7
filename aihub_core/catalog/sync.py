"""`aihub models sync`: fetch every page of the providers' model lists and store them.

Nothing is written unless every list was fetched whole; the report says what changed per service.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from aihub_core.catalog.catalog import Catalog, builtin_entries
from aihub_core.catalog.synced import (
    SyncedCatalog,
    SyncedService,
    load_catalog,
    merge,
    read_synced,
    write_synced,
)
from aihub_core.errors import UpstreamError
from aihub_core.providers.listings import ModelLister, ModelListParser, Page
from aihub_core.providers.registry import builtin_services
from aihub_core.settings import Settings


class SyncError(Exception):
    """A model list could not be fetched or read; the message names the service and the cause, and
    `__cause__` is the UpstreamError a chat call would have raised (UpstreamAuthError for a refused
    key, UpstreamTimeoutError, ...)."""


@dataclass(frozen=True)
class Source:
    """Where one built-in service's list comes from: its adapter (live or over a simulator) and the
    parser of its list format; `simulated_because` says why a simulator answers, if one does."""

    service: str
    base_url: str
    lister: ModelLister
    parse: ModelListParser
    simulated_because: str | None = None

    @property
    def simulated(self) -> bool:
        """Whether a fresh built-in simulator answers instead of the live API."""
        return self.simulated_because is not None


async def builtin_sources(
    settings: Settings, client: aiohttp.ClientSession, stack: AsyncExitStack
) -> list[Source]:
    """One source per built-in service of the provider registry: its live API, or, without a key
    (or with AIHUB_SIMULATE=1), a fresh simulator with its whole catalog, stopped when `stack` closes."""
    sources = []
    for kind, builtin in builtin_services():
        service, because = kind.name, None
        credentials = settings.credentials(service)
        if settings.simulated(service):
            _, credentials = await builtin.simulate(stack, chunk_delay_ms=0)
            because = "AIHUB_SIMULATE=1" if settings.simulate else f"no {builtin.api_key_env}"
        lister = kind.adapter(
            name=service,
            base_url=credentials.base_url,
            api_key=credentials.api_key,
            client=client,
            timeouts=settings.timeouts,
            simulated=because is not None,
        )
        sources.append(Source(service, credentials.base_url, lister, builtin.parse_models, because))
    return sources


@dataclass(frozen=True)
class ServiceReport:
    """What one service's sync changed."""

    source: Source
    listed: int
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    unpriced: tuple[str, ...]

    def lines(self) -> list[str]:
        """The summary line, then one line per skipped model and per warning."""
        origin = "built-in simulator" if self.source.simulated else self.source.base_url
        lines = [
            f"{self.source.service}: {self.listed} models from {origin}: {len(self.added)} added, "
            f"{len(self.updated)} updated, {len(self.removed)} removed, {len(self.skipped)} skipped"
        ]
        lines += [f"  skipped {model_id}: {reason}" for model_id, reason in self.skipped]
        lines += [
            f"warning: {self.source.service}: {model_id} is new and its list has no prices: it is listed "
            f'at 0 USD; pin prices in AIHUB_CONFIG [model_overrides."{self.source.service}:{model_id}"]'
            for model_id in self.unpriced
        ]
        return lines


async def sync_catalog(
    sources: Sequence[Source], path: Path, *, page_size: int | None = None
) -> list[ServiceReport]:
    """Fetch each source's whole list, write the synced file at `path`, report the changes."""
    before = load_catalog(path)
    pages = {source.service: await _fetch(source, page_size) for source in sources}
    previous = read_synced(path)
    services = dict(previous.services) if previous else {}
    for source in sources:
        services[source.service] = SyncedService(
            source.base_url, source.simulated, tuple(pages[source.service].models)
        )
    synced = SyncedCatalog(datetime.now(UTC).isoformat(timespec="seconds"), services)
    after = merge(*builtin_entries(), synced)
    write_synced(path, synced)
    builtin = {(m.service, m.id) for m in builtin_entries()[1]}
    return [_report(source, before, after, pages[source.service], builtin) for source in sources]


def _report(
    source: Source, before: Catalog, after: Catalog, listing: Page, builtin: set[tuple[str, str]]
) -> ServiceReport:
    old = {m.id: m for m in before.models(source.service)}
    new = {m.id: m for m in after.models(source.service)}
    unpriced = [
        e.id
        for e in listing.models
        if e.prompt_price is None and (source.service, e.id) not in builtin and e.id in new
    ]
    unsized = [(e.id, "new model without a context length") for e in listing.models if e.id not in new]
    return ServiceReport(
        source=source,
        listed=len(listing.models),
        added=tuple(i for i in new if i not in old),
        updated=tuple(i for i in new if i in old and new[i] != old[i]),
        removed=tuple(i for i in old if i not in new),
        skipped=tuple(listing.skipped + unsized),
        unpriced=tuple(unpriced),
    )


async def _fetch(source: Source, page_size: int | None) -> Page:
    """The whole list; an upstream's failure, translated as for a chat call, is chained as the cause."""
    try:
        return await source.lister.list_models(source.parse, page_size=page_size)
    except UpstreamError as err:
        raise SyncError(f"{source.service}: GET {source.base_url}/models failed: {err.message}") from err
