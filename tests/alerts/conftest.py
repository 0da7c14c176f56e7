"""Fixtures of the usage alerts' tests: a webhook receiver on loopback, and a SQLite store with one
user holding one alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from aihub_core.store import open_store
from aihub_core.store.base import AlertRecord, Store, StoreOptions, UserRecord

SECRET = "whsec-0123456789abcdef"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@dataclass
class Receiver:
    """A webhook receiver that answers 500 to its first `failures` requests."""

    failures: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        if len(self.requests) <= self.failures:
            return web.Response(status=500)
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    app = web.Application()
    app.router.add_post("/hook", made.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    made.url = f"http://127.0.0.1:{port}/hook"
    yield made
    await runner.cleanup()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'aihub.db'}", StoreOptions(keep_lease=False))
    await opened.open()
    await opened.create_user(UserRecord("usr_1", "a@example.com", "h", "free", T0))
    await opened.create_alert(AlertRecord("alert_1", "usr_1", "", "requests", 0, "", 5, "day", T0))
    yield opened
    await opened.close()
