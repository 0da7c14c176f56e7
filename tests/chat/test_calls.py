"""The chat orchestrator over a real core's store, catalog and simulated providers: what it tells
its adapter about the limits and when, what a replay reads, and that every admitted call is
released (the servicer tests in tests/e2e drive the same code through gRPC and REST)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from aihub_core.app import Core
from aihub_core.chat.calls import ChatCall, ChatCalls, IdempotencyKey, Replay, TurnCall
from aihub_core.chat.engine import ChatEngine, ChatOutcome, ContentPiece
from aihub_core.chat.idempotency import Idempotency
from aihub_core.chat.params import ChatParams
from aihub_core.identity import Caller
from aihub_core.limits.in_process import InProcessAdmitter
from aihub_core.limits.plans import BUILTIN_PLANS
from aihub_core.limits.rules import RateState
from aihub_core.store.base import UserRecord

FREE = BUILTIN_PLANS["free"]
CALLER = Caller("u1", FREE, key_id="k1", permissions=frozenset({"chat"}))


class Adapter:
    """What an API adapter hands a chat call, keeping what the orchestrator tells it."""

    def __init__(self, fail_report: bool = False) -> None:
        self.reported: list[RateState] = []
        self.params_read = 0
        self._fail_report = fail_report

    def read_params(self) -> ChatParams:
        self.params_read += 1
        return ChatParams(message="hi", max_tokens=50)

    async def report_limits(self, state: RateState) -> None:
        if self._fail_report:
            raise ConnectionError("the client went away before the metadata went out")
        self.reported.append(state)

    def call(self, request_id: str, key: str | None = None) -> TurnCall:
        idempotency = IdempotencyKey(key, "Chat", b"request", stored) if key else None
        return ChatCall(CALLER, request_id, self.read_params, self.report_limits, idempotency)


def stored(outcome: ChatOutcome) -> bytes:
    return f"{outcome.session_id}:{outcome.text}".encode()


@pytest.fixture
async def admitter(core: Core) -> InProcessAdmitter:
    await core.store.create_user(UserRecord("u1", "u1@example.com", "h", "free", datetime.now(UTC)))
    return InProcessAdmitter(core.store, time.time)


@pytest.fixture
def calls(core: Core, admitter: InProcessAdmitter) -> ChatCalls:
    engine = ChatEngine(core.store, core.catalog, core.upstreams.providers)
    return ChatCalls(engine, admitter, Idempotency(core.store))


async def test_the_admitted_figures_reach_the_adapter_before_the_first_piece(
    calls: ChatCalls, admitter: InProcessAdmitter
) -> None:
    adapter = Adapter()
    events = calls.stream(adapter.call("req_stream"))
    first = await anext(events)
    assert isinstance(first, ContentPiece)
    [state] = adapter.reported
    assert (state.limit, state.remaining) == (FREE.requests_per_minute, FREE.requests_per_minute - 1)
    assert (await admitter.budget(CALLER)).in_flight == 1  # the slot is held while it streams
    rest = [event async for event in events]
    assert isinstance(rest[-1], ChatOutcome) and adapter.reported == [state]
    assert (await admitter.budget(CALLER)).in_flight == 0


async def test_a_replay_reports_the_current_figures_uncounted_and_reads_no_parameters(
    calls: ChatCalls, admitter: InProcessAdmitter
) -> None:
    outcome = await calls.complete(Adapter().call("req_first", key="k-1"))
    assert isinstance(outcome, ChatOutcome)
    retry = Adapter()
    replay = await calls.complete(retry.call("req_retry", key="k-1"))
    assert replay == Replay(stored(outcome))
    assert retry.params_read == 0
    assert [s.remaining for s in retry.reported] == [FREE.requests_per_minute - 1]  # not counted
    assert await admitter.quota_used("u1") == 1


async def test_an_admitted_call_whose_figures_cannot_be_sent_is_released(
    calls: ChatCalls, admitter: InProcessAdmitter
) -> None:
    with pytest.raises(ConnectionError):
        await calls.complete(Adapter(fail_report=True).call("req_gone"))
    assert (await admitter.budget(CALLER)).in_flight == 0
