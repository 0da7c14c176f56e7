"""The operator's side of the usage alerts' webhook outbox: what is owed, since when, and making
it due now (`aihub alerts outbox|retry`, the outbox gauges of `GET /metrics`). Part of the
`Store` protocol (`base.Store` inherits `AlertOutbox`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# A recorded crossing's state in the outbox: still to deliver, delivered, given up after failing
# for `give_up_after_hours` (until an operator retries it), or recorded while no webhook was
# configured (never sent).
OutboxState = Literal["owed", "delivered", "given_up", "unsent"]
MAX_OUTBOX_LIST = 10_000


@dataclass(frozen=True)
class OutboxEntry:
    """One recorded crossing as the operator sees it in the outbox."""

    event_id: str
    user_id: str
    user_email: str
    """Empty when the user has been deleted since."""
    alert_id: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str

    @property
    def state(self) -> OutboxState:
        """Owed, delivered, given up, or never to be sent (recorded with no webhook configured)."""
        if self.delivered_at is not None:
            return "delivered"
        if self.next_attempt_at is not None:
            return "owed"
        return "given_up" if self.attempts else "unsent"


@dataclass(frozen=True)
class OutboxSummary:
    """The owed events of the whole outbox (every process's and replica's)."""

    owed: int
    oldest: datetime | None
    """When the oldest owed event was recorded; None when nothing is owed."""


class AlertOutbox(Protocol):
    """The outbox's operator methods (see `base.Store` for what holds of every method)."""

    async def alert_outbox(self, limit: int, *, include_delivered: bool = False) -> list[OutboxEntry]:
        """The undelivered events (owed, and given up), oldest recorded first; with
        `include_delivered`, the most recent events whatever their state, newest first. At most
        `limit` (1 to MAX_OUTBOX_LIST, else ValueError); ties by event id."""
        ...

    async def alert_outbox_summary(self) -> OutboxSummary:
        """How many events are owed and when the oldest of them was recorded (one indexed read:
        cheap enough for every scrape)."""
        ...

    async def retry_alert_deliveries(self, now: datetime, event_ids: Sequence[str] | None) -> list[str]:
        """Make owed and given-up events due at `now` (all of them when `event_ids` is None): the
        delivery loops take them at their next poll instead of waiting out the backoff. Their
        attempts and last error stay; an attempt under way keeps its claim. The ids made due,
        sorted; any other id (unknown, delivered, unsent) is left out."""
        ...

    async def give_up_alert_delivery(
        self, event_id: str, recorded_before: datetime, error: str, *, claimed: datetime | None = None
    ) -> bool:
        """End a failed attempt by giving up on its event, if that was recorded before
        `recorded_before`: count the attempt, drop the claim, keep the error, and try it no more
        (until `retry_alert_deliveries`). False, changing nothing, for an event recorded since,
        delivered, unknown, or (with `claimed`, the `lease_until` the attempt's claim set) now
        held by another claim (`finish_alert_delivery` then ends the attempt)."""
        ...


def check_limit(limit: int) -> None:
    """ValueError for a listing's limit outside 1..MAX_OUTBOX_LIST."""
    if not 1 <= limit <= MAX_OUTBOX_LIST:
        raise ValueError(f"limit must be 1 to {MAX_OUTBOX_LIST}, not {limit}")
