"""What the ledger reports: daily totals, top models, a user's usage by model and by key, quota
and budget counts, request logs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from aihub_core.store.records import DailyTotals, ModelTotals, UsageBreakdown, UsageLogEntry, UsageLogQuery


class ReportStore(Protocol):
    """Reads over the usage ledger."""

    async def daily_usage(self, user_id: str, first: date, last: date) -> list[DailyTotals]:
        """Totals per UTC day with at least one billable record, first..last inclusive, oldest first.
        Billable: status ok, error or cancelled (refused requests cost nothing, pending ones are not
        settled yet, and neither is counted). A record's day is that of its `created_at`. A day's
        cost is the exact sum of its records' costs, so totals equal the sum of the costs the
        responses reported. Its time does not grow with the number of records (a daily rollup
        kept in the settlement's transaction)."""
        ...

    async def gateway_daily_usage(self, first: date, last: date) -> list[DailyTotals]:
        """As `daily_usage`, summed over every user: the whole gateway's totals per UTC day with at
        least one billable record, first..last inclusive, oldest first (from the daily rollup)."""
        ...

    async def top_models(self, first: date, last: date, limit: int) -> list[ModelTotals]:
        """The (service, model)s of the billable records created on the UTC days first..last
        (inclusive), every user's, most costly first (then most requests, then by service and
        model), at most `limit` (1 to 1000, else ValueError). Reads only the range's records
        (through the ledger's (user, created_at) index)."""
        ...

    async def usage_breakdown(self, user_id: str, first: date, last: date) -> UsageBreakdown:
        """The user's billable records created on the UTC days first..last (inclusive), grouped by
        model and by API key (a deleted key's name included; the calls made with a login token
        form one group with no key id): exactly the records `daily_usage` counts for those days,
        so each list's requests, tokens and cost sum to its totals. Each list is most costly
        first, then most requests, then by model or key id (the login token's group as an empty
        id). Reads only the range's records (through the ledger's (user, created_at) index)."""
        ...

    async def count_requests(self, user_id: str, since: datetime) -> int:
        """Requests counted against the monthly quota since a moment (inclusive): billable and
        pending ones. From midnight UTC its time does not grow with the number of records."""
        ...

    async def month_figures(
        self, user_ids: Sequence[str], since: datetime, first: date, last: date
    ) -> dict[str, tuple[int, int]]:
        """For each of `user_ids` (repeats read once; an id without records gets (0, 0)): the
        requests `count_requests(user_id, since)` counts, and the cost (pico-USD) summed over
        `daily_usage(user_id, first, last)`. A few statements for the whole list (at most
        `rows.IDS_PER_QUERY` ids each), each reading every user's figures through the indexes
        `count_requests` and `daily_usage` use: the operators' list of every account."""
        ...

    async def key_spent(self, key_id: str, since: datetime) -> int:
        """The cost (pico-USD) of the calls made with a key that the ledger settled as billable
        (`ok`, `error`, `cancelled`), admitted since a moment (inclusive): where a key's budget
        starts from."""
        ...

    async def user_spent(self, user_id: str, since: datetime) -> int:
        """As `key_spent`, for every call of a user (any key, or a login token)."""
        ...

    async def usage_logs(self, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
        """The user's ledger rows that match the query's filters (every status, pending included),
        newest first: by `created_at`, then `request_id`, both descending, at most `limit` of them
        (1 to 10,000, else ValueError), starting after `query.after`. Keyset paging: a row written
        after a page was read never shifts the rows of the later pages (a new call is newer than
        every row already listed), so paging to the end lists every row that existed at the
        start exactly once. Each row carries its key's name, a deleted key's included."""
        ...
