"""The in-process channel on its own: what grpc.aio would give for each way a servicer can end.

The whole gRPC and REST suites also run over this channel (the `channel` and `http` fixtures);
these tests cover the edges those servicers never reach: deadlines, servicer bugs, set_code,
cancellation from another task, unknown methods and abandoned streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import wrappers_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from aihub_core.inprocess.calls import LocalMethod
from aihub_core.inprocess.channel import LocalChannel
from aihub_core.inprocess.context import LocalContext

Text = wrappers_pb2.StringValue


class Servicer:
    """A servicer with one method per way of ending; it records what it saw."""

    def __init__(self) -> None:
        self.seen_metadata: tuple[tuple[str, str | bytes], ...] = ()
        self.cancelled = asyncio.Event()
        self.closed = asyncio.Event()
        self.started = asyncio.Event()

    async def echo(self, request: Text, context: LocalContext) -> Text:
        self.seen_metadata = tuple(context.invocation_metadata())
        await context.send_initial_metadata((("x-request-id", "req_1"),))
        return Text(value=request.value.upper())

    async def refuse(self, request: Text, context: LocalContext) -> Text:
        await context.send_initial_metadata((("x-ratelimit-limit", "5"),))
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no", (("x-request-id", "req_2"),))

    async def set_code(self, request: Text, context: LocalContext) -> Text:
        context.set_code(grpc.StatusCode.NOT_FOUND)
        context.set_details("nothing here")
        return Text(value="dropped")

    async def bug(self, request: Text, context: LocalContext) -> Text:
        raise RuntimeError("oops")

    async def hang(self, request: Text, context: LocalContext) -> Text:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        raise AssertionError("unreachable")

    async def count(self, request: Text, context: LocalContext) -> AsyncIterator[Text]:
        await context.send_initial_metadata((("x-request-id", "req_3"),))
        try:
            for n in range(int(request.value)):
                yield Text(value=str(n))
        finally:
            self.closed.set()

    async def fail_midway(self, request: Text, context: LocalContext) -> AsyncIterator[Text]:
        yield Text(value="first")
        await context.abort(grpc.StatusCode.UNAVAILABLE, "gone")

    async def exhausted(self, request: Text, context: LocalContext) -> Text:
        raise StopAsyncIteration  # a bug: an exhausted iterator's end, out of a unary method

    async def nothing(self, request: Text, context: LocalContext) -> Text | None:
        return None

    async def stubborn(self, request: Text, context: LocalContext) -> Text:
        with contextlib.suppress(asyncio.CancelledError):  # swallows the deadline's cancellation
            await asyncio.Event().wait()
        return Text(value="late")

    async def abort_cancelled(self, request: Text, context: LocalContext) -> Text:
        await context.abort(grpc.StatusCode.CANCELLED, "the server gave up")

    async def raise_cancelled(self, request: Text, context: LocalContext) -> Text:
        raise asyncio.CancelledError

    async def with_status(self, request: Text, context: LocalContext) -> Text:
        context.set_trailing_metadata((("x-old", "1"),))
        status = rpc_status.to_status(
            status_pb2.Status(code=grpc.StatusCode.NOT_FOUND.value[0], message="gone")
        )
        await context.abort_with_status(status)

    async def quiet(self, request: Text, context: LocalContext) -> AsyncIterator[Text]:
        yield Text(value="a")  # never sends initial metadata itself
        yield Text(value="b")

    async def writes(self, request: Text, context: LocalContext) -> None:
        await context.write(Text(value="x"))  # a coroutine streaming method, as Health.Watch is


@pytest.fixture
def servicer() -> Servicer:
    return Servicer()


@pytest.fixture
def channel(servicer: Servicer) -> LocalChannel:
    unaries = (
        "echo", "refuse", "set_code", "bug", "hang", "exhausted", "nothing", "stubborn",
        "abort_cancelled", "raise_cancelled", "with_status",
    )  # fmt: skip
    unary = {name: LocalMethod(getattr(servicer, name), False) for name in unaries}
    streaming = ("count", "fail_midway", "quiet", "writes")
    streams = {name: LocalMethod(getattr(servicer, name), True) for name in streaming}
    return LocalChannel({f"/t.T/{name}": method for name, method in {**unary, **streams}.items()})


def unary(channel: LocalChannel, name: str) -> Any:
    return channel.unary_unary(f"/t.T/{name}")


def stream(channel: LocalChannel, name: str) -> Any:
    return channel.unary_stream(f"/t.T/{name}")


async def test_a_unary_call_answers_with_the_servicers_response_and_metadata(
    channel: LocalChannel, servicer: Servicer
) -> None:
    call = unary(channel, "echo")(Text(value="hi"), metadata=(("Authorization", "Bearer k"),))
    assert (await call).value == "HI"
    assert dict(await call.initial_metadata()) == {"x-request-id": "req_1"}
    assert await call.code() == grpc.StatusCode.OK
    assert call.done() and not call.cancelled()
    assert servicer.seen_metadata == (("authorization", "Bearer k"),)  # keys lowercased, as gRPC sends them


async def test_initial_metadata_first_runs_the_call(channel: LocalChannel) -> None:
    call = unary(channel, "echo")(Text(value="hi"))
    assert dict(await call.initial_metadata()) == {"x-request-id": "req_1"}
    assert (await call).value == "HI"  # awaited again: the same response


async def test_an_abort_is_an_rpc_error_with_both_metadata(channel: LocalChannel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await unary(channel, "refuse")(Text())
    error = failed.value
    assert (error.code(), error.details()) == (grpc.StatusCode.PERMISSION_DENIED, "no")
    assert dict(error.initial_metadata()) == {"x-ratelimit-limit": "5"}
    assert dict(error.trailing_metadata()) == {"x-request-id": "req_2"}


async def test_a_code_set_without_abort_ends_the_call_with_it(channel: LocalChannel) -> None:
    call = unary(channel, "set_code")(Text())
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    assert (failed.value.code(), failed.value.details()) == (grpc.StatusCode.NOT_FOUND, "nothing here")
    assert await call.code() == grpc.StatusCode.NOT_FOUND


async def test_a_servicer_bug_is_unknown_and_logged(
    channel: LocalChannel, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await unary(channel, "bug")(Text())
    assert failed.value.code() == grpc.StatusCode.UNKNOWN
    assert "oops" in (failed.value.details() or "")
    assert "unexpected error in an in-process call" in caplog.text


async def test_a_deadline_cancels_the_servicer_and_reports_deadline_exceeded(
    channel: LocalChannel, servicer: Servicer
) -> None:
    call = unary(channel, "hang")(Text(), timeout=0.05)
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert servicer.cancelled.is_set()
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]  # the deadline left no cancel behind


async def test_cancel_from_another_task_cancels_the_servicer(
    channel: LocalChannel, servicer: Servicer
) -> None:
    call = unary(channel, "hang")(Text())
    waiter = asyncio.ensure_future(call)
    await servicer.started.wait()
    assert call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert servicer.cancelled.is_set()
    assert call.cancelled() and await call.code() == grpc.StatusCode.CANCELLED
    assert not call.cancel()  # already over


async def test_an_unknown_method_is_unimplemented(channel: LocalChannel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await channel.unary_unary("/t.T/missing")(Text())
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        await channel.unary_stream("/t.T/echo")(Text()).read()  # a unary method asked as a stream
    assert streamed.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_a_stream_reads_every_message_then_eof(channel: LocalChannel, servicer: Servicer) -> None:
    call = stream(channel, "count")(Text(value="3"))
    assert [m.value async for m in call] == ["0", "1", "2"]
    assert await call.read() is grpc.aio.EOF
    assert dict(await call.initial_metadata()) == {"x-request-id": "req_3"}
    assert await call.code() == grpc.StatusCode.OK
    assert servicer.closed.is_set()


async def test_a_stream_error_after_a_message_raises_on_the_next_read(channel: LocalChannel) -> None:
    call = stream(channel, "fail_midway")(Text())
    assert (await call.read()).value == "first"
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call.read()
    assert (failed.value.code(), failed.value.details()) == (grpc.StatusCode.UNAVAILABLE, "gone")
    with pytest.raises(grpc.aio.AioRpcError):
        await call.read()  # it stays failed


async def test_cancelling_a_stream_between_reads_closes_its_generator(
    channel: LocalChannel, servicer: Servicer
) -> None:
    call = stream(channel, "count")(Text(value="100"))
    assert (await call.read()).value == "0"
    assert call.cancel()
    await asyncio.wait_for(servicer.closed.wait(), 1)
    with pytest.raises(asyncio.CancelledError):
        await call.read()
    assert await call.code() == grpc.StatusCode.CANCELLED


async def failed_code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    return failed.value.code()


async def test_a_unary_bug_ending_in_stop_async_iteration_is_unknown(channel: LocalChannel) -> None:
    assert await failed_code(unary(channel, "exhausted")(Text())) == grpc.StatusCode.UNKNOWN


async def test_a_unary_answer_of_none_is_internal(channel: LocalChannel) -> None:
    assert await failed_code(unary(channel, "nothing")(Text())) == grpc.StatusCode.INTERNAL


async def test_a_servicer_swallowing_the_deadline_still_ends_deadline_exceeded(channel: LocalChannel) -> None:
    call = unary(channel, "stubborn")(Text(), timeout=0.05)
    assert await failed_code(call) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_cancelled_status_from_the_servicer_is_an_rpc_error_not_a_cancellation(
    channel: LocalChannel,
) -> None:
    assert await failed_code(unary(channel, "abort_cancelled")(Text())) == grpc.StatusCode.CANCELLED
    assert await failed_code(unary(channel, "raise_cancelled")(Text())) == grpc.StatusCode.CANCELLED


async def test_abort_with_status_supersedes_earlier_trailing_metadata(channel: LocalChannel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await unary(channel, "with_status")(Text())
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    assert "x-old" not in dict(failed.value.trailing_metadata())


async def test_initial_metadata_of_a_stream_comes_with_its_first_message(channel: LocalChannel) -> None:
    call = stream(channel, "quiet")(Text())
    assert tuple(await call.initial_metadata()) == ()  # reads ahead; does not wait for the end
    assert [m.value async for m in call] == ["a", "b"]  # the message read ahead is not lost
    assert await call.code() == grpc.StatusCode.OK


async def test_a_streaming_method_that_is_not_a_generator_is_unimplemented(channel: LocalChannel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stream(channel, "writes")(Text()).read()
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_a_failing_done_callback_does_not_stop_a_cancel(
    channel: LocalChannel, servicer: Servicer, caplog: pytest.LogCaptureFixture
) -> None:
    call = unary(channel, "hang")(Text())
    seen: list[Any] = []

    def broken(done: Any) -> None:
        raise RuntimeError("callback bug")

    call.add_done_callback(broken)
    call.add_done_callback(seen.append)
    waiter = asyncio.ensure_future(call)
    await servicer.started.wait()
    assert call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert servicer.cancelled.is_set() and seen == [call]
    assert "a done callback of an in-process call failed" in caplog.text


@pytest.mark.parametrize("name", ["refuse", "bug", "echo"])
async def test_an_ended_call_is_freed_at_once_not_by_the_garbage_collector(
    channel: LocalChannel, name: str
) -> None:
    # An exception kept in a local of the frame it was caught in is a cycle (exception ->
    # traceback -> frame -> exception) that holds the whole call until a full collection: at
    # 1,000 streams that was 1,000 calls alive for seconds after they ended.
    gc.collect()
    gc.disable()
    logging.disable(logging.ERROR)  # a captured log record of the bug would hold its traceback
    try:
        call = unary(channel, name)(Text(value="x"))
        with contextlib.suppress(grpc.aio.AioRpcError):
            await call
        ended = weakref.ref(call)
        del call
        assert ended() is None
    finally:
        logging.disable(logging.NOTSET)
        gc.enable()


@pytest.mark.parametrize(("name", "request_value"), [("count", "2"), ("fail_midway", "")])
async def test_an_ended_stream_is_freed_at_once_not_by_the_garbage_collector(
    channel: LocalChannel, name: str, request_value: str
) -> None:
    gc.collect()
    gc.disable()
    try:
        call = stream(channel, name)(Text(value=request_value))
        with contextlib.suppress(grpc.aio.AioRpcError):
            async for _ in call:
                pass
        ended = weakref.ref(call)
        del call
        assert ended() is None
    finally:
        gc.enable()
