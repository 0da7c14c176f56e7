"""`open_store`: which URL schemes name a backend, and which are refused."""

from __future__ import annotations

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.store import open_store


@pytest.mark.parametrize("url", ["postgresql://u:p@db/aihub", "postgres://db/aihub"])
def test_postgresql_is_announced_for_later(url: str) -> None:
    with pytest.raises(InvalidRequestError, match="PostgreSQL storage lands in a later issue") as caught:
        open_store(url)
    assert caught.value.details["parameter"] == "database_url"


@pytest.mark.parametrize("url", ["mysql://db/aihub", "sqlite://relative.db", "sqlite:///", ""])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequestError):
        open_store(url)


@pytest.mark.parametrize("url", ["mysql://db/aihub", "sqlite://relative.db", "SQLITE:///x.db"])
def test_an_unknown_scheme_is_named_with_its_code(url: str) -> None:
    with pytest.raises(InvalidRequestError, match="unsupported database URL scheme") as caught:
        open_store(url)
    assert caught.value.code == "unsupported_database"
