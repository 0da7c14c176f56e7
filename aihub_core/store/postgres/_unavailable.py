"""When the database cannot be reached: which driver failures mean that, and the error a caller
gets for them (503 `database_unavailable`: the call fails closed, and nothing is half-written).

Unreachable covers a refused or lost connection (the server down, restarting, a network cut, a
backend terminated by an administrator), a connect or statement timeout, and a server refusing
connections or cancelling statements (shutdown, too many clients, `statement_timeout`). Anything
else (a constraint, a bug) stays what it is.
"""

from __future__ import annotations

import asyncpg

from aihub_core.errors import ServiceUnavailableError

_UNREACHABLE = (
    OSError,  # refused, reset, no route: the socket's own errors
    TimeoutError,  # connect_timeout, command_timeout
    asyncpg.PostgresConnectionError,  # the connection broke in the middle of a statement
    asyncpg.OperatorInterventionError,  # shutdown, terminated backend, cancelled statement
    asyncpg.TooManyConnectionsError,
)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (rather than what a statement did)."""
    if isinstance(exc, _UNREACHABLE):
        return True
    # A pooled connection the server or the network closed, used before the pool noticed.
    return isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc)


def database_unavailable() -> ServiceUnavailableError:
    """The answer while the database cannot be reached."""
    return ServiceUnavailableError(
        "The database is unreachable: the call was not completed and is not charged",
        code="database_unavailable",
        suggestion="Retry in a few seconds",
    )
