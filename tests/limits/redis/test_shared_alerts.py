"""Usage alerts across replicas: two cores on one PostgreSQL and one Redis. A burst of calls on
both records one event per alert and period, and a WatchQuota stream on the other core (not the
one that recorded it) carries each event once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from tests.conftest import isolated_settings
from tests.e2e.test_grpc import bearer, new_key
from tests.fake_clock import FakeClock
from tests.limits.redis.conftest import REDIS_URL
from tests.postgres import PostgresSchema, postgres_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
async def schema() -> AsyncIterator[PostgresSchema]:
    async with postgres_schema() as made:
        yield made


@pytest.fixture
async def cores(
    tmp_path: Path, prefix: str, clock: FakeClock, schema: PostgresSchema
) -> AsyncIterator[tuple[Core, Core]]:
    settings = isolated_settings(tmp_path, database_url=schema.url, redis_url=REDIS_URL, redis_prefix=prefix)
    first = await Core.start(settings, clock=clock)
    try:
        second = await Core.start(settings, clock=clock)
        try:
            yield first, second
        finally:
            await second.stop(grace=0)
    finally:
        await first.stop(grace=0)


async def test_a_burst_on_two_replicas_fires_each_alert_once_and_the_other_replica_streams_it(
    cores: tuple[Core, Core], schema: PostgresSchema
) -> None:
    async with (
        grpc.aio.insecure_channel(cores[0].address) as first,
        grpc.aio.insecure_channel(cores[1].address) as second,
    ):
        jwt, key = await new_key(first)
        assert await cores[0].store.set_plan("grpc@example.com", "enterprise")
        usage = usage_grpc.UsageServiceStub(first)
        wanted = set()
        for request in (
            usage_pb.CreateAlertRequest(metric="requests", value=10, period="day"),
            usage_pb.CreateAlertRequest(metric="tokens", value=50, period="month"),
        ):
            wanted.add((await usage.CreateAlert(request, metadata=bearer(jwt))).alert.id)
        watch = usage_grpc.UsageServiceStub(second).WatchQuota(
            usage_pb.WatchQuotaRequest(), metadata=bearer(key)
        )
        first_snapshot = await asyncio.wait_for(watch.read(), timeout=10)
        assert isinstance(first_snapshot, usage_pb.WatchQuotaResponse) and not first_snapshot.alerts

        stubs = [chat_grpc.ChatServiceStub(channel) for channel in (first, second)]
        await asyncio.gather(
            *(stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key)) for stub in stubs * 10)
        )
        streamed: list[usage_pb.AlertEvent] = []

        async def until_both() -> None:
            while {e.alert_id for e in streamed} != wanted:
                snapshot = await watch.read()
                assert isinstance(snapshot, usage_pb.WatchQuotaResponse)
                streamed.extend(snapshot.alerts)

        await asyncio.wait_for(until_both(), timeout=10)
        watch.cancel()

    rows = await schema.fetch("SELECT id, alert_id, period_key FROM alert_events")
    assert sorted(r["alert_id"] for r in rows) == sorted(wanted)  # one per alert, from 20 settlements
    assert sorted(e.event_id for e in streamed) == sorted(r["id"] for r in rows)  # each streamed once
    calls = next(e for e in streamed if e.metric == "requests")
    assert calls.limit == 10 and calls.observed >= 10 and calls.period == "day"
