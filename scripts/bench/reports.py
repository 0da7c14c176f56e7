"""Reports at scale: fill one user's ledger with a year of usage rows, then time /usage?period=year,
a 90-day start_date/end_date range and /quota, through the Store API (UsageReporter, what the
servicer calls) and through the REST route of a real gateway (core and shim in process).

    .venv/bin/python scripts/bench/reports.py                      # both backends, 10 million rows
    .venv/bin/python scripts/bench/reports.py --backend sqlite --rows 1000000 --repeat 30

The rows are written the fast way (PostgreSQL: one INSERT ... SELECT FROM generate_series, the
rollup added from them in the same transaction; SQLite: one recursive INSERT whose triggers keep
the rollup, as settlements do). SQLite's file goes to .bench/reports/; PostgreSQL's schema
`aihub_bench_reports` (in AIHUB_TEST_POSTGRES_URL's database, default the local `test`) is dropped
at the end unless --keep. The target (issue 13): each report in at most 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aihub_cli.http_server import start_http  # noqa: E402
from aihub_core.app import Core  # noqa: E402
from aihub_core.identity import Caller  # noqa: E402
from aihub_core.services.usage import UsageReporter  # noqa: E402
from aihub_core.settings import Settings  # noqa: E402
from aihub_http.app import create_app  # noqa: E402
from tests.postgres import schema_url, server_url  # noqa: E402

# Reads are not what is measured: a plan without limits, so none is refused.
from tests.test_crash_recovery import UNLIMITED  # noqa: E402

SCHEMA = "aihub_bench_reports"
DEV = "/v1/developer"
# Row i of n: a moment spread evenly over the 365 days before now; every 50th an error, every
# 97th cancelled; tokens and cost vary with i. The same formulas in both backends' SQL.
_PG_FILL = """
WITH src AS (
    SELECT i, $2::timestamptz - make_interval(secs => i * 31536000.0 / $3) AS at
    FROM generate_series(1, $3) AS i
), ins AS (
    INSERT INTO usage_records (request_id, user_id, key_id, service, model, prompt_tokens,
        completion_tokens, cost_pico_usd, status, usage_source, created_at, settled_at, owner)
    SELECT 'bench_' || i, $1, NULL, 'openrouter', 'x-ai/grok-beta', 10 + i % 90, 20 + i % 400,
        (30 + i % 490) * 2000000,
        CASE WHEN i % 50 = 0 THEN 'error' WHEN i % 97 = 0 THEN 'cancelled' ELSE 'ok' END,
        'provider', at, at, NULL
    FROM src
    RETURNING user_id, created_at, prompt_tokens + completion_tokens AS tokens, cost_pico_usd
)
INSERT INTO usage_daily AS d (user_id, day, requests, tokens, cost_pico_usd)
SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(tokens), sum(cost_pico_usd)
FROM ins GROUP BY 1, 2
ON CONFLICT (user_id, day) DO UPDATE SET requests = d.requests + excluded.requests,
    tokens = d.tokens + excluded.tokens, cost_pico_usd = d.cost_pico_usd + excluded.cost_pico_usd
"""
_SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO usage_records (request_id, user_id, key_id, service, model, prompt_tokens,
    completion_tokens, cost_pico_usd, status, usage_source, created_at, settled_at, owner)
SELECT 'bench_' || i, :user, NULL, 'openrouter', 'x-ai/grok-beta', 10 + i % 90, 20 + i % 400,
    (30 + i % 490) * 2000000,
    CASE WHEN i % 50 = 0 THEN 'error' WHEN i % 97 = 0 THEN 'cancelled' ELSE 'ok' END,
    'provider', at, at, NULL
FROM (SELECT i, strftime('%Y-%m-%dT%H:%M:%f000+00:00', :now - i * 365.0 / :rows) AS at FROM n)
"""


async def fill_postgres(user_id: str, rows: int, now: datetime) -> None:
    conn = await asyncpg.connect(server_url())
    try:
        await conn.execute(f"SET search_path TO {SCHEMA}")
        async with conn.transaction():
            await conn.execute(_PG_FILL, user_id, now, rows)
        await conn.execute("ANALYZE usage_records; ANALYZE usage_daily")
    finally:
        await conn.close()


def fill_sqlite(path: Path, user_id: str, rows: int, now: datetime) -> None:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        julian = now.timestamp() / 86400 + 2440587.5  # the Julian day number SQLite's dates count in
        with conn:  # one transaction; the triggers keep the rollup
            conn.execute(_SQLITE_FILL, {"rows": rows, "user": user_id, "now": julian})
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> dict[str, float]:
    """Milliseconds per call over `repeat` calls, after one warm-up call."""
    await call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50": round(statistics.median(times), 2),
        "p95": round(times[int(len(times) * 0.95) - 1], 2),
        "max": round(times[-1], 2),
    }


