"""The client side of an in-process call (see `channel`): grpc.aio's call objects over a
servicer method that runs in whichever task drives the call (awaits it, or reads the next message).

How each way of ending maps to what grpc.aio gives a client:

    servicer returns / stream ends      OK (its code and details, if it set any with set_code)
    context.abort(code, ...)            AioRpcError(code), with initial and trailing metadata
    returns or yields None              INTERNAL (grpc could not serialize it)
    raises any other Exception          UNKNOWN, logged (a servicer bug)
    the deadline passes                 DEADLINE_EXCEEDED; the servicer is cancelled
    call.cancel(), or the task driving  asyncio.CancelledError in the caller, CANCELLED status;
      the call is cancelled               the servicer is cancelled (or its generator closed)
    the servicer raises CancelledError  AioRpcError(CANCELLED): a server-side cancellation
      without being cancelled
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

import grpc

from aihub_core.inprocess.context import LocalAbort, LocalContext, Pairs, as_pairs

log = logging.getLogger("aihub.core")
_CANCELLED = "Locally cancelled by application!"
# Generators of abandoned streams being closed: referenced until done, as asyncio asks.
_CLOSING: set[asyncio.Task[None]] = set()


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

    _streaming = False

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
        self._locally_cancelled = False  # CancelledError for the caller, not an AioRpcError
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
        self._locally_cancelled = True
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
        self._abandon()
        self._finish(grpc.StatusCode.CANCELLED, _CANCELLED)
        return True

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        if self._state is _State.DONE:
            callback(self)
        else:
            self._callbacks.append(callback)

    async def initial_metadata(self) -> grpc.aio.Metadata:
        """As grpc: the server's metadata, sent at the latest with the first message."""
        if self._context.initial is None and self._state is not _State.DONE:
            await self._advance()
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

    async def _advance(self) -> None:
        """Run the call far enough for its initial metadata (a unary call: to its end)."""
        raise NotImplementedError

    async def _until_done(self) -> None:
        """Wait for the end of the call (a stream's status needs its messages to be read)."""
        if self._state is _State.IDLE and not self._streaming:
            with contextlib.suppress(grpc.aio.AioRpcError):
                await self._advance()
        await self._wait_finished()

    def _abandon(self) -> None:
        """Release what a cancelled call holds (a stream's generator)."""

    async def _step(self, step: Awaitable[Any]) -> Any:
        """Run one step of the servicer in this task (a whole unary call, or one stream read) and
        turn how it ended into the call's status; the message it gave, or None when it ended."""
        self._state = _State.RUNNING
        task = self._runner = asyncio.current_task()
        base = task.cancelling() if task is not None else 0
        timer = None if self._deadline is None else self._loop.call_at(self._deadline, self._expire, task)
        outcome: BaseException | None = None
        message: Any = None
        try:
            message = await step
        except BaseException as exc:  # judged below, once the deadline is accounted for
            outcome = exc
        finally:
            if timer is not None:
                timer.cancel()
            self._runner = None
            if self._state is _State.RUNNING:
                self._state = _State.IDLE
        ended_well = outcome is None and message is not None and not self._expired
        if ended_well and self._context.initial is not None:
            return message  # what `_judge` returns for it, without the calls (a stream: per message)
        try:
            if self._expired and task is not None and task.cancelling() > base:
                task.uncancel()  # the deadline's own cancellation, used up here (as asyncio.timeout)
                if not (isinstance(outcome, asyncio.CancelledError) and task.cancelling() > base):
                    self._finish(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
                    return None
            cancelled_here = task is not None and task.cancelling() > base
            return self._judge(outcome, message, cancelled_here)
        finally:
            # The exception's traceback holds this frame: kept in a local, it would be a cycle that
            # keeps the whole call alive until a full garbage collection.
            outcome = None

    def _judge(self, outcome: BaseException | None, message: Any, cancelled_here: bool) -> Any:
        if outcome is None:
            if message is None:
                self._finish(grpc.StatusCode.INTERNAL, "Failed to serialize response: no message")
            elif self._context.initial is None:
                self._context.initial = ()  # headers go out with the first message at the latest
            return message
        if isinstance(outcome, StopAsyncIteration) and self._streaming:
            self._finish(self._context.code(), self._context.details())
        elif isinstance(outcome, LocalAbort):
            self._finish(outcome.code, outcome.details, outcome.trailing)
        elif isinstance(outcome, asyncio.CancelledError):
            if not cancelled_here and not self._locally_cancelled:
                self._finish(grpc.StatusCode.CANCELLED, "The servicer cancelled the call")
                return None
            self._locally_cancelled = True
            self._finish(grpc.StatusCode.CANCELLED, _CANCELLED)
            raise outcome
        elif isinstance(outcome, Exception):  # the servicer's own bug: as grpc.aio reports it
            log.error("unexpected error in an in-process call", exc_info=outcome)
            self._finish(grpc.StatusCode.UNKNOWN, f"Unexpected {type(outcome)}: {outcome}")
        else:  # KeyboardInterrupt, SystemExit: the call is over, and the process's business
            self._finish(grpc.StatusCode.UNKNOWN, f"Unexpected {type(outcome)}")
            raise outcome
        return None

    def _expire(self, task: asyncio.Task[Any] | None) -> None:
        self._expired = True
        if task is not None:
            task.cancel()

    def _finish(self, code: grpc.StatusCode, details: str = "", trailing: Pairs = ()) -> None:
        if self._state is _State.DONE:
            return
        self._state = _State.DONE
        self._code = code
        self._details = details
        self._trailing = trailing or self._context.trailing
        if self._finished is not None and not self._finished.done():
            self._finished.set_result(None)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback(self)
            except Exception:  # as asyncio does for its callbacks: one failing stops nothing
                log.exception("a done callback of an in-process call failed")

    async def _wait_finished(self) -> None:
        if self._state is not _State.DONE:
            if self._finished is None:
                self._finished = self._loop.create_future()
            await asyncio.shield(self._finished)

    def _raise_if_failed(self) -> None:
        if self._locally_cancelled:
            raise asyncio.CancelledError
        code = self._code  # set when the call ends
        if code is not None and code != grpc.StatusCode.OK:
            # A new error each time: one kept on the call would hold, through its traceback, the
            # frames that raised it and so the call itself (a cycle only a full collection frees).
            raise grpc.aio.AioRpcError(
                code,
                grpc.aio.Metadata(*(self._context.initial or ())),
                grpc.aio.Metadata(*self._trailing),
                self._details,
            )


class LocalUnaryCall(_LocalCall, grpc.aio.UnaryUnaryCall[Any, Any]):
    """A unary call: the servicer runs when the call (or its metadata or status) is awaited."""

    _response: Any = None

    def __await__(self) -> Generator[Any, None, Any]:
        return self._result().__await__()

    async def _result(self) -> Any:
        if self._state is _State.IDLE:
            response = await self._step(self._method.handler(self._request, self._context))
            if not self.done():  # (the step changed the state)
                self._response = response
                self._finish(self._context.code(), self._context.details())
        else:
            await self._wait_finished()
        self._raise_if_failed()
        return self._response

    async def _advance(self) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError):
            await self._result()
        await self._wait_finished()


