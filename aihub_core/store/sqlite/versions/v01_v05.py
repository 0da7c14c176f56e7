"""SQLite schema versions 1 to 5: the first schema, reservations, idempotency keys, the auth
generation, owners. Their text is final: databases already migrated are checked against it."""

from __future__ import annotations

# Times are ISO-8601 UTC strings of one fixed width, so text order is time order and the first
# ten characters are the UTC day. Emails are stored lower-cased, which makes the unique index
# case-insensitive for all of Unicode (COLLATE NOCASE would only fold ASCII).
V1_SCHEMA = """
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
V2_RESERVATIONS = """
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
V3_IDEMPOTENCY = """
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
V4_AUTH_GENERATION = f"""
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
V5_OWNERS = """
ALTER TABLE usage_records ADD COLUMN owner TEXT;
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;
"""
