"""`aihub models sync`: fetch every page of the providers' model lists and store them.

Nothing is written unless every list was fetched whole; the report says what changed per service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aihub_core.catalog.catalog import Catalog, builtin_entries
from aihub_core.catalog.listings import Listed, ListingError, Page, gemini_page, openrouter_page
from aihub_core.catalog.synced import (
    SyncedCatalog,
    SyncedService,
    load_catalog,
    merge,
    read_synced,
    write_synced,
)

MAX_PAGES = 1000  # a cursor that never ends is a broken upstream, not a big catalog


class SyncError(Exception):
    """A model list could not be fetched or read; the message names the service and the cause."""


@dataclass(frozen=True)
class Source:
    """Where one built-in service's list comes from."""

    service: str
    base_url: str
    api_key: str
    simulated: bool


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
    sources: Sequence[Source], client: httpx.AsyncClient, path: Path, *, page_size: int | None = None
) -> list[ServiceReport]:
    """Fetch each source's whole list, write the synced file at `path`, report the changes."""
    before = load_catalog(path)
    pages: dict[str, tuple[list[Listed], list[tuple[str, str]]]] = {}
    for source in sources:
        pages[source.service] = await _fetch(client, source, page_size)
    previous = read_synced(path)
    services = dict(previous.services) if previous else {}
    for source in sources:
        services[source.service] = SyncedService(
            source.base_url, source.simulated, tuple(pages[source.service][0])
        )
    synced = SyncedCatalog(datetime.now(UTC).isoformat(timespec="seconds"), services)
    after = merge(*builtin_entries(), synced)
    write_synced(path, synced)
    builtin = {(m.service, m.id) for m in builtin_entries()[1]}
    return [_report(source, before, after, *pages[source.service], builtin) for source in sources]


def _report(
    source: Source,
    before: Catalog,
    after: Catalog,
    listed: list[Listed],
    skipped: list[tuple[str, str]],
    builtin: set[tuple[str, str]],
) -> ServiceReport:
    old = {m.id: m for m in before.models(source.service)}
    new = {m.id: m for m in after.models(source.service)}
    unpriced = [
        e.id
        for e in listed
        if e.prompt_price is None and (source.service, e.id) not in builtin and e.id in new
    ]
    unsized = [(e.id, "new model without a context length") for e in listed if e.id not in new]
    return ServiceReport(
        source=source,
        listed=len(listed),
        added=tuple(i for i in new if i not in old),
        updated=tuple(i for i in new if i in old and new[i] != old[i]),
        removed=tuple(i for i in old if i not in new),
        skipped=tuple(skipped + unsized),
        unpriced=tuple(unpriced),
    )


async def _fetch(
    client: httpx.AsyncClient, source: Source, page_size: int | None
) -> tuple[list[Listed], list[tuple[str, str]]]:
    if source.service == "gemini":
        headers = {"x-goog-api-key": source.api_key}
        parse = gemini_page
    else:
        headers = {"Authorization": f"Bearer {source.api_key}"}
        parse = openrouter_page
    url = httpx.URL(f"{source.base_url}/models")
    token: str | None = None
    listed: list[Listed] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {}
        if source.service == "gemini":
            params = {k: v for k, v in (("pageSize", page_size), ("pageToken", token)) if v}
        page = _parse(source, parse, await _get(client, source, url, params, headers))
        listed += page.models
        skipped += page.skipped
        if page.next is None:
            return listed, skipped
        if page.next in seen:
            raise SyncError(f"{source.service}: the model list repeats the page cursor {page.next!r}")
        seen.add(page.next)
        if source.service == "gemini":
            token = page.next
        else:
            url = _same_origin(source, url, page.next)
    raise SyncError(f"{source.service}: the model list has more than {MAX_PAGES} pages")


def _same_origin(source: Source, url: httpx.URL, following: str) -> httpx.URL:
    """OpenRouter's `links.next`; our key goes to the same origin only."""
    target = url.join(following)
    if (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port):
        raise SyncError(f"{source.service}: the model list points to another origin: {target}")
    return target


def _parse(source: Source, parse: Callable[[object], Page], body: object) -> Page:
    try:
        page = parse(body)
    except ListingError as err:
        raise SyncError(f"{source.service}: unexpected model list: {err}") from None
    return page


async def _get(
    client: httpx.AsyncClient, source: Source, url: httpx.URL, params: dict[str, Any], headers: dict[str, str]
) -> object:
    def scrub(text: str) -> str:
        return text.replace(source.api_key, "***")[:300]

    try:
        response = await client.get(url, params=params, headers=headers)
    except httpx.HTTPError as err:
        raise SyncError(scrub(f"{source.service}: GET {url} failed: {type(err).__name__} {err}")) from None
    if response.status_code != 200:
        raise SyncError(
            scrub(f"{source.service}: GET {url} answered {response.status_code}: {response.text.strip()}")
        )
    try:
        return response.json()
    except ValueError:
        raise SyncError(f"{source.service}: GET {url} did not answer JSON") from None
