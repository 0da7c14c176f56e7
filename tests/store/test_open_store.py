"""`open_store`: which URL schemes name a backend, and which are refused."""

from __future__ import annotations

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.store import open_store


@pytest.mark.parametrize("url", ["postgresql://u:p@db/aihub", "postgres://db/aihub"])
def test_postgresql_urls_make_a_postgres_store(url: str) -> None:
    store = open_store(url)  # made unopened: nothing connects yet
    assert type(store).__name__ == "PostgresStore"


@pytest.mark.parametrize("url", ["mysql://db/aihub", "sqlite://relative.db", "sqlite:///", ""])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequestError):
        open_store(url)


@pytest.mark.parametrize("url", ["mysql://db/aihub", "sqlite://relative.db", "SQLITE:///x.db"])
def test_an_unknown_scheme_is_named_with_its_code(url: str) -> None:
    with pytest.raises(InvalidRequestError, match="unsupported database URL scheme") as caught:
        open_store(url)
    assert caught.value.code == "unsupported_database"
