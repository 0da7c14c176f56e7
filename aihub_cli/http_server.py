"""Run the shim under uvicorn inside an existing event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from aihub_cli.http_protocol import DEFAULT_HEADER_TIMEOUT, with_header_timeout

# Open streams get this long to finish on shutdown before they are closed.
GRACEFUL_SECONDS = 10


class _EmbeddedServer(uvicorn.Server):
    """uvicorn that leaves signals to the process: `aihub serve` must stop the core after the
    shim, and uvicorn would re-raise SIGTERM after its own shutdown, killing the process first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningHTTP:
    """A started uvicorn server, its task and the port it bound."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    async def stop(self) -> None:
        """Ask uvicorn to exit and wait for it (in-flight streams are closed)."""
        self.server.should_exit = True
        await self.task


async def start_http(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    sock: socket.socket | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
) -> RunningHTTP:
    """Start uvicorn on host:port (0 picks a free port), or on `sock`, a listening socket other
    processes share, and wait until it listens. A connection that does not complete a request's
    headers within `header_timeout` seconds (of opening, or of its last response) is closed."""
    server = _EmbeddedServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            http=with_header_timeout(header_timeout),
            log_level="warning",
            # uvicorn's own records go to the process's handler (AIHUB_LOG_FORMAT), and the
            # shim writes the access log itself (with the request id, model, tokens and cost).
            log_config=None,
            access_log=False,
            lifespan="on",
            # Nothing reads the client's address, so X-Forwarded-* need not be parsed per request.
            proxy_headers=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
    )
    task = asyncio.create_task(server.serve(sockets=None if sock is None else [sock]))
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers no start-up event
        await asyncio.sleep(0.01)
    if task.done():
        await task
        raise OSError(f"the HTTP server did not start on {host}:{port}")
    bound = int(server.servers[0].sockets[0].getsockname()[1])
    return RunningHTTP(server, task, bound)
