"""Request logs: the ledger's rows newest first, filtered, in keyset pages that stay stable while
new calls are written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aihub_core.store.base import Store, UsageLogQuery, UserRecord
from tests.store.conftest import KeyFactory, UsageFactory, pending

T = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def _all_pages(store: Store, user_id: str, query: UsageLogQuery) -> list[list[str]]:
    pages: list[list[str]] = []
    while True:
        page = await store.usage_logs(user_id, query)
        if not page:
            return pages
        pages.append([entry.record.request_id for entry in page])
        query = replace(query, after=page[-1].cursor)


async def test_rows_come_newest_first_with_their_key_names_and_every_field(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    first = replace(usage("r1", alice.id, cost=0.25, created_at=T), key_id="key_a", response_time_ms=840)
    await store.record_usage(first)
    await store.record_usage(usage("r2", alice.id, status="refused", created_at=T + timedelta(seconds=1)))
    await store.reserve_usage(pending(usage, "r3", alice.id, T + timedelta(seconds=2)))
    await store.record_usage(usage("bob", bob.id, created_at=T + timedelta(seconds=3)))
    await store.delete_api_key(alice.id, "key_a")

    logs = await store.usage_logs(alice.id, UsageLogQuery())
    assert [e.record.request_id for e in logs] == ["r3", "r2", "r1"]
    assert [e.record.status for e in logs] == ["pending", "refused", "ok"]
    assert logs[0].settled_at is None and logs[1].settled_at is not None
    oldest = logs[2]
    assert oldest.record == first  # the record as settled, its created_at the same instant
    assert oldest.key_name == "key key_a"  # a deleted key keeps its name in the logs
    assert logs[1].key_name is None


async def test_filters_combine(
    store: Store, alice: UserRecord, usage: UsageFactory, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    await store.create_api_key(api_key("key_b", alice.id))
    for i in range(8):
        record = usage(
            f"r{i}",
            alice.id,
            status="ok" if i % 2 else "error",
            created_at=T + timedelta(minutes=i),
        )
        model = "gemini-pro" if i < 4 else "x-ai/grok-beta"
        await store.record_usage(replace(record, model=model, key_id="key_a" if i % 3 else "key_b"))

    async def ids(query: UsageLogQuery) -> list[str]:
        return [e.record.request_id for e in await store.usage_logs(alice.id, query)]

    assert await ids(UsageLogQuery(model="gemini-pro")) == ["r3", "r2", "r1", "r0"]
    assert await ids(UsageLogQuery(status="error", key_id="key_a")) == ["r4", "r2"]
    window = UsageLogQuery(start=T + timedelta(minutes=2), end=T + timedelta(minutes=5))
    assert await ids(window) == ["r4", "r3", "r2"]  # start inclusive, end exclusive
    assert await ids(UsageLogQuery(model="nope")) == []


async def test_pages_list_every_row_once_while_new_calls_are_written(
    store: Store, alice: UserRecord, usage: UsageFactory
) -> None:
    # Ties on created_at are broken by request id, so a page boundary inside a tie loses nothing.
    for i in range(25):
        await store.record_usage(usage(f"old-{i:02}", alice.id, created_at=T + timedelta(seconds=i // 3)))
    query = UsageLogQuery(limit=4)
    seen: list[str] = []
    page = await store.usage_logs(alice.id, query)
    newer = 0
    while page:
        seen += [e.record.request_id for e in page]
        # Calls land between two page reads: new reservations and settlements, later in time.
        newer += 1
        at = T + timedelta(minutes=newer)
        await store.reserve_usage(pending(usage, f"new-{newer}", alice.id, at))
        await store.record_usage(usage(f"new-{newer}", alice.id, created_at=at + timedelta(seconds=1)))
        page = await store.usage_logs(alice.id, replace(query, after=page[-1].cursor))
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen, key=lambda r: (int(r[4:]) // 3, r), reverse=True)
    pages = await _all_pages(store, alice.id, UsageLogQuery(limit=1000))
    assert len(pages[0]) == 25 + newer


@pytest.mark.parametrize("limit", [0, 10_001])
async def test_a_page_length_out_of_range_is_refused(store: Store, alice: UserRecord, limit: int) -> None:
    with pytest.raises(ValueError):
        await store.usage_logs(alice.id, UsageLogQuery(limit=limit))


async def test_naive_times_are_refused(store: Store, alice: UserRecord) -> None:
    with pytest.raises(ValueError):
        await store.usage_logs(alice.id, UsageLogQuery(start=datetime(2026, 5, 1)))
