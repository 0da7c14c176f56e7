"""`aihub alerts outbox`: the usage alerts' webhook outbox as a table (what is owed or was given
up, or with `--all` the most recent events); `aihub alerts retry`: make those due now, so a
receiver that was fixed hears of them at the gateway's next poll instead of after the backoff."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from aihub_cli.users import opened_store
from aihub_core.settings import Settings
from aihub_core.store.outbox import OutboxEntry

_COLUMNS = ("EVENT", "USER", "ALERT", "CREATED", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR")


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(entry: OutboxEntry, with_state: bool) -> tuple[str, ...]:
    # A delivered event's next attempt is when it was delivered: show the delivery instead.
    next_attempt = {"owed": _when(entry.next_attempt_at), "given_up": "given up"}.get(entry.state, "-")
    cells = (
        entry.event_id,
        entry.user_email or entry.user_id,
        entry.alert_id,
        _when(entry.created_at),
        str(entry.attempts),
        next_attempt,
        entry.last_error.replace("\n", " ") or "-",
    )
    return (*cells[:-1], entry.state, _when(entry.delivered_at), cells[-1]) if with_state else cells


def table(entries: Sequence[OutboxEntry], with_state: bool) -> str:
    """The entries as aligned columns under a header (the last column unpadded: errors are long)."""
    header = (*_COLUMNS[:-1], "STATE", "DELIVERED", _COLUMNS[-1]) if with_state else _COLUMNS
    lines = [header, *(_row(entry, with_state) for entry in entries)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)), line[-1]])
        for line in lines
    )


async def show_outbox(settings: Settings, include_delivered: bool, limit: int, out: TextIO) -> int:
    """Print the undelivered events, owed or given up (oldest first), or with `include_delivered`
    the most recent `limit` events (newest first); 0."""
    async with opened_store(settings) as store:
        entries = await store.alert_outbox(limit, include_delivered=include_delivered)
        summary = await store.alert_outbox_summary()
    if entries:
        print(table(entries, include_delivered), file=out)
    oldest = "" if summary.oldest is None else f", the oldest recorded {_when(summary.oldest)}"
    print(f"{summary.owed} event(s) owed{oldest}", file=out)
    return 0


async def retry(settings: Settings, event_ids: Sequence[str] | None, out: TextIO) -> int:
    """Make the owed or given-up events named (all with None) due now; 0, or 1 when a named one
    is neither."""
    async with opened_store(settings) as store:
        made_due = await store.retry_alert_deliveries(datetime.now(UTC), event_ids)
    print(f"{len(made_due)} event(s) due now: a running gateway sends them at its next poll", file=out)
    for event_id in made_due:
        print(f"  {event_id}", file=out)
    missed = sorted(set(event_ids or ()) - set(made_due))
    if missed:
        print(f"aihub: not owed (unknown, delivered, or never to send): {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0
