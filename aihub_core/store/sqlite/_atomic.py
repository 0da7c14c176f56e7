"""`atomic(db)`: sqlite_utils' `Database.atomic()`, with one fixed savepoint name.

sqlite_utils names each savepoint afresh (`sqlite_utils_<32 random hex digits>`), so its
`SAVEPOINT` and `RELEASE` are new SQL texts every time: SQLite parses and plans both again (the
statement cache never hits) on every ledger write inside a batch. A savepoint name may repeat:
`RELEASE` and `ROLLBACK TO` act on the most recent savepoint of that name, so nested blocks work
as with distinct names. Outside a transaction it is sqlite_utils' own `BEGIN ... COMMIT`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aihub_core.store.sqlite._sqlite_utils import Database

_NAME = "aihub_write"


@contextmanager
def atomic(db: Database) -> Iterator[Database]:
    """A transaction, or a savepoint of the one already open; undone if the block raises."""
    if not db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute(f"SAVEPOINT {_NAME}")
    try:
        yield db
    except BaseException:
        # An error such as a failed COMMIT may already have ended the whole transaction (and its
        # savepoints): cleaning up then would hide the original error behind "no such savepoint".
        if db.conn.in_transaction:
            db.conn.execute(f"ROLLBACK TO SAVEPOINT {_NAME}")
            db.conn.execute(f"RELEASE SAVEPOINT {_NAME}")
        raise
    else:
        db.conn.execute(f"RELEASE SAVEPOINT {_NAME}")
