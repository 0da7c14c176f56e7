"""Forward-only schema migrations for the SQLite store, versioned by `PRAGMA user_version`.

Each migration runs in its own transaction together with the version bump, so a failure leaves
the database at the previous version. A database newer than this code is refused rather than
guessed at: an older binary writing to a newer schema is how ledgers get corrupted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from aihub_core.pricing import pico_of_usd
from aihub_core.store import rows
from aihub_core.store.base import SchemaTooNewError

__all__ = [
    "MIGRATIONS",
    "Migration",
    "SchemaTooNewError",
    "apply_migrations",
    "current_version",
    "latest_version",
]

Step = str | Callable[[Database], None]


@dataclass(frozen=True)
class Migration:
    """One schema step: SQL statements, or a function given the database inside the transaction."""

    version: int
    description: str
    step: Step


# Times are ISO-8601 UTC strings of one fixed width, so text order is time order and the first
# ten characters are the UTC day. Emails are stored lower-cased, which makes the unique index
# case-insensitive for all of Unicode (COLLATE NOCASE would only fold ASCII).
_V1_SCHEMA = """
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    prefix TEXT NOT NULL,
    permissions TEXT NOT NULL,
    requests_per_minute INTEGER,
    created_at TEXT NOT NULL,
    last_used TEXT,
    deleted_at TEXT
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX api_keys_user_created ON api_keys (user_id, created_at);

CREATE TABLE sessions (
    user_id TEXT NOT NULL REFERENCES users (id),
    session_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, session_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    images TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    FOREIGN KEY (user_id, session_id) REFERENCES sessions (user_id, session_id)
);
CREATE INDEX messages_session ON messages (user_id, session_id, id);

CREATE TABLE usage_records (
    request_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    key_id TEXT,
    service TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
    cost_usd REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'refused', 'cancelled')),
    usage_source TEXT NOT NULL CHECK (usage_source IN ('provider', 'estimated', 'none')),
    session_id TEXT,
    response_time_ms INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX usage_records_user_created ON usage_records (user_id, created_at);
"""

# Reservations. SQLite cannot alter a CHECK constraint in place, so the ledger is rebuilt: new
# table, rows copied (each already settled, at its creation), old table dropped, indexes remade.
# A row is pending exactly while it has no settled_at. The partial index keeps the start-up
# recovery scan cheap however long the ledger grows.
_V2_RESERVATIONS = """
CREATE TABLE usage_records_v2 (
    request_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    key_id TEXT,
    service TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
    cost_usd REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'error', 'refused', 'cancelled')),
    usage_source TEXT NOT NULL CHECK (usage_source IN ('provider', 'estimated', 'none')),
    session_id TEXT,
    response_time_ms INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    settled_at TEXT,
    recovered INTEGER NOT NULL DEFAULT 0 CHECK (recovered IN (0, 1)),
    CHECK ((status = 'pending') = (settled_at IS NULL))
);
INSERT INTO usage_records_v2 (
    request_id, user_id, key_id, service, model, prompt_tokens, completion_tokens, cost_usd, status,
    usage_source, session_id, response_time_ms, created_at, settled_at
)
SELECT
    request_id, user_id, key_id, service, model, prompt_tokens, completion_tokens, cost_usd, status,
    usage_source, session_id, response_time_ms, created_at, created_at
FROM usage_records;
DROP TABLE usage_records;
ALTER TABLE usage_records_v2 RENAME TO usage_records;
CREATE INDEX usage_records_user_created ON usage_records (user_id, created_at);
CREATE INDEX usage_records_pending ON usage_records (request_id) WHERE status = 'pending';
"""

# Idempotency keys: one stored answer per (user, key). `request_hash` tells a true retry from a
# reused key; `state` is pending while the first call runs, so a concurrent duplicate is refused.
_V3_IDEMPOTENCY = """
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    request_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    response BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key),
    CHECK ((state = 'done') = (response IS NOT NULL))
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
"""

# The auth generation (`Store.auth_generation`): one counter that every write able to change what
# authenticating an existing key or user yields bumps in its own transaction, whichever process
# makes it. Triggers rather than the store's queries, so no writer can forget it. Inserts are left
# out (nothing caches an absent key); so is `last_used`, which every key's use touches.
_BUMP = "BEGIN UPDATE auth_generation SET value = value + 1 WHERE id = 1; END"
_V4_AUTH_GENERATION = f"""
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO auth_generation (id, value) VALUES (1, 0);
CREATE TRIGGER users_auth_update AFTER UPDATE ON users {_BUMP};
CREATE TRIGGER users_auth_delete AFTER DELETE ON users {_BUMP};
CREATE TRIGGER api_keys_auth_update
AFTER UPDATE OF id, user_id, key_hash, permissions, requests_per_minute, deleted_at ON api_keys {_BUMP};
CREATE TRIGGER api_keys_auth_delete AFTER DELETE ON api_keys {_BUMP};
"""

# Owners: which process wrote a pending reservation or claim (`SQLiteStore(owner=...)`), so that
# when one worker of several dies, its calls alone are settled and its keys alone freed, while the
# others' calls go on. NULL for rows of a process that named no owner.
_V5_OWNERS = """
ALTER TABLE usage_records ADD COLUMN owner TEXT;
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;
"""


def _v6_exact_costs(db: Database) -> None:
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
_V7_DAILY_ROLLUP = f"""
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
_V8_LEASES = """
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
_V9_KEY_ROTATION = """
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
_V10_ROLES = """
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin'));
"""

