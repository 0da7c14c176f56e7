"""`aihub serve`: the core and the shim in one process, or either alone."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import sys
from collections.abc import Mapping

from aihub_cli.http_server import start_http
from aihub_cli.worker_link import WorkerLink
from aihub_core.app import Core
from aihub_core.ports import Port
from aihub_core.settings import Settings
from aihub_core.store import redacted_url
from aihub_http.app import create_app
from aihub_http.metrics import METRICS_DIR_ENV
from aihub_http.options import ShimOptions


def _banner(settings: Settings, core: Core | None, http_port: int | None, core_address: str) -> str:
    lines = ["AI Hub is running"]
    if http_port is not None:
        base = f"http://{settings.host}:{http_port}"
        lines.append(f"  console    {base}/   (the web console: sign up, keys, usage, playground)")
        lines.append(f"  REST/SSE   {base}/v1/developer   (docs {base}/docs, health {base}/healthz)")
    lines.append(f"  gRPC       {core_address}   (reflection and grpc.health.v1 enabled)")
    if core is not None:
        lines.append(f"  database   {redacted_url(settings.database_url)}")
        lines.append(f"  upstreams  {core.describe_upstreams()}")
    return "\n".join(lines)


def shim_options(settings: Settings) -> ShimOptions:
    """The shim's guards, as the settings give them."""
    return ShimOptions(
        metrics_token=settings.metrics_token,
        max_body_bytes_in_flight=settings.max_body_bytes_in_flight,
        body_timeout=settings.http_body_timeout,
    )


def _settle_heap() -> None:
    """Once everything is built: what start-up allocated (modules, catalog, protobuf classes) is
    never garbage, so the collector stops scanning it on every full collection."""
    gc.collect()
    gc.freeze()


async def _wait_for_signal(link: WorkerLink | None) -> None:
    """Until SIGINT or SIGTERM (or, in a worker, the supervisor's exit); a second one ends the
    process at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if link is not None:
        link.on_supervisor_gone(stop.set)

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
    link: WorkerLink | None = None,
) -> int:
    """Run until SIGINT/SIGTERM, then shut down gracefully: the shim first, then the core.

    With `link`, this is one worker of `aihub serve --workers N`: it serves on the shared socket
    and port, reports ready to its supervisor instead of printing the banner, and also stops when
    the supervisor is gone."""
    worker = link is not None
    # The ports before anything starts: a port in use stops the start in one line.
    if only != "http" and not worker:
        Port(settings.host, settings.grpc_port, "gRPC", "--grpc-port").check_free()
    http_port = Port(settings.host, settings.http_port, "HTTP", "--http-port")
    sock = None if only == "grpc" else http_port.bind(reuse_port=worker, listen=True)
    try:
        return await _serve(settings, environ, only, core_address, link, sock)
    finally:
        if sock is not None:
            sock.close()


async def _serve(
    settings: Settings,
    environ: Mapping[str, str],
    only: str | None,
    core_address: str | None,
    link: WorkerLink | None,
    sock: socket.socket | None,
) -> int:
    worker = link is not None
    core = None if only == "http" else await Core.start(settings, environ, worker=worker)
    try:
        address = core.address if core is not None else str(core_address)
        if only == "grpc":
            await _serving(settings, core, None, address, link)
            return 0
        # In one process the shim calls the core's servicers directly (no loopback gRPC hop).
        app = create_app(
            core.local_channel() if core is not None else address,
            metrics_dir=environ.get(METRICS_DIR_ENV) if worker else None,
            options=shim_options(settings),
            metric_sources=() if core is None else (core.alert_metrics,),
        )
        http = await start_http(
            app, settings.host, settings.http_port, sock=sock, header_timeout=settings.http_header_timeout
        )
        try:
            await _serving(settings, core, http.port, address, link)
        finally:
            await http.stop()
        return 0
    finally:
        if core is not None:
            await core.stop()


async def _serving(
    settings: Settings, core: Core | None, http_port: int | None, address: str, link: WorkerLink | None
) -> None:
    """Everything is up: settle the heap, say so, and wait for the signal to stop."""
    _settle_heap()
    if link is None:
        print(_banner(settings, core, http_port, address), flush=True)
    else:
        link.report_ready()
    await _wait_for_signal(link)
