"""The usage alerts' webhook end to end (issue 14's test): `aihub serve` as a process, a local
receiver that fails the first deliveries, both stopped (the gateway killed) and restarted, the
gateway first: every crossing arrives, signed, and the receiver acts on each once by its id."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from aihub_core.alerts.webhook import verify
from tests.alerts.test_metrics import alerts_of, figures
from tests.test_cli import clean_env, http_port_of, serve, wait_for_banner
from tests.waiting import eventually

DEV = "/v1/developer"
SECRET = "whsec-test-0123456789abcdef"
CONFIG = """
[alerts]
url = "http://127.0.0.1:{port}/hook"
secret_env = "AIHUB_TEST_HOOK_SECRET"
retry_seconds = 0.2
max_retry_seconds = 0.5
timeout_seconds = 1
poll_seconds = 0.2

[plans.unlimited]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""


@dataclass
class Receiver:
    """A receiver as its docs tell it to be: verify the signature, refuse what fails, act on each
    event id once (the ids acted on kept in a file, so they survive its restarts)."""

    port: int
    acted_file: Path
    failures_left: int = 0
    deliveries: list[str] = field(default_factory=list)
    acted: list[str] = field(default_factory=list)
    bodies: dict[str, dict[str, object]] = field(default_factory=dict)
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not verify(SECRET, headers, body, time.time()):
            self.bad_signatures += 1
            return web.Response(status=400)
        event = json.loads(body)
        assert headers["x-aihub-event-id"] == event["id"]
        self.deliveries.append(event["id"])
        if self.failures_left > 0:
            self.failures_left -= 1
            return web.Response(status=500)
        done = set(self.acted_file.read_text().split()) if self.acted_file.exists() else set()
        if event["id"] not in done:  # at least once in, exactly once acted on
            self.acted.append(event["id"])
            self.bodies[event["id"]] = event
            with self.acted_file.open("a") as out:
                out.write(event["id"] + "\n")
        return web.Response(status=204)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        # The port is held (held_port) while the receiver is down: it listens with a socket of
        # its own on it, beside the held one (SO_REUSEPORT).
        await web.TCPSite(runner, "127.0.0.1", self.port, reuse_port=True).start()
        try:
            yield
        finally:
            await runner.cleanup()


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port of the test's for its whole length, bound but not listening (a connection
    to it is refused): the receiver's, where the gateway's config points, which no other process
    can take while the receiver is down and which it listens on again when it restarts."""
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@contextlib.asynccontextmanager
async def gateway(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[str]:
    """`aihub serve` on ports 0 for the block: its REST base URL."""
    # Popen returns at once (the child starts on its own); the waits below run in a thread.
    with serve(tmp_path, env) as process:
        try:
            # The receiver keeps answering meanwhile.
            banner = await asyncio.to_thread(wait_for_banner, process)
            yield f"http://127.0.0.1:{http_port_of(banner)}"
        finally:
            process.kill()
            await asyncio.to_thread(process.wait, 30)


def events_in(db: Path) -> dict[str, str | None]:
    """Every recorded crossing: its event id and when it was delivered."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return dict(conn.execute("SELECT id, delivered_at FROM alert_events").fetchall())


async def chats(base: str, auth: dict[str, str], n: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(n):
            answered = await client.post(f"{DEV}/chat", json={"message": "hello"}, headers=auth)
            assert answered.status_code == 200, answered.text


async def test_every_crossing_arrives_signed_and_is_acted_on_once_across_restarts(
    tmp_path: Path, held_port: int
) -> None:
    # Until the gateway is killed, the receiver refuses every delivery.
    receiver = Receiver(held_port, tmp_path / "acted.txt", failures_left=10_000)
    config = tmp_path / "aihub.toml"
    config.write_text(CONFIG.format(port=receiver.port))
    env = {**clean_env(), "AIHUB_CONFIG": str(config), "AIHUB_TEST_HOOK_SECRET": SECRET}
    db = tmp_path / "aihub.db"

    async with receiver.running():
        async with gateway(tmp_path, env) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                registered = await client.post(
                    "/v1/auth/register", json={"email": "hook@example.com", "password": "pass-word"}
                )
                jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
                key = (await client.post(f"{DEV}/api-keys", json={"name": "k"}, headers=jwt)).json()["key"]
                auth = {"Authorization": f"Bearer {key}"}
                for body in (
                    {"metric": "requests", "value": 2, "period": "day"},
                    {"metric": "tokens", "value": 1},
                    {"metric": "cost_usd", "value": 0.000001, "period": "day"},
                ):
                    made = await client.post(f"{DEV}/alerts", json=body, headers=jwt)
                    assert made.status_code == 201, made.text
            await chats(base, auth, 3)
            await eventually(lambda: len(events_in(db)) == 3, "three crossings recorded")
            # Each delivered and refused (500), retried: the gateway dies with all of them owed.
            await eventually(lambda: len(set(receiver.deliveries)) == 3, "the first deliveries, refused")
        assert all(delivered is None for delivered in events_in(db).values())

    # Both are down; the gateway comes back first, and retries into a receiver still down.
    async with gateway(tmp_path, env) as base:
        await chats(base, auth, 2)  # more calls: the same period, nothing fires again
        await asyncio.sleep(1.0)
        assert len(events_in(db)) == 3
        async with receiver.running():
            receiver.failures_left = 1  # and it fails once more after its restart
            await eventually(
                lambda: all(events_in(db).values()), "every crossing delivered after the restarts", seconds=30
            )
            # A new alert, crossed after the restarts, arrives the same way.
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                await client.post(
                    f"{DEV}/alerts", json={"metric": "requests", "value": 5, "period": "month"}, headers=jwt
                )
            await chats(base, auth, 1)
            await eventually(lambda: len(events_in(db)) == 4 and all(events_in(db).values()), "the fourth")
            # This gateway's own counts (it recorded the fourth crossing; it delivered all four),
            # and the outbox's, read from the database at the scrape: nothing owed.
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                scraped = alerts_of(figures((await client.get("/metrics")).text))
            assert scraped["aihub_alert_crossings_total"] == 1
            assert scraped["aihub_alert_deliveries_total{delivered}"] == 4
            assert scraped["aihub_alert_deliveries_total{failed}"] >= 1
            assert (scraped["aihub_alert_outbox_owed"], scraped["aihub_alert_outbox_oldest_age_seconds"]) == (
                0,
                0,
            )

    recorded = events_in(db)
    assert sorted(receiver.acted) == sorted(recorded)  # every crossing acted on, each once
    assert receiver.bad_signatures == 0
    assert set(receiver.deliveries) == set(recorded) and len(receiver.deliveries) >= len(recorded) + 4
    alerts = {str(body["alert"]["id"]) for body in receiver.bodies.values()}  # type: ignore[index]
    assert len(alerts) == 4 and {b["type"] for b in receiver.bodies.values()} == {"usage_alert"}
