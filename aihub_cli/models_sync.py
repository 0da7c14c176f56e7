"""`aihub models sync`: refresh the catalog file from the providers' model lists."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AsyncExitStack

import httpx

from aihub_core.app import SIMULATOR_KEY, configure
from aihub_core.catalog.sync import Source, SyncError, sync_catalog
from aihub_core.settings import ConfigError, Settings
from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator, Simulator

_KEY_NAMES = {"openrouter": "OPENROUTER_API_KEY", "gemini": "GEMINI_API_KEY"}


async def sync_models(settings: Settings, environ: Mapping[str, str]) -> int:
    """Fetch every page of each built-in service's list, write the synced file, print a summary."""
    path = settings.synced_catalog_path
    async with AsyncExitStack() as stack:
        sources = []
        configured = {
            "openrouter": (OpenRouterSimulator, settings.openrouter_api_key, settings.openrouter_base_url),
            "gemini": (GeminiSimulator, settings.gemini_api_key, settings.gemini_base_url),
        }
        for service, (simulator_class, key, url) in configured.items():
            simulated = settings.simulated(service)
            if simulated:
                simulator: Simulator = simulator_class(chunk_delay_ms=0)
                url, key = await simulator.start(), SIMULATOR_KEY
                stack.push_async_callback(simulator.stop)
                why = "AIHUB_SIMULATE=1" if settings.simulate else f"no {_KEY_NAMES[service]}"
                print(f"{service}: {why}: syncing from a fresh built-in simulator, not the live API")
            # `settings.simulated` is false only when the key is set.
            sources.append(Source(service, url, key or "", simulated))
        timeout = httpx.Timeout(settings.timeouts.first_byte, connect=settings.timeouts.connect)
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=timeout))
        try:
            reports = await sync_catalog(sources, client, path)
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
