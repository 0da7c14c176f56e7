"""The webhook's delivery loop against a real receiver on loopback: signed POSTs, retried with a
doubling, capped backoff on the loop's own clock (no real waiting), marked delivered on a 2xx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from aihub_core.alerts.webhook import WebhookConfig, WebhookDelivery, backoff, signature, verify
from aihub_core.store import open_store
from aihub_core.store.base import AlertEvent, AlertRecord, Store, StoreOptions, UserRecord

SECRET = "whsec-0123456789abcdef"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@dataclass
class Receiver:
    """A webhook receiver that answers 500 to its first `failures` requests."""

    failures: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        if len(self.requests) <= self.failures:
            return web.Response(status=500)
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    app = web.Application()
    app.router.add_post("/hook", made.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    made.url = f"http://127.0.0.1:{port}/hook"
    yield made
    await runner.cleanup()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'aihub.db'}", StoreOptions(keep_lease=False))
    await opened.open()
    await opened.create_user(UserRecord("usr_1", "a@example.com", "h", "free", T0))
    await opened.create_alert(AlertRecord("alert_1", "usr_1", "", "requests", 0, "", 5, "day", T0))
    yield opened
    await opened.close()


def test_backoff_doubles_from_the_first_delay_up_to_the_cap() -> None:
    config = WebhookConfig("http://x", SECRET, retry_seconds=5, max_retry_seconds=60)
    assert [backoff(config, n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert backoff(config, 10_000) == 60


def test_a_signature_verifies_only_with_its_secret_body_and_a_recent_timestamp() -> None:
    body = b'{"id":"evt_1"}'
    headers = {"x-aihub-timestamp": "1700000000", "x-aihub-signature": signature(SECRET, 1700000000, body)}
    assert verify(SECRET, headers, body, now=1700000010)
    assert not verify("another-secret-0123", headers, body, now=1700000010)
    assert not verify(SECRET, headers, body + b" ", now=1700000010)
    assert not verify(SECRET, headers, body, now=1700000000 + 301)  # a replay, too late
    assert not verify(SECRET, {**headers, "x-aihub-timestamp": "1700000001"}, body, now=1700000010)


async def test_failed_deliveries_are_retried_with_backoff_until_one_succeeds(
    store: Store, receiver: Receiver
) -> None:
    receiver.failures = 2
    now = [T0]
    config = WebhookConfig(receiver.url, SECRET, retry_seconds=10, max_retry_seconds=15)
    payload = json.dumps({"id": "evt_1", "type": "usage_alert"})
    assert await store.fire_alert(AlertEvent("evt_1", "alert_1", "usr_1", "d2026-12-03", payload, T0))
    async with aiohttp.ClientSession() as session:
        delivery = WebhookDelivery(store, config, session, now=lambda: now[0])
        assert await delivery.run_once() == 1  # 500
        now[0] = T0 + timedelta(seconds=9)
        assert await delivery.run_once() == 0  # not due for 10 s
        now[0] = T0 + timedelta(seconds=10)
        assert await delivery.run_once() == 1  # 500 again: due in 15 s (the cap), not 20
        now[0] = T0 + timedelta(seconds=25)
        assert await delivery.run_once() == 1  # 204
        now[0] = T0 + timedelta(days=1)
        assert await delivery.run_once() == 0  # delivered: never again
    assert len(receiver.requests) == 3
    for headers, body in receiver.requests:
        assert body == payload.encode()
        assert headers["x-aihub-event-id"] == "evt_1" and headers["content-type"] == "application/json"
        assert verify(SECRET, headers, body, now=float(headers["x-aihub-timestamp"]))
    stamps = [int(h["x-aihub-timestamp"]) for h, _ in receiver.requests]
    assert stamps == [int(T0.timestamp()), int(T0.timestamp()) + 10, int(T0.timestamp()) + 25]


async def test_an_unreachable_receiver_is_retried_like_a_failing_one(store: Store) -> None:
    now = [T0]
    config = WebhookConfig("http://127.0.0.1:9/hook", SECRET, retry_seconds=1, timeout_seconds=2)
    assert await store.fire_alert(AlertEvent("evt_1", "alert_1", "usr_1", "d2026-12-03", "{}", T0))
    async with aiohttp.ClientSession() as session:
        delivery = WebhookDelivery(store, config, session, now=lambda: now[0])
        assert await delivery.run_once() == 1
        assert await delivery.run_once() == 0
        now[0] = T0 + timedelta(seconds=1)
        assert await delivery.run_once() == 1
