"""Forward-only schema migrations for the PostgreSQL store, applied once however many replicas start.

All pending steps run in one transaction that first takes a transaction-level advisory lock named
after the schema: replicas starting together queue on that lock, the first applies the steps, and
the others, once it commits, find nothing left to do and go on. DDL is transactional in
PostgreSQL, so a failed step leaves the schema as it was. A schema newer than this code is
refused, as the SQLite store does.

The tables live in the first schema of the connection's `search_path` (`public` unless the URL's
`options=-csearch_path=...` says otherwise), which must exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aihub_core.store.base import SchemaTooNewError

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn


@dataclass(frozen=True)
class Migration:
    """One schema step: SQL statements run as one script."""

    version: int
    description: str
    sql: str


# The same tables as SQLite's latest schema, in PostgreSQL's types: times are timestamptz, costs
# bigint pico-USD, permissions text[]; images stay a JSON array in text, as SQLite keeps them.
# The auth generation is bumped by triggers (see SQLite's migration 4); the daily rollup is kept
# by the ledger's own statements (`_ledger`), which aggregate a whole batch and lock its rows in
# order, so that concurrent replicas never deadlock on it.
_V1_SCHEMA = """
CREATE TABLE users (
    id text PRIMARY KEY,
    email text NOT NULL CONSTRAINT users_email UNIQUE,
    password_hash text NOT NULL,
    plan text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    name text NOT NULL,
    key_hash text NOT NULL CONSTRAINT api_keys_key_hash UNIQUE,
    prefix text NOT NULL,
    permissions text[] NOT NULL,
    requests_per_minute integer,
    created_at timestamptz NOT NULL,
    last_used timestamptz,
    deleted_at timestamptz
);
CREATE INDEX api_keys_user_created ON api_keys (user_id, created_at);

CREATE TABLE sessions (
    user_id text NOT NULL REFERENCES users (id),
    session_id text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, session_id)
);

CREATE TABLE messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id text NOT NULL,
    session_id text NOT NULL,
    role text NOT NULL CHECK (role IN ('user', 'assistant')),
    content text NOT NULL,
    images text NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL,
    FOREIGN KEY (user_id, session_id) REFERENCES sessions (user_id, session_id)
);
CREATE INDEX messages_session ON messages (user_id, session_id, id);

CREATE TABLE usage_records (
    request_id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    key_id text,
    service text NOT NULL,
    model text NOT NULL,
    prompt_tokens integer NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens integer NOT NULL CHECK (completion_tokens >= 0),
    cost_pico_usd bigint NOT NULL CHECK (cost_pico_usd >= 0),
    status text NOT NULL CHECK (status IN ('pending', 'ok', 'error', 'refused', 'cancelled')),
    usage_source text NOT NULL CHECK (usage_source IN ('provider', 'estimated', 'none')),
    session_id text,
    response_time_ms integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    settled_at timestamptz,
    recovered boolean NOT NULL DEFAULT false,
    owner text,
    CHECK ((status = 'pending') = (settled_at IS NULL))
);
CREATE INDEX usage_records_user_created ON usage_records (user_id, created_at);
CREATE INDEX usage_records_user_pending ON usage_records (user_id, created_at) WHERE status = 'pending';
CREATE INDEX usage_records_pending_owner ON usage_records (owner) WHERE status = 'pending';

CREATE TABLE usage_daily (
    user_id text NOT NULL,
    day date NOT NULL,
    requests bigint NOT NULL,
    tokens bigint NOT NULL,
    cost_pico_usd bigint NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE TABLE idempotency_keys (
    user_id text NOT NULL REFERENCES users (id),
    key text NOT NULL,
    request_hash text NOT NULL,
    request_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'done')),
    response bytea,
    created_at timestamptz NOT NULL,
    owner text,
    PRIMARY KEY (user_id, key),
    CHECK ((state = 'done') = (response IS NOT NULL))
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_pending_owner ON idempotency_keys (owner) WHERE state = 'pending';

CREATE TABLE leases (
    owner text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    machine text,
    pid integer
);

