"""The usage alerts' Prometheus figures, shown by `GET /metrics` of the process the core runs in.

Two kinds, for two kinds of truth:

- Counters of what this process did (crossings it recorded, delivery attempts it made by
  outcome, events it gave up on), in `registry`: several workers' counters are summed by prometheus_client's
  multiprocess mode, several replicas' by the query (`sum(rate(...))`), as for every counter.
- Gauges of the outbox, which is one table shared by every process and replica: read from the
  store when scraped (`read_now`: one count over the partial index of owed rows, paid per scrape
  rather than per poll of every delivery loop), so the figure is never stale, needs no delivery
  loop (a gateway without a webhook reports 0 owed) and is the same whichever process answers.
  Replicas each report the whole outbox: aggregate them with `max`, not `sum`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric

from aihub_core.store.outbox import AlertOutbox

OUTCOMES = ("delivered", "failed")


class AlertMetrics:
    """The usage alerts' counters of this process and the outbox's gauges read at scrape time."""

    def __init__(self, store: AlertOutbox, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._now = now
        self.registry = CollectorRegistry(auto_describe=True)
        self._crossings = Counter(
            "aihub_alert_crossings",
            "Usage alert crossings recorded (one per alert and period, by the process that recorded it).",
            registry=self.registry,
        )
        self._deliveries = Counter(
            "aihub_alert_deliveries",
            "Webhook delivery attempts of usage alert events, by outcome (delivered: a 2xx answer).",
            ("outcome",),
            registry=self.registry,
        )
        self._given_up = Counter(
            "aihub_alert_given_up",
            "Usage alert events this process stopped retrying ([alerts] give_up_after_hours).",
            registry=self.registry,
        )
        for outcome in OUTCOMES:  # both series exist from the start: rate() needs no first failure
            self._deliveries.labels(outcome)

    def crossed(self, count: int = 1) -> None:
        """This process recorded `count` crossings."""
        self._crossings.inc(count)

    def attempted(self, delivered: bool) -> None:
        """This process made one delivery attempt, answered with a 2xx or not."""
        self._deliveries.labels(OUTCOMES[0] if delivered else OUTCOMES[1]).inc()

    def gave_up(self) -> None:
        """This process gave up on an event after its last failed attempt."""
        self._given_up.inc()

    async def read_now(self) -> list[Metric]:
        """The outbox's gauges as the store holds them now."""
        summary = await self._store.alert_outbox_summary()
        age = 0.0 if summary.oldest is None else max(0.0, (self._now() - summary.oldest).total_seconds())
        return [
            GaugeMetricFamily(
                "aihub_alert_outbox_owed",
                "Usage alert events recorded and not yet delivered to the webhook (whole outbox).",
                value=summary.owed,
            ),
            GaugeMetricFamily(
                "aihub_alert_outbox_oldest_age_seconds",
                "Age of the oldest event owed to the webhook; 0 when nothing is owed.",
                value=age,
            ),
        ]
