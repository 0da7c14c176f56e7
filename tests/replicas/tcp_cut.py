"""A TCP forwarder the test can cut and restore: the network edge between a gateway and its
database, and the only thing mocked. Cut: every open connection is closed and new ones are
refused (the listener is gone), as when the database host or the link to it is lost. Restored:
the same port listens again and forwards as before."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator


class TcpCut:
    """Forwards 127.0.0.1:`port` to `target` on a loop of its own (a thread), until closed."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-cut", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])

    def _run(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def start(self) -> None:
        """Begin forwarding."""
        self._thread.start()
        self.restore()

    def restore(self) -> None:
        """Listen (again) on the port."""
        self._run(self._listen())

    def cut(self) -> None:
        """Close every forwarded connection and stop listening."""
        self._run(self._cut())

    def close(self) -> None:
        """Cut, and end the thread."""
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.transport.abort()  # a reset, as a lost host's connections end
        self._open.clear()
        if server is not None:
            await server.wait_closed()

    async def _forward(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self._target)
        except OSError:
            client_out.transport.abort()
            return
        self._open |= {client_out, server_out}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(client_in, server_out), pipe(server_in, client_out))
        self._open -= {client_out, server_out}


@contextlib.contextmanager
def tcp_cut(target: tuple[str, int]) -> Iterator[TcpCut]:
    """A running forwarder to `target`, closed after the block."""
    forwarder = TcpCut(target)
    forwarder.start()
    try:
        yield forwarder
    finally:
        forwarder.close()
