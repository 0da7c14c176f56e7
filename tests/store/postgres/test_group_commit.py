"""What the PostgreSQL store keeps beyond the contract: settlements share transactions (group
commit) and land in the rollup exactly; the password of its URL appears in no log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aihub_core.store import open_store, rows
from aihub_core.store.base import StoreOptions, UsageRecord, UserRecord
from aihub_core.store.postgres._ledger import LedgerWrite, LedgerWriter, Reservation, Settlement, merge
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


async def test_a_reservation_and_its_settlement_in_one_batch_leave_the_row_both_would(
    schema: PostgresSchema,
) -> None:
    """Folded into one row (`_ledger.merge`): the reservation's admission time, key and owner, the
    settlement's outcome; another user's settlement is not folded and changes nothing."""
    store = open_store(schema.url, StoreOptions(keep_lease=False))
    await store.open()
    try:
        await store.create_user(UserRecord("usr_1", "one@example.com", "h", "free", T0))
        await store.create_user(UserRecord("usr_2", "two@example.com", "h", "free", T0))
        settled_at = T0 + timedelta(seconds=5)
        for request_id in ("req_1", "req_2"):
            reservation = replace(
                settlement(request_id, 0), key_id="key_1", status="pending", usage_source="none"
            )
            store.queue_reservation(reservation)
        theirs = replace(settlement("req_2", 9), user_id="usr_2", created_at=settled_at)
        await asyncio.gather(
            store.record_usage(replace(settlement("req_1", 7), created_at=settled_at)),
            store.record_usage(theirs),
        )
        rows = {
            r["request_id"]: dict(r)
            for r in await schema.fetch(
                "SELECT request_id, user_id, key_id, owner, status, created_at, settled_at, cost_pico_usd "
                "FROM usage_records"
            )
        }
    finally:
        await store.close()
    assert rows["req_1"] == {
        "request_id": "req_1",
        "user_id": "usr_1",
        "key_id": "key_1",
        "owner": store.owner,
        "status": "ok",
        "created_at": T0,
        "settled_at": settled_at,
        "cost_pico_usd": 7,
    }
    assert (rows["req_2"]["user_id"], rows["req_2"]["status"]) == ("usr_1", "pending")


def test_merge_folds_a_reservation_into_its_own_later_settlement_only() -> None:
    admitted, settled_at = T0, T0 + timedelta(seconds=5)
    mine = rows.reservation_row(replace(settlement("req_1", 0), key_id="key_1", status="pending"), "me")
    other = rows.reservation_row(replace(settlement("req_2", 0), status="pending"), "me")
    settled = rows.settled_row(replace(settlement("req_1", 7), created_at=settled_at))
    foreign = rows.settled_row(replace(settlement("req_2", 7), user_id="usr_2", created_at=settled_at))
    early = rows.settled_row(replace(settlement("req_3", 7), created_at=settled_at))
    late = rows.reservation_row(replace(settlement("req_3", 0), status="pending"), "me")
    writes: list[LedgerWrite] = [
        Reservation(mine),
        Reservation(other),
        Settlement(settled),
        Settlement(foreign),
    ]
    merged = merge([*writes, Settlement(early), Reservation(late)])
    assert merged[0] == Reservation(other)  # its settlement names another user: not folded
    [folded] = [w for w in merged if isinstance(w, Settlement) and w.row["request_id"] == "req_1"]
    assert (folded.row["created_at"], folded.row["key_id"], folded.row["owner"]) == (admitted, "key_1", "me")
    assert (folded.row["settled_at"], folded.row["cost_pico_usd"]) == (settled_at, 7)
    assert merged[-2:] == [Settlement(early), Reservation(late)]  # a late reservation stays after
    assert len(merged) == 5
