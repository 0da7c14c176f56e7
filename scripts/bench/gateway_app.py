"""The gateway in the shapes `compare_servers.py` measures, outside `aihub serve`.

As an ASGI application (`gateway_app:app`, with this directory on PYTHONPATH), for any ASGI server:
its lifespan starts the core in the server's own event loop and serves the shim over the core's
in-process channel, as `aihub serve` does with its embedded uvicorn:

    granian --interface asgi --loop uvloop gateway_app:app
    hypercorn --worker-class uvloop gateway_app:app
    uvicorn --loop uvloop --http httptools gateway_app:app

As a script, the core alone listening on a TCP address or a Unix socket, for a shim started with
`aihub serve --only http --core ADDRESS` (`aihub serve --only grpc` binds TCP only):

    gateway_app.py core 127.0.0.1:50051
    gateway_app.py core unix:/tmp/aihub/core.sock

Settings come from the environment (AIHUB_CONFIG, AIHUB_DATABASE_URL, AIHUB_JWT_SECRET), as for
`aihub serve`. Start-up ends with `gc.collect(); gc.freeze()`, as in `aihub serve`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from typing import Any

import uvloop
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aihub_core.app import Core
from aihub_core.settings import Settings
from aihub_http.app import create_app


class _Gateway:
    """An ASGI app: the core and the shim in one process and one event loop (the server's)."""

    def __init__(self) -> None:
        self.shim: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.shim is not None and scope["type"] != "lifespan":
            await self.shim(scope, receive, send)
            return
        if scope["type"] != "lifespan":
            raise RuntimeError("the server must run the ASGI lifespan (the core starts there)")
        # The core on an ephemeral gRPC port (unused here), then the shim's own lifespan.
        core = await Core.start(Settings.from_env(os.environ, grpc_port=0))
        self.shim = create_app(core.local_channel())

        async def sent(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()
                gc.freeze()
            await send(message)

        try:
            await self.shim(scope, receive, sent)
        finally:
            await core.stop()


app = _Gateway()


async def _core_alone(listen: str) -> None:
    """The core bound to `listen` (host:port, or unix:PATH) until SIGINT/SIGTERM."""
    if listen.startswith("unix:"):
        # start_server binds f"{host}:{port}"; grpc takes everything after "unix:" as the path,
        # so the socket file is PATH:0 (the caller connects to unix:PATH:0).
        settings = Settings.from_env(os.environ, host=listen, grpc_port=0)
    else:
        host, port = listen.rsplit(":", 1)
        settings = Settings.from_env(os.environ, host=host, grpc_port=int(port))
    core = await Core.start(settings)
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"core listening on {listen}", flush=True)
    try:
        await stop.wait()
    finally:
        await core.stop()


def main(argv: list[str]) -> Any:
    if len(argv) != 2 or argv[0] != "core":
        sys.exit(__doc__)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as `aihub serve`
        runner.run(_core_alone(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
