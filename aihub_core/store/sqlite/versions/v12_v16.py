"""SQLite schema versions 12 to 16: the ledger's CHECKs without IN lists, key and user budgets,
usage alerts, revoked login tokens. Their text is final: databases already migrated are checked
against it."""

from __future__ import annotations

import re

from aihub_core.store.sqlite._sqlite_utils import Database

# The ledger's CHECKs test a status or usage source with `=`, not `IN (...)`, for the same reason
# (two temporary b-trees on every ledger insert, four on a settlement: about 5 % of a chat
# request's instructions); what they let in is the same. SQLite cannot alter a CHECK in place, so
# the ledger is rebuilt as in migration 2: the same definition but for those CHECKs, rows copied,
# old table dropped, and its indexes and triggers (whatever earlier migrations made) remade.
_LEDGER_IN_LIST = re.compile(r"\b(status|usage_source) IN \(([^)]*)\)")
_LEDGER_TABLE = re.compile(r'^CREATE TABLE (?:"usage_records"|usage_records)(?=[\s(])')


def _equalities(match: re.Match[str]) -> str:
    column, values = match.group(1), (value.strip() for value in match.group(2).split(","))
    return "(" + " OR ".join(f"{column} = {value}" for value in values) + ")"


def v12_ledger_checks_without_in(db: Database) -> None:
    table = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'usage_records'")
    definition = table.fetchone()[0]
    rebuilt = _LEDGER_TABLE.sub(
        "CREATE TABLE usage_records_v12", _LEDGER_IN_LIST.sub(_equalities, definition), 1
    )
    dependents = [
        row[0]
        for row in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'usage_records' AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    ]
    db.execute(rebuilt)
    db.execute("INSERT INTO usage_records_v12 SELECT * FROM usage_records")
    db.execute("DROP TABLE usage_records")
    db.execute("ALTER TABLE usage_records_v12 RENAME TO usage_records")
    for sql in dependents:
        db.execute(sql)


# Key budgets in USD (limits/spend.py): the limit in pico-USD per day or month, and the index that
# sums a key's spend in a period when the budget's counter starts.
V13_KEY_BUDGETS = """
ALTER TABLE api_keys ADD COLUMN budget_pico_usd INTEGER;
ALTER TABLE api_keys ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'month'));
CREATE INDEX usage_records_key_created ON usage_records (key_id, created_at) WHERE key_id IS NOT NULL;
"""

# A user's own budget in USD (`aihub users set-budget`), as a key's (migration 13).
V14_USER_BUDGETS = """
ALTER TABLE users ADD COLUMN budget_pico_usd INTEGER;
ALTER TABLE users ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'month'));
"""

# Usage alerts (`aihub_core.alerts`): a user's alerts, counted on the user (updating users moves
# the auth generation, so every process's cached caller learns whether it has alerts), and their
# events, one per alert and period (the UNIQUE makes that so across processes), which are also
# the webhook's outbox: due at `next_attempt_at` (NULL: not to be delivered), claimed by a store
# until `lease_until`, done at `delivered_at`.
V15_ALERTS = """
ALTER TABLE users ADD COLUMN alert_count INTEGER NOT NULL DEFAULT 0;
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    metric TEXT NOT NULL CHECK (metric = 'cost_usd' OR metric = 'requests' OR metric = 'tokens'),
    threshold REAL NOT NULL,
    relative_to TEXT NOT NULL,
    amount INTEGER NOT NULL,
    period TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_fired_at TEXT
);
CREATE INDEX alerts_user ON alerts (user_id, created_at);
CREATE TABLE alert_events (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    period_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    delivered_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    lease_until TEXT,
    UNIQUE (alert_id, period_key)
);
CREATE INDEX alert_events_user ON alert_events (user_id, created_at);
CREATE INDEX alert_events_due ON alert_events (next_attempt_at)
WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL;
"""

# Login tokens ended by a log-out (`Store.revoke_token`) until they expire; rows past their expiry
# are dropped by the next log-out. `revocations` counts the log-outs (`Store.revocations`), so a
# process may keep the tokens it found live until the count moves, as the auth generation lets it
# keep callers, without the log-outs moving the auth generation (and so API keys' caches).
V16_REVOKED_TOKENS = """
CREATE TABLE revoked_tokens (
    token_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
CREATE TABLE revocations (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO revocations (id, value) VALUES (1, 0);
"""
