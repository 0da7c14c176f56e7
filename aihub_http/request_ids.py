"""A request id for every HTTP request, echoed as `X-Request-ID` on every answer."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aihub_http.metadata import REQUEST_ID_HEADER, new_request_id

SCOPE_KEY = "aihub.request_id"


def adopt_request_id(connection: HTTPConnection[Any], request_id: str | None) -> None:
    """Answer under the core's id once a call reached it, so headers, bodies and the ledger agree."""
    if request_id:
        connection.scope[SCOPE_KEY] = request_id


def request_id_of(connection: HTTPConnection[Any]) -> str:
    """The id given to this request (made on the spot if the middleware did not run)."""
    request_id: str = connection.scope.setdefault(SCOPE_KEY, new_request_id())
    return request_id


class RequestIdMiddleware:
    """Gives each request an id before anything else runs, and stamps it on the response.

    It sits inside Starlette's ServerErrorMiddleware; the 500 handler stamps its own answer
    from the same scope entry.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = new_request_id()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in headers:
                    headers[REQUEST_ID_HEADER] = scope[SCOPE_KEY]
            await send(message)

        await self.app(scope, receive, send_with_id)
