"""What the PostgreSQL store keeps beyond the contract: settlements share transactions (group
commit) and land in the rollup exactly; the password of its URL appears in no log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from aihub_core.store import open_store
from aihub_core.store.base import StoreOptions, UsageRecord, UserRecord
from aihub_core.store.postgres._ledger import LedgerWrite, LedgerWriter
from tests.postgres import PostgresSchema

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 31, 12, tzinfo=UTC)


def settlement(request_id: str, cost: int) -> UsageRecord:
    return UsageRecord(request_id, "usr_1", None, "openrouter", "m", 3, 4, cost, "ok", "provider", T0)


async def test_concurrent_settlements_share_transactions_and_sum_exactly(
    schema: PostgresSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    transactions: list[int] = []
    original = LedgerWriter._transaction

    async def counted(self: LedgerWriter, writes: Sequence[LedgerWrite]) -> None:
        transactions.append(len(writes))
        await original(self, writes)

    monkeypatch.setattr(LedgerWriter, "_transaction", counted)
    store = open_store(schema.url, StoreOptions(keep_lease=False))
    await store.open()
    try:
        await store.create_user(UserRecord("usr_1", "one@example.com", "h", "free", T0))
        await asyncio.gather(*(store.record_usage(settlement(f"req_{i}", 1_000_003 * i)) for i in range(300)))
        [day] = await store.daily_usage("usr_1", T0.date(), T0.date())
    finally:
        await store.close()
    assert sum(transactions) == 300
    assert len(transactions) < 300 / 4  # batches of many settlements, one commit each
    assert (day.requests, day.tokens, day.cost_pico_usd) == (300, 2100, 1_000_003 * sum(range(300)))


async def test_the_urls_password_is_in_no_log_line(
    schema: PostgresSchema, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "pa55-w0rd-never-shown"
    url = schema.url.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@")
    assert secret in url  # trust auth: the server ignores it, so the store opens and logs
    with caplog.at_level(logging.DEBUG):
        store = open_store(url, StoreOptions(keep_lease=False))
        await store.open()
        await store.close()
    assert "migrated to version" in caplog.text
    assert secret not in caplog.text
