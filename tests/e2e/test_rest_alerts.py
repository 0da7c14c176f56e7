"""Usage alerts over REST: set, listed with their figures, deleted; meaningless ones refused
naming the field; a crossing recorded once per period and shown on the live quota stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Account
from tests.waiting import eventually

ALERTS = "/v1/developer/alerts"


async def _alerts(http: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    listed = await http.get(ALERTS, headers=account.jwt_auth)
    assert listed.status_code == 200, listed.text
    alerts: list[dict[str, Any]] = listed.json()["alerts"]
    return alerts


async def test_alerts_are_set_listed_oldest_first_and_deleted(
    http: httpx.AsyncClient, account: Account
) -> None:
    quota = await http.post(
        ALERTS,
        json={"metric": "requests", "threshold": 0.8, "of": "quota", "name": "80 %"},
        headers=account.jwt_auth,
    )
    assert quota.status_code == 201, quota.text
    alert = quota.json()["alert"]
    assert alert["id"].startswith("alert_") and alert["name"] == "80 %"
    assert (alert["metric"], alert["threshold"], alert["of"], alert["value"], alert["period"]) == (
        "requests",
        0.8,
        "quota",
        0,
        "month",
    )
    assert alert["last_fired_at"] is None and alert["created_at"]
    assert alert["current"] == {"observed": 0, "limit": 800}  # 80 % of the free plan's 1000
    spend = await http.post(
        ALERTS, json={"metric": "cost_usd", "value": 2.5, "period": "day"}, headers=account.jwt_auth
    )
    assert spend.status_code == 201, spend.text
    assert spend.json()["alert"]["current"] == {"observed": 0, "limit": 2.5}
    assert [a["id"] for a in await _alerts(http, account)] == [alert["id"], spend.json()["alert"]["id"]]
    deleted = await http.delete(f"{ALERTS}/{alert['id']}", headers=account.jwt_auth)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": True, "id": alert["id"]}
    again = await http.delete(f"{ALERTS}/{alert['id']}", headers=account.jwt_auth)
    assert again.status_code == 404 and again.json()["error"]["code"] == "alert_not_found"
    assert [a["id"] for a in await _alerts(http, account)] == [spend.json()["alert"]["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "tokens", "threshold": 0.5, "of": "quota"}, "of"),
        ({"metric": "requests", "threshold": 0.5, "of": "budget"}, "of"),
        ({"metric": "cost_usd", "threshold": 0.5, "of": "budget"}, "of"),  # the account has no budget
        ({"metric": "requests", "threshold": 0.5}, "of"),
        ({"metric": "requests", "threshold": 1.5, "of": "quota"}, "threshold"),
        ({"metric": "requests", "threshold": 0.5, "of": "quota", "value": 3}, "value"),
        ({"metric": "requests", "threshold": 0.5, "of": "quota", "period": "day"}, "period"),
        ({"metric": "requests"}, "threshold"),
        ({"metric": "requests", "value": 0}, "value"),
        ({"metric": "cost_usd", "value": 1e-13}, "value"),  # a limit of 0 pico-USD: could never fire
        ({"metric": "cost_usd", "value": 0.00000099}, "value"),
        ({"metric": "requests", "value": 0.5}, "value"),
        ({"metric": "tokens", "value": 0.999}, "value"),
        ({"metric": "requests", "value": 5, "of": "quota"}, "of"),
        ({"metric": "requests", "value": 5, "period": "week"}, "period"),
        ({"metric": "latency", "value": 5}, "metric"),
        ({"metric": "tokens", "value": 5, "name": "x" * 101}, "name"),
    ],
)
async def test_meaningless_alerts_are_refused_naming_the_field(
    http: httpx.AsyncClient, account: Account, body: dict[str, Any], field: str
) -> None:
    refused = await http.post(ALERTS, json=body, headers=account.jwt_auth)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["type"] == "invalid_request_error" and error["details"]["parameter"] == field, error
    assert await _alerts(http, account) == []


async def test_alerts_take_the_login_token_not_an_api_key(http: httpx.AsyncClient, account: Account) -> None:
    refused = await http.get(ALERTS, headers=account.key_auth)
    assert refused.status_code == 401, refused.text


async def test_a_crossing_fires_once_in_the_period_and_reaches_the_live_quota(
    http: httpx.AsyncClient, account: Account
) -> None:
    made = await http.post(
        ALERTS, json={"metric": "requests", "value": 2, "period": "day"}, headers=account.jwt_auth
    )
    alert_id = made.json()["alert"]["id"]
    async with http.stream("GET", "/v1/developer/quota/watch", headers=account.jwt_auth) as response:
        lines = response.aiter_lines()
        assert (await _next_event(lines))["type"] == "quota"
        for _ in range(4):
            chat = await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth)
            assert chat.status_code == 200, chat.text
        event = await _next_event(lines, "alert")
    assert event["alert_id"] == alert_id and event["event_id"].startswith("evt_")
    assert (event["metric"], event["limit"], event["period"]) == ("requests", 2, "day")
    assert event["observed"] >= 2

    async def fired() -> bool:
        return (await _alerts(http, account))[0]["last_fired_at"] is not None

    await eventually(fired, "the alert's last_fired_at")
    [alert] = await _alerts(http, account)
    assert alert["current"] == {"observed": 4, "limit": 2}
    # More calls in the same day fire nothing more: the one event stays the only one.
    for _ in range(2):
        await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth)
    await asyncio.sleep(0.2)
    assert (await _alerts(http, account))[0]["last_fired_at"] == alert["last_fired_at"]


async def test_an_alert_already_crossed_fires_when_it_is_set(
    http: httpx.AsyncClient, account: Account
) -> None:
    await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth)
    await http.post(ALERTS, json={"metric": "tokens", "value": 1}, headers=account.jwt_auth)

    async def fired() -> bool:
        return (await _alerts(http, account))[0]["last_fired_at"] is not None

    await eventually(fired, "the already crossed alert firing")


async def _next_event(lines: AsyncIterator[str], kind: str = "") -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async for line in lines:
            if line.startswith("data:"):
                event: dict[str, Any] = json.loads(line[5:])
                if not kind or event["type"] == kind:
                    return event
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), timeout=10)


async def test_an_account_holds_at_most_fifty_alerts(http: httpx.AsyncClient, account: Account) -> None:
    for n in range(50):
        made = await http.post(ALERTS, json={"metric": "tokens", "value": 1000 + n}, headers=account.jwt_auth)
        assert made.status_code == 201, made.text
    refused = await http.post(ALERTS, json={"metric": "tokens", "value": 5}, headers=account.jwt_auth)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "too_many_alerts"
