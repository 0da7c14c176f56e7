"""Racing work against the HTTP client going away.

Neither uvicorn nor Starlette cancels an endpoint when its client disconnects, and a stream
blocked waiting for the next model token only notices at its next write. A model call costs
money for every token, so the core call is cancelled the moment `http.disconnect` arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

T = TypeVar("T")


class ClientGone(Exception):
    """The HTTP client disconnected before the work finished."""


async def until_disconnect(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work`, or cancel it and raise ClientGone if the client disconnects first.

    Only call this once the request body has been read: the watcher consumes ASGI messages.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    raise ClientGone


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class NoResponse(Response):
    """Sends nothing: the client is gone, and the server needs no answer to close up."""

    def __init__(self) -> None:
        super().__init__(status_code=499)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
