"""Server-Sent Events out of a server-streaming core call: StreamChat as one `data:` line of JSON
per StreamChatResponse (`SpecEvents`), WatchQuota as one `quota` event per snapshot
(`QuotaEvents`); other wire formats bring their own `EventWriter`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from json.encoder import encode_basestring
from typing import Any, Protocol

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from aihub.v1 import chat_service_pb2, usage_service_pb2
from aihub_http.access_log import note_usage
from aihub_http.disconnect import ClientGone, until_disconnect
from aihub_http.errors import from_rpc_error
from aihub_http.jsonmap import message_to_json
from aihub_http.request_ids import BODY_SEND_KEY

StreamCall = grpc.aio.UnaryStreamCall[Any, Any]

# json.dumps(ensure_ascii=False) leaves these as raw characters, and line splitters such as
# Python's str.splitlines() (and so httpx's aiter_lines) break lines on them mid-event.
_LINE_BREAKERS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def encode_event(event: Mapping[str, Any]) -> bytes:
    """One SSE event: `data: <json>` and a blank line; non-ASCII text stays readable UTF-8."""
    return _frame(json.dumps(event, ensure_ascii=False, separators=(",", ":")))


def _frame(text: str) -> bytes:
    # The line breakers are not ASCII, and `isascii` is a flag check: most events skip the
    # translation, which looks every character up in the table.
    if not text.isascii():
        text = text.translate(_LINE_BREAKERS)
    return f"data: {text}\n\n".encode()


def content_frame(content: str, model: str) -> bytes:
    """`encode_event` of a content event, written out: the same bytes for a fraction of the
    work (json.dumps with options builds an encoder per call; this is one C call per string)."""
    return _frame(
        f'{{"type":"content","content":{encode_basestring(content)},"model":{encode_basestring(model)}}}'
    )


def event_json(message: chat_service_pb2.StreamChatResponse) -> dict[str, Any] | None:
    """The documented event for one stream message; None for a message with no event set."""
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


class EventWriter(Protocol):
    """What one wire format writes for a stream: the frames of each core message, and the last
    frame of a stream that failed after it started."""

    def frames(self, scope: Scope, message: Message) -> list[bytes]:
        """The SSE frames for one message of the core's stream (none for some)."""

    def failure(self, err: grpc.aio.AioRpcError) -> bytes:
        """The frame that ends a stream the core failed after its first message."""


class SpecEvents:
    """The API document's events: one `data:` line per StreamChatResponse, an `error` event last
    on a failure."""

    def __init__(self) -> None:
        self._model = ""

    def frames(self, scope: Scope, message: Message) -> list[bytes]:
        """The message's event, if it has one; the usage is noted for the access log."""
        assert isinstance(message, chat_service_pb2.StreamChatResponse)
        kind = message.WhichOneof("event")
        if kind == "content":
            self._model = message.content.model
            return [content_frame(message.content.content, self._model)]
        if kind == "usage":
            note_usage(scope, f"{message.usage.metadata.service_used}:{self._model}", message.usage.usage)
        event = event_json(message)
        return [] if event is None else [encode_event(event)]

    def failure(self, err: grpc.aio.AioRpcError) -> bytes:
        """The `error` event: the error object without its details."""
        error = from_rpc_error(err).error_object()
        error.pop("details")
        return encode_event({"type": "error", "error": error})


class QuotaEvents:
    """The live quota (`GET /v1/developer/quota/watch`): each WatchQuotaResponse snapshot as
    `{"type": "quota", ...}`, after one `{"type": "alert", ...}` event per usage alert it carries;
    an `error` event last on a failure."""

    def frames(self, scope: Scope, message: Message) -> list[bytes]:
        """The snapshot's alerts, each an event, then the snapshot as one event."""
        assert isinstance(message, usage_service_pb2.WatchQuotaResponse)
        alerts = [encode_event({"type": "alert", **message_to_json(event)}) for event in message.alerts]
        snapshot = message_to_json(message)
        snapshot.pop("alerts", None)
        return [*alerts, encode_event({"type": "quota", **snapshot})]

    def failure(self, err: grpc.aio.AioRpcError) -> bytes:
        """The `error` event, as the chat stream's."""
        return SpecEvents().failure(err)


def writer_for(rpc: MethodDescriptor) -> EventWriter:
    """The events of a documented route's stream, by the message its RPC streams."""
    if rpc.output_type.full_name == usage_service_pb2.WatchQuotaResponse.DESCRIPTOR.full_name:
        return QuotaEvents()
    return SpecEvents()


class SseResponse(Response):
    """Streams a server-streaming call whose first message has already arrived, in the form
    `writer` writes.

    The status line goes out only after that first message, so a call refused up front
    (429, 401, ...) gets the ordinary JSON error; after it, an error is the last event.
    The gRPC call is cancelled however this ends, including a client disconnect.
    """

    def __init__(
        self,
        call: StreamCall,
        first: Message | None,
        headers: Mapping[str, str],
        writer: EventWriter | None = None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self._call = call
        self._first = first
        self._writer = writer if writer is not None else SpecEvents()
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
        # The frames skip the middlewares' wrappers, which only act on the start (request_ids).
        send = scope.get(BODY_SEND_KEY, send)
        message = self._first
        writer = self._writer
        while message is not None:
            for frame in writer.frames(scope, message):
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            try:
                received = await self._call.read()
            except grpc.aio.AioRpcError as err:
                await send({"type": "http.response.body", "body": writer.failure(err)})
                return
            message = received if isinstance(received, Message) else None
        await send({"type": "http.response.body", "body": b""})
