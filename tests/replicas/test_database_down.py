"""The database lost under a running gateway, then back: calls fail closed with 503
`database_unavailable` in the spec's shape, nothing is half-written, and the gateway recovers by
itself. Only the network edge is simulated: a forwarder between the gateway and the real
PostgreSQL, cut and restored (`tcp_cut`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres import server_url
from tests.replicas.shared import DEV, api_key, fetch, gateway_env, ledger, shared_state
from tests.replicas.tcp_cut import tcp_cut
from tests.test_cli import http_port_of, run_aihub, serve, stopped, wait_for_banner

pytestmark = pytest.mark.postgres

LEASE_SECONDS = "1.5"  # the lease keeper retries (and recovers) every half second


def _events(answer: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in answer.iter_lines() if line.startswith("data:")]


def _assert_database_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("api_error", "database_unavailable")
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


def test_a_lost_database_fails_calls_closed_and_the_gateway_recovers_alone(tmp_path: Path) -> None:
    direct = server_url().split("@")[-1].split("/")[0]  # host:port of the real server
    host, port = direct.rsplit(":", 1)
    with shared_state() as shared, tcp_cut((host, int(port))) as link:
        schema = shared.schema
        env = gateway_env(tmp_path, shared, AIHUB_LEASE_SECONDS=LEASE_SECONDS)
        env["AIHUB_DATABASE_URL"] = schema.url.replace(direct, f"127.0.0.1:{link.port}")
        env["AIHUB_SIMULATOR_CHUNK_DELAY_MS"] = "100"
        with serve(tmp_path, env) as process:
            try:
                base = f"http://127.0.0.1:{http_port_of(wait_for_banner(process))}"
                auth, jwt = api_key(base, "down@example.com")
                done = run_aihub(tmp_path, env, "users", "set-plan", "down@example.com", "open")
                assert done.returncode == 0, done.stderr
                with httpx.Client(base_url=base, timeout=30) as client:
                    assert client.post(f"{DEV}/chat", json={"message": "hi"}, headers=auth).status_code == 200
                    # Lost in the middle of a streamed answer: it ends with an error, never `done`.
                    body = {"message": "tell me a story"}
                    keyed = {**auth, "Idempotency-Key": "cut-by-the-loss"}
                    with client.stream("POST", f"{DEV}/chat/stream", json=body, headers=keyed) as answer:
                        lines = answer.iter_lines()
                        assert next(line for line in lines if line.startswith("data:"))
                        cut_id = answer.headers["x-request-id"]
                        link.cut()
                        rest = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
                    assert rest[-1]["type"] == "error", rest
                    assert rest[-1]["error"]["code"] == "database_unavailable"
                    assert "done" not in {event["type"] for event in rest}
                    before = ledger(schema)
                    for _ in range(3):  # while it is gone: refused, at once, in the spec's shape
                        _assert_database_unavailable(
                            client.post(f"{DEV}/chat", json={"message": "hi"}, headers=auth)
                        )
                        _assert_database_unavailable(client.get(f"{DEV}/usage", headers=auth))
                        _assert_database_unavailable(client.get(f"{DEV}/api-keys", headers=jwt))
                    assert client.get("/healthz").status_code == 200  # the process itself is fine
                    assert ledger(schema) == before  # nothing written meanwhile
                    assert before[cut_id]["status"] == "pending"  # reserved before the loss

                    link.restore()  # back: no restart, no operator
                    answer = client.post(f"{DEV}/chat", json={"message": "hi"}, headers=auth)
                    assert answer.status_code == 200, answer.text
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline and ledger(schema)[cut_id]["status"] == "pending":
                        time.sleep(0.1)
                    usage = client.get(f"{DEV}/usage", headers=auth).json()
                    # Its Idempotency-Key was freed with it: a retry runs afresh (not 409).
                    with client.stream("POST", f"{DEV}/chat/stream", json=body, headers=keyed) as retry:
                        assert retry.status_code == 200
                        assert retry.headers["x-request-id"] != cut_id
                        assert _events(retry)[-1]["type"] == "done"
                rows = ledger(schema)
                cut = rows.pop(cut_id)
                # The cut call: settled once the database was back, as an uncharged error.
                assert (cut["status"], cut["recovered"], cut["cost_pico_usd"]) == ("error", True, 0)
                assert sorted(row["status"] for row in rows.values()) == ["ok", "ok", "ok"]
                assert usage["total_requests"] == 3  # the two answered then, and the cut one
                daily = fetch(schema, "SELECT sum(requests) AS n FROM usage_daily")
                assert daily == [{"n": 4}]  # and the retry
            finally:
                stopped(process, timeout=60)
