"""The webhook's delivery loop against a real receiver on loopback: signed POSTs, retried with a
doubling, capped backoff on the loop's own clock (no real waiting), marked delivered on a 2xx."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from aihub_core.alerts.metrics import AlertMetrics
from aihub_core.alerts.webhook import WebhookConfig, WebhookDelivery, backoff, signature, verify
from aihub_core.store.base import AlertDelivery, AlertEvent, Store
from tests.alerts.conftest import SECRET, T0, Receiver


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


async def test_with_give_up_after_hours_an_event_is_retried_that_long_then_left_for_the_operator(
    store: Store, receiver: Receiver
) -> None:
    receiver.failures = 10_000
    now = [T0 + timedelta(minutes=5)]
    config = WebhookConfig(
        receiver.url, SECRET, retry_seconds=1800, max_retry_seconds=1800, give_up_after_hours=1
    )
    metrics = AlertMetrics(store, now=lambda: now[0])
    assert await store.fire_alert(AlertEvent("evt_1", "alert_1", "usr_1", "d2026-12-03", "{}", T0))
    async with aiohttp.ClientSession() as session:
        delivery = WebhookDelivery(store, config, session, now=lambda: now[0], metrics=metrics)
        assert await delivery.run_once() == 1  # refused 5 min after it was recorded: retried
        now[0] = T0 + timedelta(minutes=35)
        assert await delivery.run_once() == 1  # refused again: 35 min, still retried
        [entry] = await store.alert_outbox(10)
        assert (entry.state, entry.attempts) == ("owed", 2)
        now[0] = T0 + timedelta(minutes=65)
        assert await delivery.run_once() == 1  # refused past the hour: given up
        [entry] = await store.alert_outbox(10)
        assert (entry.state, entry.attempts, entry.last_error) == ("given_up", 3, "HTTP 500")
        now[0] = T0 + timedelta(days=30)
        assert await delivery.run_once() == 0  # never tried again on its own
        assert (await store.alert_outbox_summary()).owed == 0
        # The operator fixed the receiver and retries it: delivered at the next poll.
        receiver.failures = 0
        assert await store.retry_alert_deliveries(now[0], None) == ["evt_1"]
        assert await delivery.run_once() == 1
    [entry] = await store.alert_outbox(10, include_delivered=True)
    assert (entry.state, entry.attempts) == ("delivered", 4)
    counted = {
        sample.name: sample.value for family in metrics.registry.collect() for sample in family.samples
    }
    assert counted["aihub_alert_given_up_total"] == 1
    assert len(receiver.requests) == 4


async def test_a_redirect_is_a_failed_attempt_not_followed(store: Store) -> None:
    # A receiver answering 302 to another path: following it would GET there without the body (and
    # the signed headers), be answered 200 and mark the event delivered though it never arrived.
    seen: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", moved)
    app.router.add_route("*", "/elsewhere", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        config = WebhookConfig(url, SECRET, retry_seconds=10)
        assert await store.fire_alert(AlertEvent("evt_1", "alert_1", "usr_1", "d2026-12-03", "{}", T0))
        async with aiohttp.ClientSession() as session:
            delivery = WebhookDelivery(store, config, session, now=lambda: T0)
            assert await delivery.run_once() == 1
    finally:
        await runner.cleanup()
    assert seen == ["POST /hook"]
    [entry] = await store.alert_outbox(10)
    assert (entry.state, entry.attempts) == ("owed", 1)
    assert entry.last_error == "HTTP 302 (redirect to /elsewhere, not followed)"


async def test_an_event_whose_claim_waited_past_its_margin_is_not_sent_and_lapses(
    store: Store, receiver: Receiver
) -> None:
    # The claim query waited (a busy store) so long that the lease could lapse mid-POST: the event
    # is left to lapse rather than sent, and taken again (and sent) once its claim has ended.
    now = [T0]
    config = WebhookConfig(receiver.url, SECRET, timeout_seconds=10)  # a lease of 15 s
    assert await store.fire_alert(AlertEvent("evt_1", "alert_1", "usr_1", "d2026-12-03", "{}", T0))
    claim = store.claim_alert_deliveries

    async def slow_claim(at: datetime, until: datetime, limit: int) -> list[AlertDelivery]:
        claimed = await claim(at, until, limit)
        now[0] += timedelta(seconds=6)  # 9 s of the claim left, less than the timeout
        return claimed

    async with aiohttp.ClientSession() as session:
        delivery = WebhookDelivery(store, config, session, now=lambda: now[0])
        store.claim_alert_deliveries = slow_claim  # type: ignore[method-assign,assignment]
        assert await delivery.run_once() == 1
        assert receiver.requests == []
        now[0] = T0 + timedelta(seconds=10)
        assert await delivery.run_once() == 0  # still claimed
        store.claim_alert_deliveries = claim  # type: ignore[method-assign]
        now[0] = T0 + timedelta(seconds=16)
        assert await delivery.run_once() == 1
    assert len(receiver.requests) == 1
    assert await store.alert_outbox(10) == []


async def test_the_webhook_goes_through_the_environments_proxy_unless_no_proxy_exempts_it(
    store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver stands in for the proxy: a POST for an unresolvable host reaches it only
    # through HTTP_PROXY (in absolute form), as the providers' calls do.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    proxy = receiver.url.removesuffix("/hook")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    config = WebhookConfig("http://hooks.invalid/hook", SECRET, timeout_seconds=5)
    assert await store.fire_alert(AlertEvent("evt_1", "alert_1", "usr_1", "d2026-12-03", "{}", T0))
    async with aiohttp.ClientSession() as session:
        assert await WebhookDelivery(store, config, session, now=lambda: T0).run_once() == 1
        assert len(receiver.requests) == 1 and receiver.requests[0][0]["host"] == "hooks.invalid"
        assert await store.alert_outbox(10) == []
        # Exempted by NO_PROXY: sent directly, to a host that does not resolve.
        monkeypatch.setenv("NO_PROXY", "hooks.invalid")
        monkeypatch.setenv("no_proxy", "hooks.invalid")
        assert await store.fire_alert(AlertEvent("evt_2", "alert_1", "usr_1", "d2026-12-04", "{}", T0))
        assert await WebhookDelivery(store, config, session, now=lambda: T0).run_once() == 1
    assert len(receiver.requests) == 1
    [entry] = await store.alert_outbox(10)
    assert entry.event_id == "evt_2" and entry.attempts == 1 and entry.last_error