async def run_backend(backend: str, rows: int, repeat: int, keep: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="aihub-bench-reports-"))
    config = work / "plans.toml"
    config.write_text(UNLIMITED)
    if backend == "postgres":
        await _reset_schema(drop_only=False)
        url = schema_url(SCHEMA)
    else:
        db_dir = ROOT / ".bench" / "reports"
        shutil.rmtree(db_dir, ignore_errors=True)
        db_dir.mkdir(parents=True)
        url = f"sqlite:///{db_dir / 'aihub.db'}"
    settings = Settings(
        grpc_port=0,
        http_port=0,
        database_url=url,
        jwt_secret="bench-secret-0123456789abcdef0123456789abcdef",
        simulate=True,
        config_path=config,
    )
    core = await Core.start(settings)
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as http:
            login = (
                await http.post(
                    "/v1/auth/register", json={"email": "bench@example.com", "password": "pass-word"}
                )
            ).json()
            jwt = {"Authorization": f"Bearer {login['token']}"}
            key = (await http.post(f"{DEV}/api-keys", json={"name": "bench"}, headers=jwt)).json()["key"]
            auth = {"Authorization": f"Bearer {key}"}
            await core.store.set_plan("bench@example.com", "unlimited")
            now = datetime.now(UTC)
            started = time.perf_counter()
            if backend == "postgres":
                await fill_postgres(login["user_id"], rows, now)
            else:
                await asyncio.to_thread(
                    fill_sqlite, Path(url.removeprefix("sqlite:///")), login["user_id"], rows, now
                )
            fill_seconds = time.perf_counter() - started
            today = now.date()
            first = (today - timedelta(days=89)).isoformat()
            reporter = UsageReporter(core.store)
            caller = Caller(login["user_id"], core_plan(core))
            year = await reporter.usage(caller, "year", "", "")
            results = {
                "backend": backend,
                "rows": rows,
                "fill_seconds": round(fill_seconds, 1),
                "year_requests": year.total_requests,
                "store": {
                    "usage_year": await timed(lambda: reporter.usage(caller, "year", "", ""), repeat),
                    "usage_90_days": await timed(
                        lambda: reporter.usage(caller, "", first, today.isoformat()), repeat
                    ),
                    "quota": await timed(lambda: reporter.quota(caller), repeat),
                    # Reads the window's ledger rows (no rollup by model and key): grows with them.
                    "breakdown_year": await timed(lambda: reporter.breakdown(caller, "year", "", ""), repeat),
                    "breakdown_90_days": await timed(
                        lambda: reporter.breakdown(caller, "", first, today.isoformat()), repeat
                    ),
                },
                "rest": {
                    "usage_year": await timed(lambda: _get(http, "/usage?period=year", auth), repeat),
                    "usage_90_days": await timed(
                        lambda: _get(http, f"/usage?start_date={first}&end_date={today}", auth), repeat
                    ),
                    "quota": await timed(lambda: _get(http, "/quota", auth), repeat),
                },
            }
    finally:
        await server.stop()
        await core.stop(grace=0)
        shutil.rmtree(work, ignore_errors=True)
        if backend == "postgres" and not keep:
            await _reset_schema(drop_only=True)
    return results


def core_plan(core: Core) -> Any:
    from aihub_core.limits.plans import Plans
    from aihub_core.operator_config import load_operator_config

    path = core.settings.config_path
    assert path is not None
    return Plans(extra=load_operator_config(path, {}).plans).require("unlimited")


async def _get(http: httpx.AsyncClient, path: str, auth: dict[str, str]) -> None:
    response = await http.get(DEV + path, headers=auth)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")


async def _reset_schema(*, drop_only: bool) -> None:
    conn = await asyncpg.connect(server_url())
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        if not drop_only:
            await conn.execute(f"CREATE SCHEMA {SCHEMA}")
    finally:
        await conn.close()


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (milliseconds: p50 / p95 / max)."""
    lines = [
        "| backend | rows | fill | path | /usage?period=year | /usage 90 days | /quota |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for path in ("store", "rest"):
            cells = [
                f"{t['p50']} / {t['p95']} / {t['max']}"
                for t in (result[path][name] for name in ("usage_year", "usage_90_days", "quota"))
            ]
            fill = f"{result['fill_seconds']} s"
            lines.append(
                f"| {result['backend']} | {result['rows']:,} | {fill} | {path} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep PostgreSQL's schema")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results = [asyncio.run(run_backend(b, args.rows, args.repeat, args.keep)) for b in backends]
    machine = platform.processor() or platform.machine()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {machine}, {os.cpu_count()} cores")
    print(table(results))
    worst = max(t["p95"] for r in results for p in ("store", "rest") for t in r[p].values())
    print(f"worst p95: {worst} ms (target: each report in at most 50 ms)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
