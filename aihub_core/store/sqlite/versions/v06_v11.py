"""SQLite schema versions 6 to 11: exact costs, the daily rollup, leases, key rotation, roles, the
rollup's triggers without IN lists. Their text is final: databases already migrated are checked
against it."""

from __future__ import annotations

from aihub_core.pricing import pico_of_usd
from aihub_core.store import rows
from aihub_core.store.sqlite._sqlite_utils import Database


def v6_exact_costs(db: Database) -> None:
    """Costs as integer pico-USD: each REAL cost becomes the pico-USD nearest its exact binary
    value (Python's Decimal, not a double multiplication, which could round the wrong way)."""
    db.conn.create_function("aihub_pico_of_usd", 1, pico_of_usd, deterministic=True)
    # One statement at a time: executescript would commit the migration's transaction first.
    db.execute("ALTER TABLE usage_records ADD COLUMN cost_pico_usd INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE usage_records SET cost_pico_usd = aihub_pico_of_usd(cost_usd)")
    db.execute("ALTER TABLE usage_records DROP COLUMN cost_usd")


# The daily rollup the reports read (`usage_daily`): one row per user and UTC day of billable
# calls, kept by triggers in the very transaction that settles a call (an insert of a billable
# row, or a pending row turning billable), so no writer can forget it and a report equals the
# sum of its rows exactly. Existing ledgers are backfilled. Pending rows, few at any time, are
# counted from their own index for the quota.
_BILLABLE_SQL = ", ".join(f"'{status}'" for status in rows.BILLABLE)
_ADD_TO_DAY = """
BEGIN
    INSERT INTO usage_daily (user_id, day, requests, tokens, cost_pico_usd)
    VALUES (new.user_id, substr(new.created_at, 1, 10), 1, new.prompt_tokens + new.completion_tokens,
            new.cost_pico_usd)
    ON CONFLICT (user_id, day) DO UPDATE SET requests = requests + 1,
        tokens = tokens + excluded.tokens, cost_pico_usd = cost_pico_usd + excluded.cost_pico_usd;
END"""
V7_DAILY_ROLLUP = f"""
CREATE TABLE usage_daily (
    user_id TEXT NOT NULL,
    day TEXT NOT NULL,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost_pico_usd INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
INSERT INTO usage_daily (user_id, day, requests, tokens, cost_pico_usd)
SELECT user_id, substr(created_at, 1, 10), count(*), sum(prompt_tokens + completion_tokens),
    sum(cost_pico_usd)
FROM usage_records WHERE status IN ({_BILLABLE_SQL}) GROUP BY user_id, substr(created_at, 1, 10);
CREATE TRIGGER usage_daily_insert AFTER INSERT ON usage_records
WHEN new.status IN ({_BILLABLE_SQL}) {_ADD_TO_DAY};
CREATE TRIGGER usage_daily_settle AFTER UPDATE OF status ON usage_records
WHEN old.status = 'pending' AND new.status IN ({_BILLABLE_SQL}) {_ADD_TO_DAY};
CREATE INDEX usage_records_user_pending ON usage_records (user_id, created_at) WHERE status = 'pending';
"""

# Leases (`Store.renew_lease`, `recover_abandoned`): each open store's heartbeat row. `machine`
# and `pid` let a store on the same machine see at once that a lease's process is gone.
V8_LEASES = """
CREATE TABLE leases (
    owner TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    machine TEXT,
    pid INTEGER
);
CREATE INDEX usage_records_pending_owner ON usage_records (owner) WHERE status = 'pending';
CREATE INDEX idempotency_keys_pending_owner ON idempotency_keys (owner) WHERE state = 'pending';
"""

# Key expiry and rotation (`Store.rotate_api_key`): a key's own expiry and last rotation, and the
# secrets it was rotated away from, each with the end of its grace period. Old secrets are kept
# past that end, so that one is refused as expired rather than unknown. Changing `key_hash`
# already bumps the auth generation (migration 4), so every process drops its cached key.
V9_KEY_ROTATION = """
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
ALTER TABLE api_keys ADD COLUMN rotated_at TEXT;
CREATE TABLE api_key_old_secrets (
    key_hash TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    valid_until TEXT NOT NULL
) WITHOUT ROWID;
"""

# Roles: `admin` marks an operator (`aihub users set-role`); every existing user is a `user`.
# Updating users already moves the auth generation (migration 4), so cached users see it.
V10_ROLES = """
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin'));
"""

# The rollup's triggers test a status with `=`, not `IN (...)`: SQLite evaluates a list of more
# than two constants by building a temporary b-tree of it each time the trigger fires (on every
# ledger write), which cost about 2 % of a chat request's instructions; the test is the same.
_BILLABLE_EQUALS = " OR ".join(f"new.status = '{status}'" for status in rows.BILLABLE)
V11_ROLLUP_TRIGGERS_WITHOUT_IN = f"""
DROP TRIGGER usage_daily_insert;
DROP TRIGGER usage_daily_settle;
CREATE TRIGGER usage_daily_insert AFTER INSERT ON usage_records
WHEN {_BILLABLE_EQUALS} {_ADD_TO_DAY};
CREATE TRIGGER usage_daily_settle AFTER UPDATE OF status ON usage_records
WHEN old.status = 'pending' AND ({_BILLABLE_EQUALS}) {_ADD_TO_DAY};
"""
