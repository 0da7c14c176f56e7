"""PostgreSQL database URLs: libpq's `postgresql://user:password@host:port/dbname?param=value`.

asyncpg reads most of libpq's parameters itself (host, port, user, password, dbname, passfile,
service, sslmode and the ssl* files, target_session_attrs, krbsrvname, gsslib) and sends any other
one to the server as a setting, which is right for `application_name` and `options` but turns a
client-side parameter it does not know into a failed connection ("unrecognized configuration
parameter"). So the parameters are checked here: `connect_timeout` becomes asyncpg's `timeout`,
the libpq parameters asyncpg cannot honour are refused by name, and so is any unknown one (a typo
must not reach the server as a setting). The password is never printed: errors name the URL as
`redacted_url` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from aihub_core.errors import InvalidRequestError
from aihub_core.store import redacted_url

# libpq parameters asyncpg reads and honours itself.
_HONOURED = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "user",
        "password",
        "dbname",
        "passfile",
        "service",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslpassword",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
    }
)
# Sent to the server as settings, as libpq does.
_SERVER_SETTINGS = frozenset({"application_name", "options"})
# libpq parameters asyncpg would send to the server as settings, where they fail or mean something
# else: refused, rather than silently not doing what libpq would.
_UNSUPPORTED = frozenset(
    {
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "channel_binding",
        "gssencmode",
        "gssdelegation",
        "requirepeer",
        "require_auth",
        "replication",
        "load_balance_hosts",
        "sslcompression",
        "sslsni",
        "sslcertmode",
        "sslrootcert_mode",
        "fallback_application_name",
        "client_encoding",
    }
)
DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class PostgresURL:
    """A checked URL: the DSN asyncpg connects with, its connect timeout, and how to print it."""

    dsn: str
    connect_timeout: float
    shown: str


def parse_url(database_url: str) -> PostgresURL:
    """Check a postgresql:// (or postgres://) URL; InvalidRequestError naming what is wrong."""
    url = database_url.strip()
    shown = redacted_url(url)
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise _bad(shown, "the URL must start with postgresql://")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _bad(shown, "its parameters are not name=value pairs joined by &") from None
    timeout = DEFAULT_CONNECT_TIMEOUT
    kept: list[tuple[str, str]] = []
    for name, value in query:
        if name == "connect_timeout":
            timeout = _seconds(value, shown)
        elif name in _UNSUPPORTED:
            raise _bad(shown, f"the libpq parameter {name!r} is not supported by AI Hub's driver (asyncpg)")
        elif name in _HONOURED or name in _SERVER_SETTINGS:
            kept.append((name, value))
        else:
            raise _bad(shown, f"unknown parameter {name!r}")
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(kept, quote_via=quote), ""))
    return PostgresURL(dsn=dsn, connect_timeout=timeout, shown=shown)


def _seconds(value: str, shown: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise _bad(shown, f"connect_timeout must be a positive number of seconds, got {value!r}")
    return seconds


def _bad(shown: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"database URL {shown}: {why}", code="unsupported_database", param="database_url"
    )
