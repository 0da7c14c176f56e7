"""The conformance suite's fixtures: every test runs once per backend (`backends.BACKENDS`), on a
database of its own; `store` is a store opened on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aihub_core.store.base import Store, StoreOptions
from tests.store.conformance.backends import BACKENDS, Backend, opened


# PostgreSQL's tests carry the `postgres` mark: `-m "not postgres"` leaves them out on a machine
# without one (tests/postgres.py); they never skip on their own.
@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in sorted(BACKENDS)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """This test's database on one backend: makes stores on it and reads its ledger."""
    async with BACKENDS[request.param](tmp_path) as made:
        yield made


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    # Its lease kept by hand: no background recovery on the real clock meets the tests' own clocks.
    async with opened(backend.store(StoreOptions(keep_lease=False))) as ready:
        yield ready
