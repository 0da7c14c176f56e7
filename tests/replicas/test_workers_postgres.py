"""`aihub serve --workers N` on PostgreSQL: the supervisor migrates and recovers once, the workers
share one limit through Redis, and a killed worker's calls are settled at once (its process is
gone from this machine, so its lease ends without waiting) while the other worker's run on
(tests/stalled_calls.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.replicas.shared import api_key, gateway_env, ledger, shared_state
from tests.stalled_calls import UPSTREAM_ENV, kill_a_worker_mid_calls, stalling_upstream
from tests.test_cli import http_port_of, run_aihub, stopped, wait_for_banner
from tests.test_cli_workers import _start, _wait_gone, _worker_pids, at_once
from tests.waiting import within_one_minute

pytestmark = pytest.mark.postgres


def _statuses(rows: dict[str, dict[str, object]]) -> list[tuple[object, object]]:
    return sorted((row["status"], row["recovered"]) for row in rows.values())


def test_workers_on_postgres_share_limits_and_settle_a_killed_workers_calls(tmp_path: Path) -> None:
    with shared_state() as shared:
        schema = shared.schema
        env = gateway_env(tmp_path, shared, **UPSTREAM_ENV)
        with stalling_upstream(tmp_path / "aihub.toml"), _start(tmp_path, env=env) as process:
            try:
                banner = wait_for_banner(process, "limits")
                assert "postgresql://" in banner
                pids, http_port = _worker_pids(banner), http_port_of(banner)
                base = f"http://127.0.0.1:{http_port}"
                auth, _ = api_key(base, "pg-workers@example.com")
                done = run_aihub(tmp_path, env, "users", "set-plan", "pg-workers@example.com", "rpm")
                assert done.returncode == 0, done.stderr
                within_one_minute(15)  # the eight at once, in one minute window
                codes = at_once(base, auth, 8)
                assert sorted(codes) == [200] * 5 + [429] * 3, codes
                assert _statuses(ledger(schema)) == [("ok", False)] * 5 + [("refused", False)] * 3

                done = run_aihub(tmp_path, env, "users", "set-plan", "pg-workers@example.com", "open")
                assert done.returncode == 0, done.stderr
                before = set(ledger(schema))

                def new_statuses() -> list[tuple[str, bool]]:
                    rows = ledger(schema)
                    return sorted(
                        (row["status"], row["recovered"]) for k, row in rows.items() if k not in before
                    )

                kill_a_worker_mid_calls(base, auth, pids, http_port, new_statuses)
            finally:
                stopped(process, timeout=60)
        assert _wait_gone(pids) == []
        # Every lease ended with its store: nothing is left for a later run to recover.
        assert ledger(schema) and not [r for r in ledger(schema).values() if r["status"] == "pending"]