class LocalStreamCall(_LocalCall, grpc.aio.UnaryStreamCall[Any, Any]):
    """A server-streaming call: each `read()` runs the servicer's generator to its next message.

    Nothing runs between reads, so `code()`, `details()` and `trailing_metadata()` resolve once
    the messages have been read to the end (or the call is cancelled); `initial_metadata()` reads
    ahead one message when the servicer has not sent its metadata yet."""

    _streaming = True

    def __init__(self, method: LocalMethod, request: Any, metadata: Any, timeout: float | None) -> None:
        super().__init__(method, request, metadata, timeout)
        self._messages: AsyncIterator[Any] | None = None
        self._read_ahead: Any = None  # a message read for initial_metadata(), not yet returned

    async def read(self) -> Any:
        """The next message, or grpc.aio.EOF after the last one."""
        if self._read_ahead is not None:
            message, self._read_ahead = self._read_ahead, None
            return message
        if self._state is _State.RUNNING:
            raise grpc.aio.UsageError("only one read at a time")
        if self._deadline is not None and self._loop.time() >= self._deadline and not self.done():
            self._finish(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
            self._abandon()
        if self._state is _State.DONE:
            self._raise_if_failed()
            return grpc.aio.EOF
        if self._messages is None:
            self._messages = self._start()
        if self._messages is None:  # the method cannot stream here: finished UNIMPLEMENTED
            self._raise_if_failed()
            return grpc.aio.EOF
        message = await self._step(anext(self._messages))
        if not self.done():
            return message  # neither ended nor failed: `_raise_if_failed` would find nothing
        self._raise_if_failed()
        return grpc.aio.EOF

    def _start(self) -> AsyncIterator[Any] | None:
        messages = self._method.handler(self._request, self._context)
        if hasattr(messages, "__anext__"):
            return messages  # type: ignore[no-any-return]
        if hasattr(messages, "close"):
            messages.close()  # a coroutine: a servicer that writes with context.write
        self._finish(grpc.StatusCode.UNIMPLEMENTED, "This method does not stream in process")
        return None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while (message := await self.read()) is not grpc.aio.EOF:
            yield message

    async def _advance(self) -> None:
        if self._read_ahead is None and self._state is _State.IDLE:
            with contextlib.suppress(grpc.aio.AioRpcError):  # the metadata is there either way
                message = await self.read()
                self._read_ahead = None if message is grpc.aio.EOF else message

    def _abandon(self) -> None:
        messages = self._messages
        if messages is not None and self._runner is None and hasattr(messages, "aclose"):
            # Suspended at a yield: close it there (its cleanup records the cancellation).
            closing = self._loop.create_task(messages.aclose())
            _CLOSING.add(closing)
            closing.add_done_callback(_closed)


def _closed(task: asyncio.Task[None]) -> None:
    _CLOSING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("closing an abandoned in-process stream failed", exc_info=task.exception())
