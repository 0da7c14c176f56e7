"""A grpc.aio channel that calls this process's servicers directly: no sockets, no HTTP/2, no
serialization.

`aihub serve` runs the shim and the core in one process by default; the shim talks to the core
through this channel, which costs about a millisecond of CPU less per request than loopback gRPC
(docs/benchmarks.md). The generated stubs work on it, and each way a call can end gives what
grpc.aio gives (the table in `calls`): the response, or an `AioRpcError` with the servicer's
code, details and metadata; `cancel()` cancels the servicer as a client's cancellation would. The
whole gRPC and REST test suites run over both. The separate-process mode (`--only grpc|http`)
still speaks real gRPC, for scaling out; client-streaming methods are not served here.

Messages are handed over as they are, not copied: a caller must not change a request after
sending it (the shim builds one per call and drops it), and a servicer must not change a message
after returning or yielding it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor

from aihub_core.inprocess.calls import LocalMethod, LocalStreamCall, LocalUnaryCall
from aihub_core.inprocess.context import LocalContext


def method_table(services: Iterable[tuple[ServiceDescriptor, object]]) -> dict[str, LocalMethod]:
    """`/package.Service/Method` -> the servicer's bound method, for every unary-request method of
    every service (client-streaming methods are left out)."""
    table: dict[str, LocalMethod] = {}
    for service, servicer in services:
        for method in service.methods:
            if method.client_streaming:
                continue  # no such RPC in our contract; LocalChannel serves single-request calls
            table[f"/{service.full_name}/{method.name}"] = LocalMethod(
                getattr(servicer, method.name), method.server_streaming
            )
    return table


async def _unimplemented(request: Any, context: LocalContext) -> Any:
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")


async def _unimplemented_stream(request: Any, context: LocalContext) -> AsyncIterator[Any]:
    await _unimplemented(request, context)
    yield  # pragma: no cover - makes this a generator; the abort above always raises


def _client_streaming(method: str) -> Callable[..., Any]:
    """Stubs build every method up front; only calling a client-streaming one is an error."""

    def call(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{method}: client-streaming calls are not served in process")

    return call


class _UnaryUnary(grpc.aio.UnaryUnaryMultiCallable[Any, Any]):
    def __init__(self, method: LocalMethod) -> None:
        self._method = method

    def __call__(self, request: Any, *, timeout: float | None = None, metadata: Any = None, **_: Any) -> Any:
        return LocalUnaryCall(self._method, request, metadata, timeout)


class _UnaryStream(grpc.aio.UnaryStreamMultiCallable[Any, Any]):
    def __init__(self, method: LocalMethod) -> None:
        self._method = method

    def __call__(self, request: Any, *, timeout: float | None = None, metadata: Any = None, **_: Any) -> Any:
        return LocalStreamCall(self._method, request, metadata, timeout)


class LocalChannel(grpc.aio.Channel):
    """A channel whose calls run `methods` in this process (see the module docstring)."""

    def __init__(self, methods: Mapping[str, LocalMethod]) -> None:
        self._methods = dict(methods)

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _UnaryUnary(self._find(method, streaming=False))

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _UnaryStream(self._find(method, streaming=True))

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _client_streaming(method)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _client_streaming(method)

    def _find(self, method: str, *, streaming: bool) -> LocalMethod:
        """The method at `method`; one that is not here answers UNIMPLEMENTED, as a server would."""
        found = self._methods.get(method)
        if found is None or found.server_streaming != streaming:
            return LocalMethod(_unimplemented_stream if streaming else _unimplemented, streaming)
        return found

    async def __aenter__(self) -> LocalChannel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self, grace: float | None = None) -> None:
        """Nothing to close: the core owns the servicers."""

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return grpc.ChannelConnectivity.READY

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        """The state never changes: wait forever, as for a channel that stays READY."""
        await asyncio.Event().wait()

    async def channel_ready(self) -> None:
        """Always ready."""