CREATE TABLE auth_generation (
    id integer PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
);
INSERT INTO auth_generation (id, value) VALUES (1, 0);
-- SET search_path FROM CURRENT: the function finds its table whatever the caller's search_path.
CREATE FUNCTION aihub_bump_auth_generation() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE auth_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER users_auth AFTER UPDATE OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION aihub_bump_auth_generation();
CREATE TRIGGER api_keys_auth
AFTER UPDATE OF id, user_id, key_hash, permissions, requests_per_minute, deleted_at OR DELETE ON api_keys
FOR EACH ROW EXECUTE FUNCTION aihub_bump_auth_generation();
"""

# Key expiry and rotation: see SQLite's migration 9. The api_keys trigger already fires on
# key_hash, so a rotation moves the auth generation.
_V2_KEY_ROTATION = """
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
ALTER TABLE api_keys ADD COLUMN rotated_at timestamptz;
CREATE TABLE api_key_old_secrets (
    key_hash text PRIMARY KEY,
    key_id text NOT NULL REFERENCES api_keys (id),
    valid_until timestamptz NOT NULL
);
"""

# Roles: see SQLite's migration 10. The users trigger fires on every update, a role's included.
_V3_ROLES = """
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin'));
"""

# Key budgets in USD: see SQLite's migration 13.
_V4_KEY_BUDGETS = """
ALTER TABLE api_keys ADD COLUMN budget_pico_usd bigint;
ALTER TABLE api_keys ADD COLUMN budget_period text CHECK (budget_period IN ('day', 'month'));
CREATE INDEX usage_records_key_created ON usage_records (key_id, created_at) WHERE key_id IS NOT NULL;
"""

# A user's own budget in USD: see SQLite's migration 14.
_V5_USER_BUDGETS = """
ALTER TABLE users ADD COLUMN budget_pico_usd bigint;
ALTER TABLE users ADD COLUMN budget_period text CHECK (budget_period IN ('day', 'month'));
"""

# Usage alerts and their webhook outbox: see SQLite's migration 15. The users trigger fires on
# every update, so counting an alert on its user moves the auth generation.
_V6_ALERTS = """
ALTER TABLE users ADD COLUMN alert_count integer NOT NULL DEFAULT 0;
CREATE TABLE alerts (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    name text NOT NULL,
    metric text NOT NULL CHECK (metric IN ('cost_usd', 'requests', 'tokens')),
    threshold double precision NOT NULL,
    relative_to text NOT NULL,
    amount bigint NOT NULL,
    period text NOT NULL,
    created_at timestamptz NOT NULL,
    last_fired_at timestamptz
);
CREATE INDEX alerts_user ON alerts (user_id, created_at);
CREATE TABLE alert_events (
    id text PRIMARY KEY,
    alert_id text NOT NULL,
    user_id text NOT NULL,
    period_key text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    delivered_at timestamptz,
    last_error text NOT NULL DEFAULT '',
    lease_until timestamptz,
    UNIQUE (alert_id, period_key)
);
CREATE INDEX alert_events_user ON alert_events (user_id, created_at);
CREATE INDEX alert_events_due ON alert_events (next_attempt_at)
WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL;
"""

# Login tokens ended by a log-out (`Store.revoke_token`) until they expire (SQLite's migration 16).
_V7_REVOKED_TOKENS = """
CREATE TABLE revoked_tokens (
    token_id text PRIMARY KEY,
    user_id text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
CREATE TABLE revocations (
    id integer PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
);
INSERT INTO revocations (id, value) VALUES (1, 0);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "users, keys, sessions, the ledger with its daily rollup, claims, leases", _V1_SCHEMA),
    Migration(2, "API key expiry and rotation, with the old secrets' grace", _V2_KEY_ROTATION),
    Migration(3, "users' roles: user or admin", _V3_ROLES),
    Migration(4, "API key budgets in USD, and the ledger by key", _V4_KEY_BUDGETS),
    Migration(5, "user budgets in USD", _V5_USER_BUDGETS),
    Migration(6, "usage alerts and their webhook outbox", _V6_ALERTS),
    Migration(7, "login tokens revoked by a log-out", _V7_REVOKED_TOKENS),
)

# The version table and the lock are named after the schema, so that schemas of one database
# (tests, or several gateways) migrate independently.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('aihub.migrations:' || current_schema(), 0))"
_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS aihub_migrations (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version the given migrations lead to."""
    return migrations[-1].version if migrations else 0


async def apply_migrations(conn: Conn, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the pending migrations in one transaction under the schema's advisory lock; the
    versions applied (none when another replica applied them first)."""
    if await conn.fetchval("SELECT current_schema()") is None:
        raise RuntimeError(
            "the database has no schema to create AI Hub's tables in: the first schema of the "
            "search_path does not exist (create it, or fix options=-csearch_path=... in the URL)"
        )
    latest = latest_version(migrations)
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute(_LOCK)
        await conn.execute(_VERSION_TABLE)
        version = int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM aihub_migrations"))
        if version > latest:
            raise SchemaTooNewError(
                f"the database schema is at version {version}, but this AI Hub only knows versions up "
                f"to {latest}: upgrade AI Hub, or point it at another database"
            )
        for migration in migrations:
            if migration.version <= version:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO aihub_migrations (version, description) VALUES ($1, $2)",
                migration.version,
                migration.description,
            )
            applied.append(migration.version)
    return applied
