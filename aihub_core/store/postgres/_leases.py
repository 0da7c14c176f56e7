"""The PostgreSQL store's SQL of leases and recovery (`store.leases` has the design).

Recovery is exactly once however many replicas run it together: a lease row is ended by the one
transaction whose DELETE ... RETURNING gets it, and the abandoned rows are taken with
`FOR UPDATE SKIP LOCKED`, so two recoveries split them between them rather than wait on, or
repeat, each other; a row settled meanwhile no longer matches `status = 'pending'` once locked.
Times come from the store's clock if it has one, else from the server's (`now()`): one clock for
every host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aihub_core.store import leases
from aihub_core.store.postgres._ledger import ADD_TO_ROLLUP
from aihub_core.store.records import Recovered

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

_NOW = "coalesce($1::timestamptz, now())"
_RENEW = f"UPDATE leases SET expires_at = {_NOW} + make_interval(secs => $2) WHERE owner = $3"
_TAKE = (
    f"INSERT INTO leases (owner, expires_at, machine, pid) VALUES ($3, {_NOW} + make_interval(secs => $2), "
    "$4, $5) ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at"
)
_END_EXPIRED = (
    f"DELETE FROM leases WHERE owner <> $2 AND (expires_at < {_NOW} OR owner = ANY($3::text[])) "
    "RETURNING owner"
)
_ABANDONED = "(r.owner IS NULL OR NOT EXISTS (SELECT 1 FROM leases l WHERE l.owner = r.owner))"
# ... or one of this store's own, left pending by a write the database was not there for.
_SETTLE_ABANDONED = f"""
WITH doomed AS (
    SELECT request_id FROM usage_records r
    WHERE status = 'pending' AND ({_ABANDONED} OR r.request_id = ANY($2::text[]))
    ORDER BY request_id FOR UPDATE SKIP LOCKED
),
settled AS (
    UPDATE usage_records u SET status = 'error', prompt_tokens = 0, completion_tokens = 0,
        cost_pico_usd = 0, usage_source = 'none', settled_at = {_NOW}, recovered = true
    FROM doomed WHERE u.request_id = doomed.request_id
    RETURNING u.user_id, u.created_at, u.status, 0 AS tokens, 0::bigint AS cost_pico_usd
),
rolled AS ({ADD_TO_ROLLUP})
SELECT count(*) FROM settled
"""
_FREE_ABANDONED = f"""
WITH doomed AS (
    SELECT user_id, key FROM idempotency_keys r WHERE state = 'pending' AND ({_ABANDONED}
        OR (r.user_id, r.key) IN (SELECT * FROM unnest($1::text[], $2::text[])))
    FOR UPDATE SKIP LOCKED
), freed AS (
    DELETE FROM idempotency_keys k USING doomed WHERE k.user_id = doomed.user_id AND k.key = doomed.key
    RETURNING 1
)
SELECT count(*) FROM freed
"""


@dataclass
class Orphans:
    """A live store's own pending rows that a recovery must settle nonetheless: those whose
    settlement or release failed because the database was unreachable (the call was answered 503,
    and no later write of this store will end them)."""

    request_ids: set[str] = field(default_factory=set)
    claims: set[tuple[str, str]] = field(default_factory=set)  # (user_id, Idempotency-Key)

    def take(self) -> Orphans:
        """All of them, leaving none here."""
        taken = Orphans(self.request_ids, self.claims)
        self.request_ids, self.claims = set(), set()
        return taken

    def put_back(self, taken: Orphans) -> None:
        """Keep what a failed recovery took, for the next one."""
        self.request_ids |= taken.request_ids
        self.claims |= taken.claims


async def renew(
    conn: Conn, owner: str, now: datetime | None, seconds: float, machine: str | None, pid: int
) -> bool:
    """Extend the lease to now + seconds; True if it was held, False if it was taken anew."""
    if await conn.execute(_RENEW, now, seconds, owner) != "UPDATE 0":
        return True
    await conn.execute(_TAKE, now, seconds, owner, machine, pid)
    return False


async def end(conn: Conn, owner: str) -> None:
    """End the lease: what its store left pending is abandoned from now on."""
    await conn.execute("DELETE FROM leases WHERE owner = $1", owner)


async def recover(
    conn: Conn, owner: str, now: datetime | None, machine: str | None, orphans: Orphans | None = None
) -> Recovered:
    """End the leases that expired or whose process is gone (never `owner`'s), then settle and
    free everything abandoned, and `orphans`, in one transaction."""
    orphans = orphans or Orphans()
    users, keys = [user for user, _ in orphans.claims], [key for _, key in orphans.claims]
    async with conn.transaction():
        local = await conn.fetch(
            "SELECT owner, pid FROM leases WHERE machine = $1 AND owner <> $2", machine, owner
        )
        dead = leases.gone((row["owner"], row["pid"]) for row in local)
        ended = await conn.fetch(_END_EXPIRED, now, owner, dead)
        settled = await conn.fetchval(_SETTLE_ABANDONED, now, list(orphans.request_ids))
        freed = await conn.fetchval(_FREE_ABANDONED, users, keys)
    return Recovered(int(settled), int(freed), tuple(sorted(row["owner"] for row in ended)))
