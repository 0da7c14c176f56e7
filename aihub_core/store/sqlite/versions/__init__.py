"""The SQLite store's schema versions, in order (`MIGRATIONS`); `migrations` applies them.

A new version goes at the end, with the next number, in the last module (or a new one when that
one grows past a couple of hundred lines); a released version is never edited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aihub_core.store.sqlite._sqlite_utils import Database
from aihub_core.store.sqlite.versions.v01_v05 import (
    V1_SCHEMA,
    V2_RESERVATIONS,
    V3_IDEMPOTENCY,
    V4_AUTH_GENERATION,
    V5_OWNERS,
)
from aihub_core.store.sqlite.versions.v06_v11 import (
    V7_DAILY_ROLLUP,
    V8_LEASES,
    V9_KEY_ROTATION,
    V10_ROLES,
    V11_ROLLUP_TRIGGERS_WITHOUT_IN,
    v6_exact_costs,
)
from aihub_core.store.sqlite.versions.v12_v16 import (
    V13_KEY_BUDGETS,
    V14_USER_BUDGETS,
    V15_ALERTS,
    V16_REVOKED_TOKENS,
    v12_ledger_checks_without_in,
)

Step = str | Callable[[Database], None]


@dataclass(frozen=True)
class Migration:
    """One schema step: SQL statements, or a function given the database inside the transaction."""

    version: int
    description: str
    step: Step


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "users, API keys, sessions with messages, usage ledger", V1_SCHEMA),
    Migration(2, "usage ledger reservations: pending status, settled_at, recovered", V2_RESERVATIONS),
    Migration(3, "idempotency keys with their stored answers", V3_IDEMPOTENCY),
    Migration(4, "auth generation, bumped by every auth-relevant write", V4_AUTH_GENERATION),
    Migration(5, "owners of pending reservations and idempotency claims", V5_OWNERS),
    Migration(6, "exact costs: integer pico-USD", v6_exact_costs),
    Migration(7, "daily usage rollup, backfilled and kept by triggers", V7_DAILY_ROLLUP),
    Migration(8, "leases of the stores holding pending work", V8_LEASES),
    Migration(9, "API key expiry and rotation, with the old secrets' grace", V9_KEY_ROTATION),
    Migration(10, "users' roles: user or admin", V10_ROLES),
    Migration(11, "the rollup's triggers test the status without IN lists", V11_ROLLUP_TRIGGERS_WITHOUT_IN),
    Migration(
        12, "the ledger's CHECKs test the status and source without IN lists", v12_ledger_checks_without_in
    ),
    Migration(13, "API key budgets in USD, and the ledger by key", V13_KEY_BUDGETS),
    Migration(14, "user budgets in USD", V14_USER_BUDGETS),
    Migration(15, "usage alerts and their webhook outbox", V15_ALERTS),
    Migration(16, "login tokens revoked by a log-out", V16_REVOKED_TOKENS),
)
