"""Reporting windows for /usage and the monthly quota: pure date arithmetic in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aihub_core.errors import InvalidRequestError

PERIODS = ("day", "week", "month", "year")
MAX_RANGE_DAYS = 366
# A window ends where its last day's next day begins, which date.max does not have.
LATEST_DAY = date.max - timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """An inclusive range of UTC days and the name it is reported under."""

    period: str
    first: date
    last: date

    def days(self) -> list[date]:
        """Every day of the window, oldest first."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def _parse_day(value: str, param: str) -> date:
    try:
        day = date.fromisoformat(value) if len(value) == 10 else _bad_day(value, param)
    except ValueError:
        return _bad_day(value, param)
    return day if day <= LATEST_DAY else _bad_day(value, param)


def _bad_day(value: str, param: str) -> date:
    raise InvalidRequestError(
        f"{param} must be a date as YYYY-MM-DD, at the latest {LATEST_DAY.isoformat()}, got {value!r}",
        code="invalid_date",
        param=param,
    )


def resolve_window(period: str, start_date: str, end_date: str, today: date) -> Window:
    """The window a /usage request asks for: a date range if given, else a period (default month)."""
    if start_date or end_date:
        if not start_date:
            raise InvalidRequestError(
                "start_date is required when end_date is given", code="missing_parameter", param="start_date"
            )
        first = _parse_day(start_date, "start_date")
        last = _parse_day(end_date, "end_date") if end_date else today
        if last < first:
            raise InvalidRequestError(
                "end_date must not be before start_date", code="invalid_date_range", param="end_date"
            )
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidRequestError(
                f"A date range may cover at most {MAX_RANGE_DAYS} days",
                code="invalid_date_range",
                param="end_date",
            )
        return Window("custom", first, last)
    period = period or "month"
    if period == "day":
        return Window(period, today, today)
    if period == "week":
        return Window(period, today - timedelta(days=6), today)
    if period == "month":
        return Window(period, today.replace(day=1), today)
    if period == "year":
        return Window(period, today.replace(month=1, day=1), today)
    raise InvalidRequestError(
        f"period must be one of {', '.join(PERIODS)}, got {period!r}", code="invalid_period", param="period"
    )


def month_start(now: datetime) -> datetime:
    """00:00 UTC on the first day of now's month."""
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def next_month_start(now: datetime) -> datetime:
    """00:00 UTC on the first day of the month after now's: when the monthly quota resets."""
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)
