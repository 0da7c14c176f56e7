"""`aihub serve`: the core and the shim in one process, or either alone."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Mapping

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_core.settings import Settings
from aihub_http.app import create_app


def _banner(settings: Settings, core: Core | None, http_port: int | None, core_address: str) -> str:
    lines = ["AI Hub is running"]
    if http_port is not None:
        base = f"http://{settings.host}:{http_port}"
        lines.append(f"  REST/SSE   {base}/v1/developer   (docs {base}/docs, health {base}/healthz)")
    lines.append(f"  gRPC       {core_address}   (reflection and grpc.health.v1 enabled)")
    if core is not None:
        lines.append(f"  database   {settings.database_url}")
        lines.append(f"  upstreams  {core.describe_upstreams()}")
    return "\n".join(lines)


def _settle_heap() -> None:
    """Once everything is built: what start-up allocated (modules, catalog, protobuf classes) is
    never garbage, so the collector stops scanning it on every full collection."""
    gc.collect()
    gc.freeze()


async def _wait_for_signal() -> None:
    """Until SIGINT or SIGTERM; a second one ends the process at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            print("aihub: second signal, exiting without waiting", file=sys.stderr, flush=True)
            os._exit(130)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    await stop.wait()


async def serve(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    only: str | None = None,
    core_address: str | None = None,
) -> int:
    """Run until SIGINT/SIGTERM, then shut down gracefully: the shim first, then the core."""
    core = None if only == "http" else await Core.start(settings, environ)
    try:
        address = core.address if core is not None else str(core_address)
        if only == "grpc":
            _settle_heap()
            print(_banner(settings, core, None, address), flush=True)
            await _wait_for_signal()
            return 0
        # In one process the shim calls the core's servicers directly (no loopback gRPC hop).
        app = create_app(core.local_channel() if core is not None else address)
        http = await start_http(app, settings.host, settings.http_port)
        try:
            _settle_heap()
            print(_banner(settings, core, http.port, address), flush=True)
            await _wait_for_signal()
        finally:
            await http.stop()
        return 0
    finally:
        if core is not None:
            await core.stop()
