"""`aihub models sync`: refresh the catalog file from the providers' model lists."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AsyncExitStack

from aihub_core.app import configure
from aihub_core.catalog.sync import SyncError, builtin_sources, sync_catalog
from aihub_core.errors import ConfigError
from aihub_core.providers._http import upstream_session
from aihub_core.settings import Settings


async def sync_models(settings: Settings, environ: Mapping[str, str]) -> int:
    """Fetch every page of each built-in service's list, write the synced file, print a summary."""
    path = settings.synced_catalog_path
    async with AsyncExitStack() as stack:
        client = upstream_session()
        stack.push_async_callback(client.close)
        sources = await builtin_sources(settings, client, stack)
        for source in sources:
            if source.simulated_because:
                print(
                    f"{source.service}: {source.simulated_because}: "
                    "syncing from a fresh built-in simulator, not the live API"
                )
        try:
            reports = await sync_catalog(sources, path)
        except SyncError as err:
            print(f"aihub: models sync failed: {err}; the catalog was not changed", file=sys.stderr)
            return 1
    for report in reports:
        print("\n".join(report.lines()))
    print(f"wrote {path}; restart `aihub serve` to use it")
    try:
        configure(settings, environ)
    except ConfigError as err:
        print(f"warning: AIHUB_CONFIG no longer fits the synced catalog: {err}", file=sys.stderr)
    return 0
