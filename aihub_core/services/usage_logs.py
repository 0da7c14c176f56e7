"""Request logs: the caller's calls from the usage ledger, newest first, in cursor pages or as one
long export. Only what the ledger holds: never a prompt or an answer."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import cast, get_args

from aihub_core.errors import InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.store.base import Store, UsageLogEntry, UsageLogQuery, UsageStatus

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# An export reads the ledger a page at a time, so no read holds the database for the whole range.
EXPORT_BATCH = 500
STATUSES: tuple[str, ...] = get_args(UsageStatus)


@dataclass(frozen=True)
class LogFilters:
    """The filters of a logs request as given (empty: any)."""

    model: str = ""
    status: str = ""
    key_id: str = ""
    start: str = ""
    end: str = ""

    def query(self) -> UsageLogQuery:
        """The store's query for these filters; a 400 naming a malformed one."""
        if self.status and self.status not in STATUSES:
            raise InvalidRequestError(
                f"status must be one of {', '.join(STATUSES)}, got {self.status!r}", param="status"
            )
        start = _moment(self.start, "start")
        end = _moment(self.end, "end")
        if start is not None and end is not None and end < start:
            raise InvalidRequestError("end must not be before start", code="invalid_date_range", param="end")
        return UsageLogQuery(
            model=self.model or None,
            status=cast(UsageStatus, self.status) if self.status else None,
            key_id=self.key_id or None,
            start=start,
            end=end,
        )


def _moment(text: str, param: str) -> datetime | None:
    """An RFC 3339 moment (with its offset) or a date (its UTC midnight)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidRequestError(
            f"{param} must be an RFC 3339 time with its offset (2026-05-01T12:00:00Z) or a date "
            f"(2026-05-01), got {text!r}",
            param=param,
        )
    return moment.astimezone(UTC)


def _encode_cursor(entry: UsageLogEntry) -> str:
    at, request_id = entry.cursor
    raw = json.dumps(["log", at.isoformat(), request_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        kind, at, request_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if kind != "log" or not isinstance(request_id, str) or moment.tzinfo is None:
            raise ValueError(token)
        return moment, request_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidRequestError(
            "page_token is not valid", code="invalid_page_token", param="page_token"
        ) from None


class UsageLogs:
    """Answers /usage/logs for the caller's account."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def page(
        self, caller: Caller, filters: LogFilters, page_size: int, page_token: str
    ) -> tuple[list[UsageLogEntry], str]:
        """One page of logs, newest first, and the next page's token ('' after the last)."""
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"page_size must be between 0 and {MAX_PAGE_SIZE}", param="page_size")
        size = page_size or DEFAULT_PAGE_SIZE
        after = _decode_cursor(page_token) if page_token else None
        # One row more than asked tells whether a next page exists without a second read.
        query = replace(filters.query(), after=after, limit=size + 1)
        entries = await self._store.usage_logs(caller.user_id, query)
        if len(entries) <= size:
            return entries, ""
        return entries[:size], _encode_cursor(entries[size - 1])

    async def export(self, caller: Caller, filters: LogFilters) -> AsyncGenerator[list[UsageLogEntry], None]:
        """Every matching row, newest first, in batches; a bad filter fails before the first."""
        query = replace(filters.query(), limit=EXPORT_BATCH)
        while True:
            batch = await self._store.usage_logs(caller.user_id, query)
            if batch:
                yield batch
            if len(batch) < EXPORT_BATCH:
                return
            query = replace(query, after=batch[-1].cursor)
