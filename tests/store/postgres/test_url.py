"""PostgreSQL URLs: libpq's parameters honoured, mapped or refused by name, and the password never
shown, in an error or a log line."""

from __future__ import annotations

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.store import redacted_url
from aihub_core.store.postgres.url import DEFAULT_CONNECT_TIMEOUT, parse_url

SECRET = "s3cr3t-pw"


def test_the_usual_parameters_pass_and_connect_timeout_becomes_the_drivers() -> None:
    url = parse_url(
        f"postgresql://aihub:{SECRET}@db.example:6432/aihub?sslmode=verify-full&sslrootcert=/ca.pem"
        "&application_name=aihub&connect_timeout=3&options=-c%20statement_timeout%3D5000"
    )
    assert url.connect_timeout == 3.0
    assert "connect_timeout" not in url.dsn
    assert "sslmode=verify-full" in url.dsn and "application_name=aihub" in url.dsn
    assert "options=-c%20statement_timeout%3D5000" in url.dsn
    assert SECRET not in url.shown and url.shown.startswith("postgresql://aihub:***@db.example:6432/aihub?")
    assert parse_url("postgres://db/aihub").connect_timeout == DEFAULT_CONNECT_TIMEOUT


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("keepalives=1", "'keepalives' is not supported"),
        ("channel_binding=require", "'channel_binding' is not supported"),
        ("gssencmode=disable", "'gssencmode' is not supported"),
        ("sslmod=require", "unknown parameter 'sslmod'"),
        ("connect_timeout=soon", "connect_timeout must be a positive number"),
        ("password", "unknown parameter 'password'"[:0] or "name=value"),
    ],
)
def test_a_parameter_the_driver_cannot_honour_is_refused_by_name(query: str, named: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_url(f"postgresql://aihub:{SECRET}@db/aihub?{query}&password={SECRET}")
    assert named in caught.value.message
    assert SECRET not in caught.value.message
    assert caught.value.code == "unsupported_database"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://aihub:{SECRET}@db/aihub",
        f"postgresql://aihub:{SECRET}@h1:5432,h2:5433/aihub?sslmode=require",
        f"postgresql:///aihub?host=/run/postgresql&password={SECRET}",
        f"postgres://aihub:{SECRET}/with@slash@db/aihub",
    ],
)
def test_redaction_never_shows_the_password(url: str) -> None:
    shown = redacted_url(url)
    assert SECRET not in shown and "***" in shown
    assert redacted_url("sqlite:///./aihub.db") == "sqlite:///./aihub.db"
