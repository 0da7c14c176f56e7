"""Request logs over REST: one row per call from the ledger, filters, cursor pages that stay stable
while calls are made, and the CSV export streamed in chunks."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from aihub_core.app import Core
from aihub_core.store.base import UsageRecord
from tests.conftest import Account, make_account

DEV = "/v1/developer"
LOGS = f"{DEV}/usage/logs"
SECRET_PROMPT = "the launch code is swordfish"


async def _chat(http: httpx.AsyncClient, account: Account, model: str = "x-ai/grok-beta") -> str:
    answer = await http.post(
        f"{DEV}/chat", json={"message": SECRET_PROMPT, "model": model}, headers=account.key_auth
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["x-request-id"]


async def _enterprise(core: Core, http: httpx.AsyncClient) -> Account:
    account = await make_account(http, "logs@example.com", name="main key")
    assert await core.store.set_plan(account.email, "enterprise")  # room for bursts of calls
    return account


async def test_each_call_is_one_row_newest_first_without_its_prompt(
    core: Core, http: httpx.AsyncClient
) -> None:
    account = await _enterprise(core, http)
    first = await _chat(http, account)
    second = await _chat(http, account, "gemini-1.5-flash")
    refused = await http.post(f"{DEV}/chat", json={"message": "x", "model": "nope"}, headers=account.key_auth)
    assert refused.status_code == 404

    page = await http.get(LOGS, headers=account.key_auth)
    assert page.status_code == 200, page.text
    body = page.json()
    assert [row["request_id"] for row in body["logs"]] == [second, first]
    assert body["next_page_token"] == ""
    row = body["logs"][1]
    usage = (await http.get(f"{DEV}/usage", headers=account.key_auth)).json()
    assert row["key_id"] == account.key_id and row["key_name"] == "main key"
    assert row["service"] == "openrouter" and row["model"] == "x-ai/grok-beta" and row["status"] == "ok"
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0 and row["usage_source"] == "provider"
    assert row["response_time_ms"] >= 0 and row["created_at"].endswith("Z")
    # Each row's cost as printed adds up exactly to the /usage total.
    assert sum(Decimal(repr(r["cost_usd"])) for r in body["logs"]) == Decimal(repr(usage["total_cost_usd"]))
    assert body["logs"][0]["service"] == "gemini"
    assert SECRET_PROMPT not in page.text


async def test_filters_by_model_status_key_and_time(core: Core, http: httpx.AsyncClient) -> None:
    account = await _enterprise(core, http)
    other = await http.post(f"{DEV}/api-keys", json={"name": "ci"}, headers=account.jwt_auth)
    ci = Account(account.email, account.token, other.json()["key"], other.json()["id"])
    grok = await _chat(http, account)
    gemini = await _chat(http, ci, "gemini-1.5-flash")
    await core.store.record_usage(
        UsageRecord(
            request_id="req_failed",
            user_id=(await core.store.get_user_by_email(account.email)).id,  # type: ignore[union-attr]
            key_id=ci.key_id,
            service="gemini",
            model="gemini-1.5-flash",
            prompt_tokens=0,
            completion_tokens=0,
            cost_pico_usd=0,
            status="error",
            usage_source="none",
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )

    async def ids(**params: str) -> list[str]:
        answer = await http.get(LOGS, params=params, headers=account.key_auth)
        assert answer.status_code == 200, answer.text
        return [row["request_id"] for row in answer.json()["logs"]]

    assert await ids(model="x-ai/grok-beta") == [grok]
    assert await ids(key_id=ci.key_id) == [gemini, "req_failed"]
    assert await ids(status="error") == ["req_failed"]
    assert await ids(key_id=ci.key_id, status="ok") == [gemini]
    assert await ids(end="2021-01-01") == ["req_failed"]
    assert await ids(start="2020-01-01T00:00:00Z", end="2020-01-01T00:00:00.000001Z") == ["req_failed"]
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert await ids(start=recent) == [gemini, grok]

    bad = await http.get(LOGS, params={"status": "great"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "status"
    bad = await http.get(LOGS, params={"start": "yesterday"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "start"
    bad = await http.get(LOGS, params={"page_token": "bm9wZQ"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_page_token"
    bad = await http.get(LOGS, params={"format": "xml"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "format"
    jwt = await http.get(LOGS, headers=account.jwt_auth)  # the web console reads them so
    assert jwt.status_code == 200


async def test_pages_stay_stable_while_calls_are_made(core: Core, http: httpx.AsyncClient) -> None:
    account = await _enterprise(core, http)
    before = [await _chat(http, account) for _ in range(7)]
    seen: list[str] = []
    token = ""
    made: list[str] = []
    while True:
        # Each page is read while new calls run and land in the ledger.
        page, *new = await asyncio.gather(
            http.get(LOGS, params={"page_size": 2, "page_token": token}, headers=account.key_auth),
            _chat(http, account),
            _chat(http, account),
        )
        made += new
        body = page.json()
        seen += [row["request_id"] for row in body["logs"]]
        token = body["next_page_token"]
        if not token:
            break
    first_page = seen[:2]
    rest = seen[2:]
    assert set(rest) <= set(before), "a call made after the first page never shifts the later pages"
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)
    assert [r for r in seen if r in before] == before[::-1]
    everything = await http.get(LOGS, params={"page_size": 1000}, headers=account.key_auth)
    assert {row["request_id"] for row in everything.json()["logs"]} == set(before) | set(made) | set(
        first_page
    )


async def test_csv_streams_every_row_in_chunks(core: Core, http: httpx.AsyncClient) -> None:
    account = await _enterprise(core, http)
    chat = await _chat(http, account)
    user = await core.store.get_user_by_email(account.email)
    assert user is not None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # More rows than one export batch, written straight to the ledger (a chat per row is slow).
    for i in range(1100):
        await core.store.record_usage(
            UsageRecord(
                request_id=f"req_bulk_{i:04}",
                user_id=user.id,
                key_id=account.key_id,
                service="openrouter",
                model="openai/gpt-4o-mini",
                prompt_tokens=i,
                completion_tokens=1,
                cost_pico_usd=i * 1000,
                status="ok",
                usage_source="provider",
                created_at=start + timedelta(seconds=i),
                response_time_ms=i % 97,
            )
        )
    chunks: list[bytes] = []
    async with http.stream("GET", LOGS, params={"format": "csv"}, headers=account.key_auth) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "content-length" not in answer.headers  # streamed, not one body
        async for chunk in answer.aiter_raw():
            chunks.append(chunk)
    assert len(chunks) >= 3  # the header and at least two batches went out as they came
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 1101
    assert rows[0]["request_id"] == chat
    assert [r["request_id"] for r in rows[1:]] == [f"req_bulk_{i:04}" for i in reversed(range(1100))]
    last = rows[-1]
    assert (
        last["key_name"] == "main key"
        and last["prompt_tokens"] == "0"
        and last["created_at"] == ("2026-01-01T00:00:00Z")
    )
    assert float(rows[1]["cost_usd"]) == 1099 * 1000 / 10**12
    assert SECRET_PROMPT not in b"".join(chunks).decode()

    filtered = await http.get(
        LOGS, params={"format": "csv", "model": "x-ai/grok-beta"}, headers=account.key_auth
    )
    assert [r["request_id"] for r in csv.DictReader(io.StringIO(filtered.text))] == [chat]
    empty = await http.get(LOGS, params={"format": "csv", "model": "nope"}, headers=account.key_auth)
    assert empty.status_code == 200 and empty.text.startswith("request_id,created_at,")
    assert len(empty.text.splitlines()) == 1
    bad = await http.get(LOGS, params={"format": "csv", "status": "x"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "status"
