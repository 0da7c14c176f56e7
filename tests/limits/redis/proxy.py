"""A TCP relay in front of the test Redis that a test can cut (Redis "goes down") and restore, or
make hold Redis's replies (a command runs, its answer is late)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class RedisProxy:
    """Relays 127.0.0.1:<port> to the Redis of `target_url`."""

    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 6379)
        self._db = target.path or "/0"
        self._server: asyncio.Server | None = None
        self._port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.replies = asyncio.Event()
        self.replies.set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._port}{self._db}"

    async def start(self) -> None:
        """Listen (again, on the same port after a cut)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            redis_reader, redis_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, redis_writer}
        for source, sink, gated in (
            (client_reader, redis_writer, False),
            (redis_reader, client_writer, True),
        ):
            task = asyncio.create_task(self._pipe(source, sink, gated))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, gated: bool) -> None:
        try:
            while data := await source.read(65536):
                if gated:
                    await self.replies.wait()
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            self._writers.discard(sink)
            sink.close()
            with contextlib.suppress(Exception):
                await sink.wait_closed()
