"""Usage alerts and their crossings as UsageService messages."""

from __future__ import annotations

import json

from aihub.v1 import usage_service_pb2 as pb
from aihub_core.alerts.manager import AlertView
from aihub_core.alerts.rules import shown
from aihub_core.grpc_api.convert import timestamp
from aihub_core.store.base import AlertEvent


def alert(view: AlertView) -> pb.Alert:
    record, seen = view.alert, view.measure
    fired = record.last_fired_at
    return pb.Alert(
        id=record.id,
        name=record.name,
        metric=record.metric,
        threshold=record.threshold,
        of=record.of,
        value=0.0 if record.of else shown(record.metric, record.amount),
        period=seen.period,
        created_at=timestamp(record.created_at),
        last_fired_at=None if fired is None else timestamp(fired),
        current=pb.AlertFigures(
            observed=shown(record.metric, view.observed), limit=shown(record.metric, seen.limit)
        ),
    )


def alert_event(event: AlertEvent) -> pb.AlertEvent:
    """A crossing as WatchQuota shows it, read back from the webhook body it was recorded with."""
    body = json.loads(event.payload)
    return pb.AlertEvent(
        event_id=event.id,
        alert_id=event.alert_id,
        metric=str(body["metric"]),
        observed=float(body["observed"]),
        limit=float(body["limit"]),
        period=str(body["period"]),
        period_start=str(body["period_start"]),
        created_at=timestamp(event.created_at),
    )
