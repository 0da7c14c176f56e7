"""The server side of an in-process call: what a servicer sees instead of grpc.aio's context.

A call made through `LocalChannel` runs the servicer method in the caller's process, in the task
that drives the call (a stream's reads may come from different tasks, so a servicer must not hold
a task-bound scope such as asyncio.timeout across a yield), with no serialization and no HTTP/2.
The servicer gets this context, whose metadata, abort and status behave as grpc.aio's do, and
the channel turns the outcome into what a grpc.aio client would have seen (a response, or an
`AioRpcError` with the same code, details and metadata).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import grpc

Pairs = tuple[tuple[str, str | bytes], ...]
MetadataType = grpc.aio.Metadata | Sequence[tuple[str, str | bytes]]


def as_pairs(metadata: Iterable[tuple[str, str | bytes]] | None) -> Pairs:
    """Metadata as a tuple of (key, value) pairs, keys lowercased as gRPC sends them."""
    return tuple((key.lower(), value) for key, value in metadata or ())


class LocalAbort(grpc.aio.AbortError):
    """What `LocalContext.abort` raises: the status the call ends with."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: Pairs) -> None:
        super().__init__(details)
        self.code = code
        self.details = details
        self.trailing = trailing


class LocalContext(grpc.aio.ServicerContext[Any, Any]):
    """One in-process call as the servicer sees it (unary or server-streaming requests only)."""

    def __init__(self, metadata: Pairs, deadline: float | None, clock: Any) -> None:
        self._invocation = metadata
        self._deadline = deadline
        self._clock = clock
        self.initial: Pairs | None = None
        self.trailing: Pairs = ()
        self._code = grpc.StatusCode.OK
        self._details = ""

    def invocation_metadata(self) -> grpc.aio.Metadata:
        """The metadata the caller sent."""
        return grpc.aio.Metadata(*self._invocation)

    async def send_initial_metadata(self, initial_metadata: MetadataType) -> None:
        """Record the initial metadata; like grpc.aio, a second send is an error."""
        if self.initial is not None:
            raise grpc.aio.UsageError("initial metadata was already sent")
        self.initial = as_pairs(initial_metadata)

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: MetadataType = (),
    ) -> NoReturn:
        """End the call with `code`; like grpc.aio, OK is not an abort code."""
        if code == grpc.StatusCode.OK:
            raise grpc.aio.UsageError("abort() needs a status code other than OK")
        raise LocalAbort(code, details, as_pairs(trailing_metadata) or self.trailing)

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        """End the call with a grpc.Status: its code, details and trailing metadata, which
        supersede any set before (as grpc documents)."""
        self.trailing = as_pairs(status.trailing_metadata)
        await self.abort(status.code, status.details, self.trailing)
        raise AssertionError("abort returned")  # pragma: no cover - abort always raises

    def set_trailing_metadata(self, trailing_metadata: MetadataType) -> None:
        self.trailing = as_pairs(trailing_metadata)

    def trailing_metadata(self) -> grpc.aio.Metadata:
        return grpc.aio.Metadata(*self.trailing)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def set_details(self, details: str) -> None:
        self._details = details

    def details(self) -> str:
        return self._details

    def time_remaining(self) -> float:
        """Seconds left before the caller's deadline (infinity without one)."""
        return float("inf") if self._deadline is None else max(0.0, self._deadline - self._clock())

    def cancelled(self) -> bool:
        """The caller's cancellation reaches the servicer as asyncio.CancelledError instead."""
        return False

    def done(self) -> bool:
        return False

    def add_done_callback(self, callback: Any) -> None:
        """Unsupported in process: nothing of ours uses it, and it would never be called."""
        raise grpc.aio.UsageError("add_done_callback is not available on in-process calls")

    def peer(self) -> str:
        return "local:"

    def peer_identities(self) -> Iterable[bytes] | None:
        return None

    def peer_identity_key(self) -> str | None:
        return None

    def auth_context(self) -> Mapping[str, Iterable[bytes]]:
        return {}

    def set_compression(self, compression: grpc.Compression) -> None:
        """Nothing is compressed in process."""

    def disable_next_message_compression(self) -> None:
        """Nothing is compressed in process."""

    async def read(self) -> NoReturn:
        raise grpc.aio.UsageError("in-process calls carry a single request message")

    async def write(self, message: Any) -> NoReturn:
        raise grpc.aio.UsageError("in-process servicers yield their messages")
