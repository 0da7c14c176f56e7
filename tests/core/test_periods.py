from datetime import UTC, date, datetime

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.periods import month_start, next_month_start, resolve_window

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("day", date(2026, 3, 15), date(2026, 3, 15)),
        ("week", date(2026, 3, 9), date(2026, 3, 15)),
        ("month", date(2026, 3, 1), date(2026, 3, 15)),
        ("", date(2026, 3, 1), date(2026, 3, 15)),
        ("year", date(2026, 1, 1), date(2026, 3, 15)),
    ],
)
def test_periods(period: str, first: date, last: date) -> None:
    window = resolve_window(period, "", "", TODAY)
    assert (window.first, window.last) == (first, last)
    assert window.period == (period or "month")
    assert len(window.days()) == (last - first).days + 1


def test_date_range_overrides_period_and_defaults_end_to_today() -> None:
    window = resolve_window("year", "2026-03-10", "", TODAY)
    assert (window.period, window.first, window.last) == ("custom", date(2026, 3, 10), TODAY)


@pytest.mark.parametrize(
    ("period", "start", "end", "param"),
    [
        ("fortnight", "", "", "period"),
        ("", "2026-13-01", "", "start_date"),
        ("", "2026/03/01", "", "start_date"),
        ("", "2026-03-01", "yesterday", "end_date"),
        ("", "", "2026-03-01", "start_date"),
        ("", "2026-03-10", "2026-03-01", "end_date"),
        ("", "2024-01-01", "2026-03-01", "end_date"),
        ("", "9999-12-31", "9999-12-31", "start_date"),  # its window would end in year 10000
        ("", "9999-12-30", "9999-12-31", "end_date"),
    ],
)
def test_bad_windows_name_the_parameter(period: str, start: str, end: str, param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        resolve_window(period, start, end, TODAY)
    assert info.value.details["parameter"] == param


LAST = date(9999, 12, 30)


def test_the_latest_day_is_the_day_before_the_last_a_date_holds() -> None:
    window = resolve_window("", "9999-12-30", "9999-12-30", TODAY)
    assert (window.first, window.last, window.days()) == (LAST, LAST, [LAST])


@pytest.mark.parametrize(
    ("now", "start", "reset"),
    [
        (
            datetime(2026, 3, 15, 12, tzinfo=UTC),
            datetime(2026, 3, 1, tzinfo=UTC),
            datetime(2026, 4, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 12, 31, 23, tzinfo=UTC),
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_month_boundaries(now: datetime, start: datetime, reset: datetime) -> None:
    assert month_start(now) == start
    assert next_month_start(now) == reset
