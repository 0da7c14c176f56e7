"""SQLite database URLs: `sqlite:///PATH`, a bare path, or `:memory:`."""

from __future__ import annotations

from pathlib import Path

from aihub_core.errors import InvalidRequestError
from aihub_core.store import unsupported_scheme

MEMORY = ":memory:"


def sqlite_path(database_url: str) -> Path | str:
    """The file (or `:memory:`) of a `sqlite:///PATH` URL or a bare path."""
    url = database_url.strip()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
    elif "://" in url or url.startswith("sqlite:"):
        raise unsupported_scheme(url)
    else:
        path = url
    if not path:
        raise InvalidRequestError(
            "the database URL names no file: use sqlite:///PATH (sqlite:////abs/path for an absolute one)",
            param="database_url",
        )
    return MEMORY if path == MEMORY else Path(path).expanduser()
