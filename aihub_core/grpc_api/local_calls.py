"""The client side of an in-process call (see `local_channel`): grpc.aio's call objects, over a
servicer method run in the caller's task."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

import grpc

from aihub_core.grpc_api.local_context import LocalAbort, LocalContext, Pairs, as_pairs

log = logging.getLogger("aihub.core")


@dataclass(frozen=True)
class LocalMethod:
    """A servicer method by its gRPC path: `(request, context)` -> response, or async iterator."""

    handler: Callable[[Any, LocalContext], Any]
    server_streaming: bool


class _State(enum.Enum):
    IDLE = 0  # not started, or a stream between two reads
    RUNNING = 1  # the servicer runs (in `_runner`)
    DONE = 2


class _LocalCall:
    """What unary and streaming calls share: the status, metadata, cancellation and callbacks."""

    def __init__(self, method: LocalMethod, request: Any, metadata: Any, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._deadline = None if timeout is None else loop.time() + timeout
        self._method = method
        self._request = request
        self._context = LocalContext(as_pairs(metadata), self._deadline, loop.time)
        self._state = _State.IDLE
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self._trailing: Pairs = ()
        self._error: grpc.aio.AioRpcError | None = None
        self._runner: asyncio.Task[Any] | None = None  # the task running the servicer right now
        self._finished: asyncio.Future[None] | None = None
        self._expired = False  # the deadline passed (and cancelled the servicer)
        self._callbacks: list[Callable[[Any], None]] = []

    # -- grpc.aio.Call ------------------------------------------------------------------------

    def cancelled(self) -> bool:
        return self._code == grpc.StatusCode.CANCELLED

    def done(self) -> bool:
        return self._state is _State.DONE

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(0.0, self._deadline - self._loop.time())

    def cancel(self) -> bool:
        """Cancel the servicer (as a client cancellation does); False once the call has ended."""
        if self._state is _State.DONE:
            return False
        runner = self._runner
        self._finish(grpc.StatusCode.CANCELLED, "Locally cancelled by application!")
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
        self._abandon()
        return True

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        if self._state is _State.DONE:
            callback(self)
        else:
            self._callbacks.append(callback)

    async def initial_metadata(self) -> grpc.aio.Metadata:
        if self._context.initial is None and self._state is not _State.DONE:
            await self._until_done()
        return grpc.aio.Metadata(*(self._context.initial or ()))

    async def trailing_metadata(self) -> grpc.aio.Metadata:
        await self._until_done()
        return grpc.aio.Metadata(*self._trailing)

    async def code(self) -> grpc.StatusCode:
        await self._until_done()
        assert self._code is not None
        return self._code

    async def details(self) -> str:
        await self._until_done()
        return self._details

    async def wait_for_connection(self) -> None:
        """In process there is no connection to wait for."""

    # -- shared machinery -----------------------------------------------------------------------

    async def _until_done(self) -> None:
        """Wait for the end of the call (running it here if nobody has started it)."""
        raise NotImplementedError

    def _abandon(self) -> None:
        """Release what a cancelled call holds (a stream's generator)."""

    async def _step(self, step: Awaitable[Any]) -> Any:
        """Run one step of the servicer in this task (a whole unary call, or one stream read) and
        turn how it ended into the call's status; its result, or None when it ended the call."""
        self._state = _State.RUNNING
        task = self._runner = asyncio.current_task()
        timer = None if self._deadline is None else self._loop.call_at(self._deadline, self._expire, task)
        try:
            return await step
        except StopAsyncIteration:
            self._finish_returned()
        except LocalAbort as abort:
            self._finish(abort.code, abort.details, abort.trailing)
        except asyncio.CancelledError:
            if not self._expired:
                self._finish(grpc.StatusCode.CANCELLED, "Locally cancelled by application!")
                raise
            if task is not None:
                task.uncancel()
            self._finish(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
        except Exception as err:  # the servicer's own bug: as grpc.aio reports it
            log.error("unexpected error in an in-process call", exc_info=err)
            self._finish(grpc.StatusCode.UNKNOWN, f"Unexpected {type(err)}: {err}")
        finally:
            if timer is not None:
                timer.cancel()
            self._runner = None
            if self._state is _State.RUNNING:
                self._state = _State.IDLE
        return None

    def _expire(self, task: asyncio.Task[Any] | None) -> None:
        self._expired = True
        if task is not None:
            task.cancel()

    def _finish_returned(self) -> None:
        """The servicer returned: OK, unless it set another code (then grpc drops the response)."""
        self._finish(self._context.code(), self._context.details())

    def _finish(self, code: grpc.StatusCode, details: str = "", trailing: Pairs = ()) -> None:
        if self._state is _State.DONE:
            return
        self._state = _State.DONE
        self._code = code
        self._details = details
        self._trailing = trailing or self._context.trailing
        if code != grpc.StatusCode.OK:
            self._error = grpc.aio.AioRpcError(
                code,
                grpc.aio.Metadata(*(self._context.initial or ())),
                grpc.aio.Metadata(*self._trailing),
                details,
            )
        if self._finished is not None and not self._finished.done():
            self._finished.set_result(None)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    async def _wait_finished(self) -> None:
        if self._state is not _State.DONE:
            if self._finished is None:
                self._finished = self._loop.create_future()
            await asyncio.shield(self._finished)

    def _raise_if_failed(self) -> None:
        if self._code == grpc.StatusCode.CANCELLED:
            raise asyncio.CancelledError
        if self._error is not None:
            raise self._error


class LocalUnaryCall(_LocalCall, grpc.aio.UnaryUnaryCall[Any, Any]):
    """A unary call: the servicer runs when the call is awaited, in the awaiting task."""

    def __await__(self) -> Generator[Any, None, Any]:
        return self._result().__await__()

    _response: Any = None

    async def _result(self) -> Any:
        if self._state is _State.IDLE:
            response = await self._step(self._method.handler(self._request, self._context))
            if not self.done():  # (the step changed the state)
                self._response = response
                self._finish_returned()
        else:
            await self._wait_finished()
        self._raise_if_failed()
        return self._response

    async def _until_done(self) -> None:
        if self._state is _State.IDLE:
            with contextlib.suppress(grpc.aio.AioRpcError):
                await self._result()
        await self._wait_finished()


class LocalStreamCall(_LocalCall, grpc.aio.UnaryStreamCall[Any, Any]):
    """A server-streaming call: each `read()` runs the servicer's generator to its next message."""

    def __init__(self, method: LocalMethod, request: Any, metadata: Any, timeout: float | None) -> None:
        super().__init__(method, request, metadata, timeout)
        self._messages: AsyncIterator[Any] | None = None
        self._closing: asyncio.Task[None] | None = None

    async def read(self) -> Any:
        """The next message, or grpc.aio.EOF after the last one."""
        if self._state is _State.RUNNING:
            raise grpc.aio.UsageError("only one read at a time")
        if self._state is _State.DONE:
            self._raise_if_failed()
            return grpc.aio.EOF
        if self._messages is None:
            self._messages = self._method.handler(self._request, self._context)
        message = await self._step(anext(self._messages))
        self._raise_if_failed()
        return grpc.aio.EOF if self.done() else message

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while (message := await self.read()) is not grpc.aio.EOF:
            yield message

    async def _until_done(self) -> None:
        await self._wait_finished()

    def _abandon(self) -> None:
        messages = self._messages
        if messages is not None and self._runner is None and hasattr(messages, "aclose"):
            # Suspended at a yield: close it there (its cleanup records the cancellation).
            self._closing = self._loop.create_task(messages.aclose())
            self._closing.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("closing an abandoned in-process stream failed", exc_info=task.exception())
