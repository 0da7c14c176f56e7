"""Three `aihub serve` replicas on one PostgreSQL and one Redis behave as one gateway: exact limits
of every kind under a mixed burst spread over them, one ledger, a key deleted through one refused
by another at once, and a replica SIGKILLed under load (behind nginx, with the config of
docs/deploy.md) whose in-flight calls a live replica settles once its lease has expired, with
every complete answer matched by exactly one ledger row and none left pending."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from aihub_core.store import open_store
from tests.postgres import PostgresSchema
from tests.replicas.cluster import Replica, replicas
from tests.replicas.nginx import nginx
from tests.replicas.shared import (
    DEV,
    api_key,
    fetch,
    gateway_env,
    ledger,
    shared_state,
)
from tests.stalled_calls import HELD, STALLING, UPSTREAM_ENV, Upstream, stalling_upstream
from tests.waiting import eventually, within_one_minute

pytestmark = pytest.mark.postgres

# A replica renews its lease every third of it. The lease is short so that the victim's calls are
# recovered soon after the kill, but not so short that a live replica loses its own: on a loaded
# 2-core machine (CI, `pytest -n auto`) a replica answered a burst's calls in 3 to 8 s, its
# renewal came late, and a 2 s lease ended under it (another replica then settled its calls in
# flight as errors: seen as 4 `error` rows among the burst's).
LEASE_SECONDS = 10.0
SHORT = {"message": "hi", "max_tokens": 6}  # one piece: unary calls that need not stay in flight
# Per user: its plan (tests/replicas/shared.py), the burst's calls and body, the calls admitted.
# The limits on calls in flight and tokens a minute count calls to the test's upstream that it
# holds (tests/stalled_calls.py) until every call of the burst is held there or refused.
BURSTS: dict[str, tuple[str, int, dict[str, Any], int]] = {
    "rpm": ("rpm", 12, SHORT, 5),
    "monthly": ("monthly", 10, SHORT, 4),
    "concurrent": ("concurrent", 8, {"message": "hi", "stream": True, "model": HELD}, 3),
    # Each call holds its estimate (a few prompt tokens + max_tokens 100) of the 400 a minute.
    "tpm": ("tpm", 8, {"message": "hi", "max_tokens": 100, "stream": True, "model": HELD}, 3),
    "key-rpm": ("open", 8, SHORT, 3),  # the key's own limit: 3 a minute
}


def _set_plans(schema: PostgresSchema, plans: dict[str, str]) -> None:
    """Each account's plan, set as `aihub users set-plan` sets it (`Store.set_plan`), from here."""

    async def run() -> None:
        store = open_store(schema.url)
        await store.open()
        try:
            for email, plan in plans.items():
                assert await store.set_plan(email, plan)
        finally:
            await store.close()

    asyncio.run(run())


def _make_key(base: str, jwt: dict[str, str], **body: Any) -> dict[str, Any]:
    made = httpx.post(f"{base}{DEV}/api-keys", json={"name": "k", **body}, headers=jwt, timeout=30)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _burst(
    cluster: list[Replica], keys: dict[str, dict[str, str]], upstream: Upstream
) -> dict[str, Counter[int]]:
    """Every user's burst at once, interleaved, call i on replica i % 3; the status codes. The
    calls admitted to the held model answer once every call is held there or answered."""
    # Interleaved, one call of each user in turn: every replica sees every kind at once.
    most = max(n for _, n, _, _ in BURSTS.values())
    calls = [(user, body) for i in range(most) for user, (_, n, body, _) in BURSTS.items() if i < n]

    async def one(i: int, user: str, body: dict[str, Any], client: httpx.AsyncClient) -> tuple[str, int]:
        answer = await client.post(
            f"{cluster[i % len(cluster)].base}{DEV}/chat", json=body, headers=keys[user]
        )
        return user, answer.status_code

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        tasks = [asyncio.create_task(one(i, user, body, client)) for i, (user, body) in enumerate(calls)]
        while sum(task.done() for task in tasks) + upstream.held() < len(tasks):
            await asyncio.wait(tasks, timeout=0.02)  # (polls the upstream's count)
        upstream.release()
        codes = await asyncio.gather(*tasks)
    counted: dict[str, Counter[int]] = {user: Counter() for user in BURSTS}
    for user, code in codes:
        counted[user][code] += 1
    return counted


