"""Usage alerts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._common import raw_field


@dataclass(frozen=True)
class AlertFigures:
    """What an alert measures now: the usage this period and the amount it fires at (USD for
    `cost_usd`, a count for `requests` and `tokens`)."""

    observed: float
    limit: float


@dataclass(frozen=True)
class Alert:
    """A usage alert: `threshold` of `of` (`budget` or `quota`), or an absolute `value` per
    `period`; the gateway's webhook and `quota/watch` hear when it fires, once per period."""

    id: str
    name: str
    metric: str
    threshold: float
    of: str
    value: float
    period: str
    created_at: str | None
    last_fired_at: str | None
    current: AlertFigures
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class CreatedAlert:
    """The answer of `POST /v1/developer/alerts`: the new alert."""

    alert: Alert
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class AlertList:
    """The answer of `GET /v1/developer/alerts`, oldest first; iterating it yields the alerts."""

    alerts: tuple[Alert, ...]
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()

    def __iter__(self) -> Iterator[Alert]:
        return iter(self.alerts)

    def __len__(self) -> int:
        return len(self.alerts)


@dataclass(frozen=True)
class DeletedAlert:
    """The answer of `DELETE /v1/developer/alerts/{alert_id}`."""

    id: str
    deleted: bool
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()
