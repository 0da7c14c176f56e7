"""Bench-only prototype (issue 16): a gRPC server on the event loop itself (grpclib over h2)
serving the same servicers, with no threads. Not part of the product: see docs/benchmarks.md,
"Issue 16: grpclib instead of grpc.aio's server", for what it measured and why it was not taken.

grpc.aio hands each completion from its event-engine thread to a poller thread and then to the
loop. grpclib parses HTTP/2 in the loop's own protocol callbacks, so a call is one task and its
writes are plain transport writes. `Services` builds grpclib's `path -> Handler` table from the
proto descriptors (no generated grpclib code); each call's servicer sees `StreamContext`, the
in-process `LocalContext` whose metadata goes out on the HTTP/2 stream. Errors carry the same
status, details and `grpc-status-details-bin`; a unary call's initial metadata goes out with its
answer, and a connection's writes of one turn of the loop go out in one `send`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpclib.const import Cardinality, Handler, Status
from grpclib.encoding.base import StatusDetailsCodecBase
from grpclib.protocol import H2Protocol
from grpclib.server import Server, Stream
from h2.connection import H2Connection
from h2.events import WindowUpdated
from h2.settings import SettingCodes

from aihub_core.inprocess.context import LocalAbort, LocalContext, Pairs

log = logging.getLogger("aihub.core")

_DETAILS_KEY = "grpc-status-details-bin"
MAX_STREAMS = 4096  # concurrent calls on one connection


class RawDetails(StatusDetailsCodecBase):
    """`grpc-status-details-bin` as the servicer serialized it (a google.rpc.Status)."""

    def encode(self, status: Status, message: str | None, details: Any) -> bytes:
        return details  # type: ignore[no-any-return]

    def decode(self, status: Status, message: str | None, data: bytes) -> Any:
        return data


class _Coalescing:
    """A transport whose writes of one turn of the loop go out as one `send`: a unary answer's
    headers, message and trailers in one system call instead of three."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Connection(H2Connection):
    """h2's connection, counting its open streams in amortized constant time: h2 counts them
    (and forgets the closed ones) by a walk over every stream at each new stream."""

    _recount_at = 64

    @property
    def open_inbound_streams(self) -> int:
        if len(self.streams) < min(self._recount_at, MAX_STREAMS):
            return len(self.streams)  # at least the open ones (a server opens none of its own)
        count = super().open_inbound_streams  # (drops the closed streams)
        self._recount_at = max(64, 2 * len(self.streams))
        return count


def _window_updated(processor: Any, event: WindowUpdated) -> None:
    """grpclib's, without setting every stream's event at each connection-wide update: only
    the streams waiting for one (their event cleared) are woken."""
    streams = processor.streams
    if event.stream_id == 0:
        for stream in streams.values():
            if not stream.window_updated.is_set():
                stream.window_updated.set()
    elif (stream := streams.get(event.stream_id)) is not None:
        stream.window_updated.set()


class _Protocol(H2Protocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(_Coalescing(transport))  # type: ignore[arg-type]
        if os.environ.get("AIHUB_BENCH_H2_PLAIN"):
            return
        self.connection._connection.__class__ = _Connection
        self.processor.processors[WindowUpdated] = functools.partial(_window_updated, self.processor)  # type: ignore[assignment]
        # h2 offers 100 concurrent streams by default; grpc's own server sets no limit.
        self.connection._connection.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS})
        self.connection.flush()


class H2Server(Server):
    """grpclib's server, its connections' writes coalesced per turn of the loop."""

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        return _Protocol(protocol.handler, protocol.config, protocol.h2_config)


class StreamContext(LocalContext):
    """A servicer's context on a grpclib stream: metadata in, initial metadata out at once."""

    defer_initial = False

    def __init__(self, stream: Stream[Any, Any]) -> None:
        metadata: Pairs = tuple(stream.metadata.items()) if stream.metadata else ()
        deadline = stream.deadline
        loop = asyncio.get_running_loop()
        super().__init__(
            metadata, None if deadline is None else loop.time() + deadline.time_remaining(), loop.time
        )
        self._stream = stream

    async def send_initial_metadata(self, initial_metadata: Any) -> None:
        await super().send_initial_metadata(initial_metadata)
        if not self.defer_initial:  # a unary call's go out with its answer (or its trailers)
            await self._stream.send_initial_metadata(metadata=self.initial)

    def peer(self) -> str:
        addr = self._stream.peer.addr()
        if addr is None:
            return "unix:"
        host, port = addr[0], addr[1]
        return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


def _status(code: grpc.StatusCode) -> Status:
    return Status(code.value[0])


async def _end(
    stream: Stream[Any, Any],
    code: grpc.StatusCode,
    details: str,
    trailing: Pairs,
    initial: Pairs | None = None,
) -> None:
    if initial is not None and not stream._send_initial_metadata_done:
        await stream.send_initial_metadata(metadata=initial)
    rest = [(k, v) for k, v in trailing if k != _DETAILS_KEY]
    rich = next((v for k, v in trailing if k == _DETAILS_KEY), None)
    await stream.send_trailing_metadata(
        status=_status(code), status_message=details or None, status_details=rich, metadata=rest
    )


def _unary(method: Callable[[Any, LocalContext], Any]) -> Callable[[Stream[Any, Any]], Any]:
    async def handle(stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        context = StreamContext(stream)
        context.defer_initial = True
        try:
            response = await method(request, context)
        except LocalAbort as abort:
            await _end(stream, abort.code, abort.details, abort.trailing, context.initial)
            return
        except Exception as err:
            log.error("unexpected error in a gRPC call", exc_info=err)
            await _end(stream, grpc.StatusCode.UNKNOWN, f"Unexpected {type(err)}: {err}", context.trailing)
            return
        if context.initial is not None:
            await stream.send_initial_metadata(metadata=context.initial)
        await stream.send_message(response)
        await _end(stream, context.code(), context.details(), context.trailing)

    return handle


def _server_stream(method: Callable[[Any, LocalContext], Any]) -> Callable[[Stream[Any, Any]], Any]:
    async def handle(stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        context = StreamContext(stream)
        try:
            async for message in method(request, context):
                await stream.send_message(message)
        except LocalAbort as abort:
            await _end(stream, abort.code, abort.details, abort.trailing)
            return
        except Exception as err:
            log.error("unexpected error in a gRPC call", exc_info=err)
            await _end(stream, grpc.StatusCode.UNKNOWN, f"Unexpected {type(err)}: {err}", context.trailing)
            return
        await _end(stream, context.code(), context.details(), context.trailing)

    return handle


class Services:
    """grpclib's IServable over grpc.aio-style servicers, by their proto descriptors."""

    def __init__(self, services: Iterable[tuple[ServiceDescriptor, object]]) -> None:
        self._mapping: dict[str, Handler] = {}
        for service, servicer in services:
            for method in service.methods:
                if method.client_streaming:
                    continue
                func = getattr(servicer, method.name)
                wrap = _server_stream if method.server_streaming else _unary
                cardinality = Cardinality.UNARY_STREAM if method.server_streaming else Cardinality.UNARY_UNARY
                self._mapping[f"/{service.full_name}/{method.name}"] = Handler(
                    wrap(func),
                    cardinality,
                    GetMessageClass(method.input_type),
                    GetMessageClass(method.output_type),
                )

    def __mapping__(self) -> dict[str, Handler]:
        return self._mapping
