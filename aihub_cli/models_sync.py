"""`aihub models sync`: refresh the catalog file from the providers' model lists."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import AsyncExitStack

from aihub_core.app import SIMULATOR_KEY, configure
from aihub_core.catalog.sync import Source, SyncError, sync_catalog
from aihub_core.providers._http import upstream_session
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.listings import gemini_page, openrouter_page
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.settings import ConfigError, Settings
from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator, Simulator

_KEY_NAMES = {"openrouter": "OPENROUTER_API_KEY", "gemini": "GEMINI_API_KEY"}


async def sync_models(settings: Settings, environ: Mapping[str, str]) -> int:
    """Fetch every page of each built-in service's list, write the synced file, print a summary."""
    path = settings.synced_catalog_path
    async with AsyncExitStack() as stack:
        client = upstream_session()
        stack.push_async_callback(client.close)
        sources = []
        configured = {
            "openrouter": (
                OpenAICompatibleProvider,
                openrouter_page,
                OpenRouterSimulator,
                settings.openrouter_api_key,
                settings.openrouter_base_url,
            ),
            "gemini": (
                GeminiProvider,
                gemini_page,
                GeminiSimulator,
                settings.gemini_api_key,
                settings.gemini_base_url,
            ),
        }
        for service, (adapter, parse, simulator_class, key, url) in configured.items():
            simulated = settings.simulated(service)
            if simulated:
                simulator: Simulator = simulator_class(chunk_delay_ms=0)
                url, key = await simulator.start(), SIMULATOR_KEY
                stack.push_async_callback(simulator.stop)
                why = "AIHUB_SIMULATE=1" if settings.simulate else f"no {_KEY_NAMES[service]}"
                print(f"{service}: {why}: syncing from a fresh built-in simulator, not the live API")
            lister = adapter(
                name=service,
                base_url=url,
                api_key=key,
                client=client,
                timeouts=settings.timeouts,
                simulated=simulated,
            )
            sources.append(Source(service, url, simulated, lister, parse))
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
