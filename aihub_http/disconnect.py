"""Racing work against the HTTP client going away.

Neither uvicorn nor Starlette cancels an endpoint when its client disconnects, and a stream
blocked waiting for the next model token only notices at its next write. A model call costs
money for every token, so the core call is cancelled the moment `http.disconnect` arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

T = TypeVar("T")


class ClientGone(Exception):
    """The HTTP client disconnected before the work finished."""


async def until_disconnect(receive: Receive, work: Awaitable[T]) -> T:
    """Await `work` in this task, or cancel it and raise ClientGone if the client disconnects
    first. One watcher task per call: the work itself is not wrapped in a task of its own.

    Only call this once the request body has been read: the watcher consumes ASGI messages.
    """
    task = asyncio.current_task()
    assert task is not None
    base = task.cancelling()
    gone = False

    def client_gone() -> None:
        nonlocal gone
        gone = True
        task.cancel()

    watcher = asyncio.ensure_future(_wait_for_disconnect(receive, client_gone))
    try:
        return await work
    except asyncio.CancelledError:
        # Our own cancellation becomes ClientGone; anyone else's goes on as it came.
        if gone and task.uncancel() <= base:
            raise ClientGone from None
        raise
    finally:
        watcher.cancel()


async def _wait_for_disconnect(receive: Receive, client_gone: Callable[[], None]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    client_gone()


class NoResponse(Response):
    """Sends nothing: the client is gone, and the server needs no answer to close up."""

    def __init__(self) -> None:
        super().__init__(status_code=499)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