@dataclass
class Load:
    """The load through nginx: the complete answers it received, by request id."""

    received: dict[str, dict[str, Any]] = field(default_factory=dict)
    after_kill: int = 0
    killed: float = 0.0  # when the victim was killed (epoch seconds)
    _more: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, request_id: str, usage: dict[str, Any]) -> None:
        """One more complete answer."""
        self.received[request_id] = usage
        self.after_kill += bool(self.killed)
        self._more.set()

    async def reach(self, count: int, deadline: float) -> None:
        """Until `count` answers are in, or the deadline (time.monotonic) has passed."""
        while len(self.received) < count and time.monotonic() < deadline:
            self._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), deadline - time.monotonic())


async def _client_load(base: str, auth: dict[str, str], load: Load, stop: asyncio.Event, n: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        i = n
        while not stop.is_set():
            i += 1
            try:
                if i % 2:
                    answer = await client.post(f"{DEV}/chat", json=SHORT, headers=auth)
                    if answer.status_code != 200:
                        continue
                    body = answer.json()
                    request_id, usage = body["metadata"]["request_id"], body["usage"]
                else:
                    request_id, usage = await _stream(client, auth)
                    if usage is None:
                        continue
            except (httpx.HTTPError, json.JSONDecodeError):
                continue  # cut by the kill: not received completely
            load.add(request_id, usage)


async def _stream(client: httpx.AsyncClient, auth: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
    async with client.stream("POST", f"{DEV}/chat/stream", json=SHORT, headers=auth) as answer:
        if answer.status_code != 200:
            return "", None
        usage = None
        async for line in answer.aiter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if event["type"] == "usage":
                    usage = event["usage"]
                elif event["type"] == "done":
                    return answer.headers["x-request-id"], usage
        return "", None


async def _ignore_http_errors(*exc_info: object) -> bool:
    """Closing a stream the kill cut may fail: it is over either way."""
    return isinstance(exc_info[1], httpx.HTTPError)


async def _kill_under_load(
    victim: Replica, via: str, auth: dict[str, str], schema: PostgresSchema
) -> tuple[Load, list[str]]:
    """Load through nginx; two calls held open on the victim; SIGKILL it once the load runs, go on
    a while on the survivors. The load, and the request ids the victim had in flight."""
    load, stop = Load(), asyncio.Event()
    workers = [asyncio.create_task(_client_load(via, auth, load, stop, n)) for n in range(6)]
    deadline = time.monotonic() + 30
    await load.reach(6, deadline)
    held = []
    # The held streams' line readers stay referenced until the end: a reader dropped mid-stream
    # is finalized (aclose), which can close its connection, and the victim would then settle
    # that call as cancelled before it is killed.
    readers = []
    # They stall after their first piece (tests/stalled_calls.py): in flight until the kill.
    held_body = {"message": "hi", "model": STALLING}
    async with (
        httpx.AsyncClient(base_url=victim.base, timeout=60) as direct,
        contextlib.AsyncExitStack() as streams,
    ):
        streams.push_async_exit(_ignore_http_errors)  # unwound last: sees the streams' own exits
        for _ in range(2):
            answer = await streams.enter_async_context(
                direct.stream("POST", f"{DEV}/chat/stream", json=held_body, headers=auth)
            )
            assert answer.status_code == 200
            lines = answer.aiter_lines()
            readers.append(lines)
            while not (await anext(lines)).startswith("data:"):
                pass
            held.append(answer.headers["x-request-id"])

        def reserved() -> bool:  # a reservation is queued: one still in the victim's queue dies with it
            rows = ledger(schema)
            return all(request_id in rows and rows[request_id]["status"] == "pending" for request_id in held)

        await eventually(lambda: asyncio.to_thread(reserved), "the held calls' pending rows", seconds=30)
        victim.kill()
        load.killed = time.time()
        await load.reach(len(load.received) + 12, deadline)
        stop.set()
        await asyncio.gather(*workers)
    return load, held


def _settled(schema: PostgresSchema) -> dict[str, dict[str, Any]]:
    """The ledger once no row is pending (a killed replica's: once its lease has expired)."""
    deadline = time.monotonic() + LEASE_SECONDS + 30
    while time.monotonic() < deadline:
        rows = ledger(schema)
        if not [row for row in rows.values() if row["status"] == "pending"]:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"rows still pending: {[r for r in rows.values() if r['status'] == 'pending']}")


def test_three_replicas_behave_as_one_gateway(tmp_path: Path) -> None:
    with shared_state() as shared:
        schema = shared.schema
        env = gateway_env(tmp_path, shared, AIHUB_LEASE_SECONDS=str(LEASE_SECONDS), **UPSTREAM_ENV)
        # The victim (replica 0) on "another machine": its death is seen only as its lease expiring.
        with (
            stalling_upstream(tmp_path / "aihub.toml") as upstream,
            replicas(tmp_path, env, 3, elsewhere={0}) as cluster,
        ):
            # Accounts made through different replicas.
            keys, jwts = {}, {}
            for n, user in enumerate([*BURSTS, "load"]):
                keys[user], jwts[user] = api_key(cluster[n % 3].base, f"{user}@example.com")
            limited = _make_key(cluster[1].base, jwts["key-rpm"], rate_limit={"requests_per_minute": 3})
            keys["key-rpm"] = {"Authorization": f"Bearer {limited['key']}"}
            _set_plans(
                schema,
                {f"{u}@example.com": p for u, (p, *_) in BURSTS.items()} | {"load@example.com": "open"},
            )

            # 1. A mixed burst over the three: every limit admits exactly its figure. The burst and
            # the refusal after it in one minute window (the per-minute limits' windows).
            within_one_minute(20)
            counted = asyncio.run(_burst(cluster, keys, upstream))
            for user, (_, calls, _, admitted) in BURSTS.items():
                assert counted[user] == Counter({200: admitted, 429: calls - admitted}), (user, counted)
            refused_before = httpx.post(
                f"{cluster[2].base}{DEV}/chat", json=SHORT, headers=keys["rpm"], timeout=30
            )
            assert refused_before.status_code == 429  # the minute's 5 are spent (see below)
            # One ledger row per call: the refused ones at no cost (and the refusal after the
            # burst), the admitted ones answered.
            by_status = Counter(row["status"] for row in _settled(schema).values())
            assert by_status["refused"] == sum(n - a for _, n, _, a in BURSTS.values()) + 1, by_status
            assert by_status["ok"] == sum(a for *_, a in BURSTS.values()), by_status
            # /usage is the same whichever replica answers.
            reports = [
                httpx.get(f"{r.base}{DEV}/usage", headers=keys["concurrent"], timeout=30).json()
                for r in cluster
            ]
            assert reports[0].get("total_requests") == 3, reports
            assert reports[1:] == reports[:1] * 2

            # A plan changed (as `aihub users set-plan` does) applies on every replica at its next
            # request: the minute's 5 requests were spent (refused above), and the open plan has no
            # such limit.
            _set_plans(schema, {"rpm@example.com": "open"})
            for replica in cluster:
                answer = httpx.post(f"{replica.base}{DEV}/chat", json=SHORT, headers=keys["rpm"], timeout=30)
                assert answer.status_code == 200, answer.text

            # 2. A key deleted through one replica is refused by another at its next request.
            doomed = _make_key(cluster[0].base, jwts["load"])
            doomed_auth = {"Authorization": f"Bearer {doomed['key']}"}
            assert (
                httpx.post(
                    f"{cluster[2].base}{DEV}/chat", json=SHORT, headers=doomed_auth, timeout=30
                ).status_code
                == 200
            )
            deleted = httpx.delete(
                f"{cluster[1].base}{DEV}/api-keys/{doomed['id']}", headers=jwts["load"], timeout=30
            )
            assert deleted.status_code in (200, 204), deleted.text
            refused = httpx.post(f"{cluster[2].base}{DEV}/chat", json=SHORT, headers=doomed_auth, timeout=30)
            assert refused.status_code == 401, refused.text

            # 3. Behind nginx, one replica SIGKILLed under load.
            with nginx(tmp_path / "nginx", [r.http_port for r in cluster]) as port:
                load, in_flight = asyncio.run(
                    _kill_under_load(cluster[0], f"http://127.0.0.1:{port}", keys["load"], schema)
                )
            assert load.after_kill >= 12, load  # the survivors carried the load on
            # The victim's calls wait for its lease, then a live replica settles them.
            rows = _settled(schema)
            for request_id in in_flight:
                row = rows[request_id]
                assert (row["status"], row["recovered"], row["cost_pico_usd"]) == ("error", True, 0)
                # Not before its lease ran out (renewed at most a third of a lease before the kill).
                assert row["settled_at"].timestamp() >= load.killed + LEASE_SECONDS * 2 / 3 - 0.05
            assert len(fetch(schema, "SELECT owner FROM leases")) == 2  # the survivors' alone
            for request_id, usage in load.received.items():
                row = rows[request_id]  # one row per request id: the primary key
                assert (row["status"], row["recovered"]) == ("ok", False), row
                assert (row["prompt_tokens"], row["completion_tokens"]) == (
                    usage["prompt_tokens"],
                    usage["completion_tokens"],
                )
                assert row["cost_pico_usd"] / 10**12 == usage["estimated_cost_usd"]
