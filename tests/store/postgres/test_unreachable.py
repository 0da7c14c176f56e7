"""The PostgreSQL store with its server out of reach (a forwarder the test cuts: only the network
edge is simulated): calls fail as 503 `database_unavailable`, what a call cut by the loss left
pending is settled and freed by the next recovery once the server is back, and the pool
reconnects by itself. Errors a statement causes stay what they are."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aihub_core.errors import ConflictError, ServiceUnavailableError
from aihub_core.store import open_store
from aihub_core.store.base import IdempotencyRecord, StoreOptions, UsageRecord, UsageStatus, UserRecord
from tests.postgres import PostgresSchema, server_url
from tests.replicas.tcp_cut import tcp_cut

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 31, 12, tzinfo=UTC)
USER = UserRecord("usr_1", "one@example.com", "h", "free", T0)


def _call(request_id: str, status: UsageStatus = "ok") -> UsageRecord:
    return UsageRecord(request_id, USER.id, None, "openrouter", "m", 3, 4, 7_000, status, "provider", T0)


async def test_a_lost_server_is_a_503_and_what_it_cut_is_recovered_once_it_is_back(
    schema: PostgresSchema,
) -> None:
    direct = server_url().split("@")[-1].split("/")[0]
    host, port = direct.rsplit(":", 1)
    with tcp_cut((host, int(port))) as link:
        store = open_store(
            schema.url.replace(direct, f"127.0.0.1:{link.port}"), StoreOptions(keep_lease=False)
        )
        await store.open()
        try:
            await store.create_user(USER)
            await store.reserve_usage(replace(_call("req_cut", "pending"), usage_source="none"))
            claim = IdempotencyRecord(USER.id, "k", "hash", "req_cut", T0)
            assert await store.claim_idempotency_key(claim, T0 - timedelta(days=1)) is None
            await store.record_usage(_call("req_done"))

            link.cut()
            for attempt in (
                store.record_usage(_call("req_cut")),
                store.release_idempotency_key(USER.id, "k"),
                store.auth_generation(),
                store.get_user(USER.id),
            ):
                with pytest.raises(ServiceUnavailableError) as lost:
                    await attempt
                assert (lost.value.code, lost.value.http_status) == ("database_unavailable", 503)

            link.restore()
            assert await store.get_user(USER.id) == USER  # the pool reconnected by itself
            with pytest.raises(ConflictError):  # a statement's own failure is not an outage
                await store.create_user(USER)
            recovered = await store.recover_abandoned()
            assert (recovered.reservations, recovered.claims) == (1, 1)
            assert (await store.recover_abandoned()).reservations == 0  # once
            assert await store.claim_idempotency_key(replace(claim, request_id="req_2"), T0) is None
        finally:
            await store.close()
    rows = {r["request_id"]: r for r in await schema.fetch("SELECT * FROM usage_records")}
    cut = rows["req_cut"]
    assert (cut["status"], cut["recovered"], cut["cost_pico_usd"]) == ("error", True, 0)
    assert (rows["req_done"]["status"], rows["req_done"]["recovered"]) == ("ok", False)
