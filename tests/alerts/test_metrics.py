"""The usage alerts' figures on the shim's `GET /metrics` (the core's `AlertMetrics` as a scrape
source, as `aihub serve` wires it): a crossing counted, a refused then an accepted delivery
counted by outcome, and the outbox's owed count and oldest age read from the store at each
scrape. The delivery loop runs on its own clock: no real waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from aihub_core.alerts.checker import AlertChecker
from aihub_core.alerts.metrics import AlertMetrics
from aihub_core.alerts.webhook import WebhookConfig, WebhookDelivery
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plans
from aihub_core.store.base import AlertRecord, Store, UsageRecord
from aihub_http import create_app
from tests.alerts.conftest import SECRET, T0, Receiver
from tests.http.fakes import serve_http

Figures = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def figures(exposition: str) -> Figures:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def alerts_of(scraped: Figures) -> dict[str, float]:
    """The usage alerts' samples (not the counters' `_created`), named with their outcome."""
    return {
        name + "".join(f"{{{value}}}" for _, value in labels): value
        for (name, labels), value in scraped.items()
        if name.startswith("aihub_alert_") and not name.endswith("_created")
    }


async def _nothing(user_id: str) -> None:
    return None


async def test_metrics_count_crossings_and_attempts_and_read_the_outbox_at_each_scrape(
    store: Store, receiver: Receiver
) -> None:
    receiver.failures = 1
    now = [T0]

    def clock() -> datetime:
        return now[0]

    metrics = AlertMetrics(store, now=clock)
    config = WebhookConfig(receiver.url, SECRET, retry_seconds=10)
    await store.create_alert(AlertRecord("alert_one", "usr_1", "", "requests", 0, "", 1, "day", T0))
    await store.record_usage(
        UsageRecord("req_1", "usr_1", None, "openrouter", "m", 1, 1, 0, "ok", "provider", T0)
    )
    checker = AlertChecker(store, deliver=True, fired=_nothing, now=clock, metrics=metrics)
    app = create_app("127.0.0.1:9", registry=CollectorRegistry(), metric_sources=(metrics,))
    async with (
        serve_http(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
        aiohttp.ClientSession() as session,
    ):

        async def scrape() -> dict[str, float]:
            answered = await client.get("/metrics")
            assert answered.status_code == 200
            return alerts_of(figures(answered.text))

        assert await scrape() == {
            "aihub_alert_crossings_total": 0,
            "aihub_alert_deliveries_total{delivered}": 0,
            "aihub_alert_deliveries_total{failed}": 0,
            "aihub_alert_given_up_total": 0,
            "aihub_alert_outbox_owed": 0,
            "aihub_alert_outbox_oldest_age_seconds": 0,
        }
        caller = Caller("usr_1", Plans().get("free"), has_alerts=True)
        assert len(await checker.check(caller)) == 1
        assert len(await checker.check(caller)) == 0  # fired this period already: not counted again
        delivery = WebhookDelivery(store, config, session, now=clock, metrics=metrics)
        now[0] = T0 + timedelta(seconds=30)
        assert await delivery.run_once() == 1  # refused (500)
        scraped = await scrape()
        assert scraped["aihub_alert_crossings_total"] == 1
        assert scraped["aihub_alert_deliveries_total{failed}"] == 1
        assert scraped["aihub_alert_deliveries_total{delivered}"] == 0
        assert scraped["aihub_alert_outbox_owed"] == 1
        assert scraped["aihub_alert_outbox_oldest_age_seconds"] == 30  # recorded at T0

        now[0] = T0 + timedelta(seconds=40)  # the backoff's 10 s later: accepted (204)
        assert await delivery.run_once() == 1
        scraped = await scrape()
        assert scraped["aihub_alert_deliveries_total{failed}"] == 1
        assert scraped["aihub_alert_deliveries_total{delivered}"] == 1
        assert (scraped["aihub_alert_outbox_owed"], scraped["aihub_alert_outbox_oldest_age_seconds"]) == (
            0,
            0,
        )
        assert len(receiver.requests) == 2

        # A store that cannot be read leaves the gauges out; /metrics still answers the rest.
        await store.close()
        scraped = await scrape()
        assert "aihub_alert_outbox_owed" not in scraped
        assert scraped["aihub_alert_deliveries_total{delivered}"] == 1
        await store.open()
