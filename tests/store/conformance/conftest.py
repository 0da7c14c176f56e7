"""The conformance suite's fixtures: every test runs once per backend (`backends.BACKENDS`), on a
database of its own; `store` is a store opened on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aihub_core.store.base import Store
from tests.store.conformance.backends import BACKENDS, Backend, opened


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """This test's database on one backend: makes stores on it and reads its ledger."""
    async with BACKENDS[request.param](tmp_path) as made:
        yield made


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    async with opened(backend.store()) as ready:
        yield ready
