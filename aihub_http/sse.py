"""Server-streaming calls as Server-Sent Events: one `data:` line of JSON per message
(StreamChat's documented events, and WatchQuota's snapshots as `quota` events)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf.message import Message
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from aihub.v1 import chat_service_pb2, usage_service_pb2
from aihub_http.access_log import note_usage
from aihub_http.disconnect import ClientGone, until_disconnect
from aihub_http.errors import from_rpc_error
from aihub_http.jsonmap import message_to_json

StreamCall = grpc.aio.UnaryStreamCall[Any, Message]

# json.dumps(ensure_ascii=False) leaves these as raw characters, and line splitters such as
# Python's str.splitlines() (and so httpx's aiter_lines) break lines on them mid-event.
_LINE_BREAKERS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def encode_event(event: Mapping[str, Any]) -> bytes:
    """One SSE event: `data: <json>` and a blank line; non-ASCII text stays readable UTF-8."""
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKERS)
    return f"data: {text}\n\n".encode()


def event_json(message: Message) -> dict[str, Any] | None:
    """The documented event for one stream message; None for a message with no event set."""
    if isinstance(message, usage_service_pb2.WatchQuotaResponse):
        return {"type": "quota", **message_to_json(message)}
    if not isinstance(message, chat_service_pb2.StreamChatResponse):
        raise TypeError(f"no SSE event for {type(message).__name__}")
    kind = message.WhichOneof("event")
    if kind == "content":
        return {"type": "content", "content": message.content.content, "model": message.content.model}
    if kind == "session":
        return {"type": "session", "session_id": message.session.session_id}
    if kind == "usage":
        body = message_to_json(message.usage)
        return {"type": "usage", "usage": body["usage"], "metadata": body["metadata"]}
    if kind == "done":
        return {"type": "done"}
    return None


class SseResponse(Response):
    """Streams a server-streaming call whose first message has already arrived.

    The status line goes out only after that first message, so a call refused up front
    (429, 401, ...) gets the ordinary JSON error; after it, an error is the last event.
    The gRPC call is cancelled however this ends, including a client disconnect.
    """

    def __init__(self, call: StreamCall, first: Message | None, headers: Mapping[str, str]) -> None:
        self.status_code = 200
        self.background = None
        self._call = call
        self._first = first
        self.raw_headers = [
            (b"content-type", b"text/event-stream"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
            *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await until_disconnect(receive, self._stream(scope, send))
        except ClientGone:
            pass
        finally:
            self._call.cancel()

    async def _stream(self, scope: Scope, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        message = self._first
        model = ""
        while message is not None:
            if isinstance(message, chat_service_pb2.StreamChatResponse):
                kind = message.WhichOneof("event")
                if kind == "content":
                    model = message.content.model
                elif kind == "usage":
                    note_usage(scope, f"{message.usage.metadata.service_used}:{model}", message.usage.usage)
            event = event_json(message)
            if event is not None:
                await send({"type": "http.response.body", "body": encode_event(event), "more_body": True})
            try:
                received = await self._call.read()
            except grpc.aio.AioRpcError as err:
                error = from_rpc_error(err).error_object()
                error.pop("details")
                await send(
                    {"type": "http.response.body", "body": encode_event({"type": "error", "error": error})}
                )
                return
            message = received if isinstance(received, Message) else None  # else the end of the stream
        await send({"type": "http.response.body", "body": b""})