# The rollup's triggers test a status with `=`, not `IN (...)`: SQLite evaluates a list of more
# than two constants by building a temporary b-tree of it each time the trigger fires (on every
# ledger write), which cost about 2 % of a chat request's instructions; the test is the same.
_BILLABLE_EQUALS = " OR ".join(f"new.status = '{status}'" for status in rows.BILLABLE)
_V11_ROLLUP_TRIGGERS_WITHOUT_IN = f"""
DROP TRIGGER usage_daily_insert;
DROP TRIGGER usage_daily_settle;
CREATE TRIGGER usage_daily_insert AFTER INSERT ON usage_records
WHEN {_BILLABLE_EQUALS} {_ADD_TO_DAY};
CREATE TRIGGER usage_daily_settle AFTER UPDATE OF status ON usage_records
WHEN old.status = 'pending' AND ({_BILLABLE_EQUALS}) {_ADD_TO_DAY};
"""


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


def _v12_ledger_checks_without_in(db: Database) -> None:
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
_V13_KEY_BUDGETS = """
ALTER TABLE api_keys ADD COLUMN budget_pico_usd INTEGER;
ALTER TABLE api_keys ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'month'));
CREATE INDEX usage_records_key_created ON usage_records (key_id, created_at) WHERE key_id IS NOT NULL;
"""

# A user's own budget in USD (`aihub users set-budget`), as a key's (migration 13).
_V14_USER_BUDGETS = """
ALTER TABLE users ADD COLUMN budget_pico_usd INTEGER;
ALTER TABLE users ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'month'));
"""

# Usage alerts (`aihub_core.alerts`): a user's alerts, counted on the user (updating users moves
# the auth generation, so every process's cached caller learns whether it has alerts), and their
# events, one per alert and period (the UNIQUE makes that so across processes), which are also
# the webhook's outbox: due at `next_attempt_at` (NULL: not to be delivered), claimed by a store
# until `lease_until`, done at `delivered_at`.
_V15_ALERTS = """
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
_V16_REVOKED_TOKENS = """
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

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "users, API keys, sessions with messages, usage ledger", _V1_SCHEMA),
    Migration(2, "usage ledger reservations: pending status, settled_at, recovered", _V2_RESERVATIONS),
    Migration(3, "idempotency keys with their stored answers", _V3_IDEMPOTENCY),
    Migration(4, "auth generation, bumped by every auth-relevant write", _V4_AUTH_GENERATION),
    Migration(5, "owners of pending reservations and idempotency claims", _V5_OWNERS),
    Migration(6, "exact costs: integer pico-USD", _v6_exact_costs),
    Migration(7, "daily usage rollup, backfilled and kept by triggers", _V7_DAILY_ROLLUP),
    Migration(8, "leases of the stores holding pending work", _V8_LEASES),
    Migration(9, "API key expiry and rotation, with the old secrets' grace", _V9_KEY_ROTATION),
    Migration(10, "users' roles: user or admin", _V10_ROLES),
    Migration(11, "the rollup's triggers test the status without IN lists", _V11_ROLLUP_TRIGGERS_WITHOUT_IN),
    Migration(
        12, "the ledger's CHECKs test the status and source without IN lists", _v12_ledger_checks_without_in
    ),
    Migration(13, "API key budgets in USD, and the ledger by key", _V13_KEY_BUDGETS),
    Migration(14, "user budgets in USD", _V14_USER_BUDGETS),
    Migration(15, "usage alerts and their webhook outbox", _V15_ALERTS),
    Migration(16, "login tokens revoked by a log-out", _V16_REVOKED_TOKENS),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version the given migrations lead to."""
    return migrations[-1].version if migrations else 0


def current_version(db: Database) -> int:
    """The schema version recorded in the database file (0 for a new one)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply pending migrations, one transaction each; return the versions applied."""
    _check_sequence(migrations)
    latest = latest_version(migrations)
    _refuse_newer(current_version(db), latest)
    applied: list[int] = []
    for migration in migrations:
        if current_version(db) >= migration.version:
            continue
        # IMMEDIATE takes the write lock before the version is re-read, so two processes
        # opening the same new file cannot both apply the same step.
        db.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(db)
            _refuse_newer(version, latest)
            if version < migration.version:
                if isinstance(migration.step, str):
                    db.executescript(migration.step)
                else:
                    migration.step(db)
                db.execute(f"PRAGMA user_version = {int(migration.version)}")
                applied.append(migration.version)
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
    return applied


def _refuse_newer(version: int, latest: int) -> None:
    if version > latest:
        raise SchemaTooNewError(
            f"the database schema is at version {version}, but this AI Hub only knows versions up "
            f"to {latest}: upgrade AI Hub, or point it at another database"
        )


def _check_sequence(migrations: Sequence[Migration]) -> None:
    # A gap or reordering would silently skip a step on some databases and not others.
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(
                f"migration versions must run 1, 2, 3, ...: got {migration.version} at {expected}"
            )
