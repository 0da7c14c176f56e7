"""`kill -9` under load: every response a client received completely is in the ledger, exactly as
the response said, and no reservation hangs after the restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.test_cli import clean_env, http_port_of, run_aihub, serve, wait_for_banner

DEV = "/v1/developer"
WORKERS = 8
LOAD_SECONDS = 1.0  # of load before the kill
# A plan without limits, so that the load is answered rather than refused.
UNLIMITED = """
[plans.unlimited]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""


@dataclass(frozen=True)
class Received:
    """What a complete response told its client."""

    request_id: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float

    @classmethod
    def of(cls, request_id: str, usage: dict[str, Any]) -> Received:
        """From a response's usage object."""
        return cls(
            request_id, usage["prompt_tokens"], usage["completion_tokens"], usage["estimated_cost_usd"]
        )


@dataclass
class Load:
    """The clients' side of the run."""

    server: subprocess.Popen[str]
    started: float = field(default_factory=time.monotonic)
    received: list[Received] = field(default_factory=list)
    cut: str | None = None  # a stream that was mid-answer when the server was killed

    def kill_during(self, request_id: str) -> None:
        """SIGKILL the server once the load has run a while and answered every worker's worth of
        calls (a loaded machine answers slowly: the count, not the clock, says the load was real),
        from inside a streaming answer."""
        ran = time.monotonic() - self.started >= LOAD_SECONDS and len(self.received) >= WORKERS
        if self.cut is None and ran:
            self.server.kill()
            self.cut = request_id


@contextlib.contextmanager
def serving(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    with serve(tmp_path, env) as process:
        try:
            yield process, f"http://127.0.0.1:{http_port_of(wait_for_banner(process))}"
        finally:
            process.kill()
            process.wait(timeout=30)


def ledger(db: Path) -> dict[str, dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return {row["request_id"]: dict(row) for row in conn.execute("SELECT * FROM usage_records")}


async def chat(client: httpx.AsyncClient, auth: dict[str, str], load: Load) -> None:
    response = await client.post(f"{DEV}/chat", json={"message": "Tell me about ledgers"}, headers=auth)
    if response.status_code == 200:
        body = response.json()  # a complete body: a cut one fails to read or to parse
        assert body["metadata"]["request_id"] == response.headers["x-request-id"]
        load.received.append(Received.of(body["metadata"]["request_id"], body["usage"]))


async def stream(client: httpx.AsyncClient, auth: dict[str, str], load: Load) -> None:
    body = {"message": "Tell me a long story about ledgers"}
    async with client.stream("POST", f"{DEV}/chat/stream", json=body, headers=auth) as response:
        if response.status_code != 200:
            return
        request_id = response.headers["x-request-id"]
        usage: dict[str, Any] | None = None
        pieces = 0
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event["type"] == "content":
                pieces += 1
                if pieces == 1:  # the rest of the answer, paced, is still to come: it is in flight
                    load.kill_during(request_id)
            elif event["type"] == "usage":
                usage = event["usage"]
            elif event["type"] == "done" and usage is not None:
                load.received.append(Received.of(request_id, usage))


async def worker(n: int, base: str, auth: dict[str, str], load: Load) -> None:
    """Alternate unary and streamed chats until the server is gone."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for i in range(10_000):
            try:
                await (stream if (n + i) % 2 else chat)(client, auth, load)
            except (httpx.HTTPError, json.JSONDecodeError):
                return  # the server died under this call: it was not received completely
            if time.monotonic() - load.started > 15:
                return


def set_up_account(base: str, tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=10) as client:
        registered = client.post(
            "/v1/auth/register", json={"email": "load@example.com", "password": "pass-word"}
        )
        jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
        key = client.post(f"{DEV}/api-keys", json={"name": "load"}, headers=jwt).json()["key"]
    set_plan = run_aihub(tmp_path, env, "users", "set-plan", "load@example.com", "unlimited")
    assert set_plan.returncode == 0, set_plan.stderr
    return {"Authorization": f"Bearer {key}"}


async def test_sigkill_under_load_loses_no_received_response(tmp_path: Path) -> None:
    config = tmp_path / "aihub.toml"
    config.write_text(UNLIMITED)
    # Paced chunks keep streams in flight, so the kill lands in the middle of answers.
    env = {**clean_env(), "AIHUB_CONFIG": str(config), "AIHUB_SIMULATOR_CHUNK_DELAY_MS": "20"}
    db = tmp_path / "aihub.db"

    with serving(tmp_path, env) as (server, base):
        auth = set_up_account(base, tmp_path, env)
        load = Load(server)
        await asyncio.gather(*(worker(n, base, auth, load) for n in range(WORKERS)))
        assert server.wait(timeout=30) < 0  # killed by the signal, not stopped
    assert load.cut is not None, "the server was not killed mid-stream"
    assert len(load.received) >= WORKERS  # the load was real before the kill
    left_open = ledger(db)
    assert left_open[load.cut]["status"] == "pending"  # reserved, never settled: the crash cut it

    with serving(tmp_path, env) as (_, base):
        rows = ledger(db)  # recovery ran before the server took calls
        assert [r for r in rows.values() if r["status"] == "pending"] == []
        for got in load.received:
            row = rows[got.request_id]
            assert (row["status"], row["recovered"]) == ("ok", 0)
            assert (row["prompt_tokens"], row["completion_tokens"]) == (
                got.prompt_tokens,
                got.completion_tokens,
            )
            assert row["cost_pico_usd"] / 10**12 == got.cost_usd  # the exact cost, as answered
        cut = rows[load.cut]
        assert (cut["status"], cut["usage_source"], cut["recovered"], cut["cost_pico_usd"]) == (
            "error",
            "none",
            1,
            0,
        )
        assert {r["request_id"] for r in rows.values() if r["recovered"]} == {
            request_id for request_id, row in left_open.items() if row["status"] == "pending"
        }

        days = sorted({row["created_at"][:10] for row in rows.values()})
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            window = {"start_date": days[0], "end_date": days[-1]}
            report = (await client.get(f"{DEV}/usage", params=window, headers=auth)).json()
    billable = [r for r in rows.values() if r["status"] in ("ok", "error", "cancelled")]
    by_day = {day: sum(r["cost_pico_usd"] for r in billable if r["created_at"][:10] == day) for day in days}
    assert report["total_requests"] == len(billable)
    assert report["total_tokens"] == sum(r["prompt_tokens"] + r["completion_tokens"] for r in billable)
    assert report["total_cost_usd"] == sum(by_day.values()) / 10**12  # summed exactly, converted once
    assert {d["date"]: d["cost_usd"] for d in report["daily_breakdown"]} == {
        day: pico / 10**12 for day, pico in by_day.items()
    }
