"""One request id per HTTP request, echoed as `X-Request-ID` on every answer.

The core mints the id of every call it answers (it keys the usage ledger, so a caller can never
choose it); the shim answers under that id (`adopt_request_id`). Only an answer no core call
gave an id to (a 404, a bad body, the core unreachable, /healthz) gets one minted here, once,
when it is first needed: a client's own `X-Request-ID` is never read.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aihub_http.metadata import REQUEST_ID_HEADER, new_request_id

SCOPE_KEY = "aihub.request_id"
# The `send` this middleware was given (the server's, behind Starlette's ServerErrorMiddleware):
# every middleware inside it acts on `http.response.start` only, so a stream's body frames go
# straight to it once the start went through them all (`sse.SseResponse`).
BODY_SEND_KEY = "aihub.body_send"


def adopt_request_id(connection: HTTPConnection[Any], request_id: str | None) -> None:
    """Answer under the core's id once a call reached it, so headers, bodies and the ledger agree."""
    if request_id:
        connection.scope[SCOPE_KEY] = request_id


def request_id_of(connection: HTTPConnection[Any]) -> str:
    """The id this request is answered under: the core's, or one minted now (and kept)."""
    return scope_request_id(connection.scope)


def scope_request_id(scope: Scope) -> str:
    """The id the request in `scope` is answered under (minted now if it has none yet)."""
    request_id: str | None = scope.get(SCOPE_KEY)
    if request_id is None:
        request_id = scope[SCOPE_KEY] = new_request_id()
    return request_id


class RequestIdMiddleware:
    """Stamps the request's id on every answer that does not carry it yet.

    It sits inside Starlette's ServerErrorMiddleware; the 500 handler stamps its own answer
    from the same scope entry.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        scope[BODY_SEND_KEY] = send

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in headers:
                    headers[REQUEST_ID_HEADER] = scope_request_id(scope)
            await send(message)

        await self.app(scope, receive, send_with_id)
