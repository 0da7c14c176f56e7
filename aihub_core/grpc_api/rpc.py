"""Decorators that wrap each servicer method in the gate: thin servicers, errors mapped once."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, Protocol, TypeVar

import grpc

from aihub_core.errors import AIHubError
from aihub_core.grpc_api import access_log
from aihub_core.grpc_api.access import Access
from aihub_core.grpc_api.gate import Call, Gate

log = logging.getLogger("aihub.core")

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Context = grpc.aio.ServicerContext[Any, Any]


class HasGate(Protocol):
    gate: Gate


async def _fail(gate: Gate, call: Call, err: Exception) -> NoReturn:
    """End the call with err mapped once; anything not ours is logged and hidden as a 500."""
    if isinstance(err, grpc.aio.AbortError):
        raise err
    if not isinstance(err, AIHubError):
        log.error("unexpected error in %s", call.request_id, exc_info=err)
        err = AIHubError(f"Internal error (request {call.request_id})")
    await gate.fail(call, err)


def unary(
    access: Access,
) -> Callable[[Callable[[Any, Req, Call], Awaitable[Resp]]], Callable[[Any, Req, Context], Awaitable[Resp]]]:
    """Wrap a unary method `(self, request, call) -> response`."""

    def decorate(
        fn: Callable[[Any, Req, Call], Awaitable[Resp]],
    ) -> Callable[[Any, Req, Context], Awaitable[Resp]]:
        @functools.wraps(fn)
        async def handler(self: HasGate, request: Req, context: Context) -> Resp:
            call = self.gate.open(context)
            logged = access_log.enabled(call)
            status, code = "CANCELLED", ""
            try:
                await self.gate.admit(call, access)
                response = await fn(self, request, call)
                status = "OK"
                if logged:
                    access_log.note(call, response)
                return response
            except Exception as err:
                status, code = access_log.outcome(err)
                await _fail(self.gate, call, err)
            finally:
                if logged:
                    access_log.log_call(call, self, fn.__name__, status, code)

        handler.__aihub_access__ = access  # type: ignore[attr-defined]
        return handler

    return decorate


def server_stream(
    access: Access,
) -> Callable[
    [Callable[[Any, Req, Call], AsyncGenerator[Resp, None]]],
    Callable[[Any, Req, Context], AsyncIterator[Resp]],
]:
    """Wrap a server-streaming method written as an async generator `(self, request, call)`."""

    def decorate(
        fn: Callable[[Any, Req, Call], AsyncGenerator[Resp, None]],
    ) -> Callable[[Any, Req, Context], AsyncIterator[Resp]]:
        @functools.wraps(fn)
        async def handler(self: HasGate, request: Req, context: Context) -> AsyncIterator[Resp]:
            call = self.gate.open(context)
            logged = access_log.enabled(call)
            status, code = "CANCELLED", ""
            try:
                await self.gate.admit(call, access)
                # aclosing: when this generator is closed at a yield (an in-process call given up
                # between reads), the method's own generator is closed at once, not by the GC.
                async with contextlib.aclosing(fn(self, request, call)) as items:
                    async for item in items:
                        if logged:
                            access_log.note(call, item)
                        yield item
                status = "OK"
            except Exception as err:
                status, code = access_log.outcome(err)
                await _fail(self.gate, call, err)
            finally:
                if logged:
                    access_log.log_call(call, self, fn.__name__, status, code)

        handler.__aihub_access__ = access  # type: ignore[attr-defined]
        return handler

    return decorate
