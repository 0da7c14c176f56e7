"""Schemathesis over the whole OpenAPI document, against a real gateway on loopback.

Every operation is called with generated requests, valid and invalid, and every answer is checked
against the document: no 5xx, a documented status, content type, headers and body, invalid input
refused. Bounded: a fixed number of examples per operation and a fixed seed, under a minute here.

Left out, with reason: `positive_data_acceptance`, which expects every schema-valid request to
succeed; the API also refuses what no schema can say (a service or model the catalog does not
have, a page token it never issued, `end_date` without `start_date`, images that are not base64,
`max_tokens` above the model's own limit), each with a documented 4xx.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_http.app import create_app
from tests.conftest import isolated_settings, make_account

OPEN_PLAN = """
[plans.open]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""
MAX_EXAMPLES = 40
SEED = 20251203


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[str, Core]]:
    """A whole gateway (core and shim) whose test account has a plan without limits, so that the
    run tests the API rather than the rate limits."""
    config = tmp_path / "aihub.toml"
    config.write_text(OPEN_PLAN)
    core = await Core.start(isolated_settings(tmp_path, config_path=config))
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.port}", core
    finally:
        await server.stop()
        await core.stop(grace=0)


@pytest.mark.timeout(600)
async def test_the_api_answers_as_its_openapi_document_says(
    gateway: tuple[str, Core], tmp_path: Path
) -> None:
    url, core = gateway
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is in the dev extra"
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        account = await make_account(client, "schemathesis@example.com")
    assert await core.store.set_plan(account.email, "open")
    (tmp_path / "schemathesis.toml").write_text(
        f'[auth.openapi.ApiKey]\nbearer = "{account.key}"\n'
        f'[auth.openapi.LoginToken]\nbearer = "{account.token}"\n'
    )
    process = await asyncio.create_subprocess_exec(
        st,
        "run",
        f"{url}/openapi.json",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--exclude-checks",
        "positive_data_acceptance",
        # The live quota is an endless stream (its own tests read it: test_watch_quota.py).
        "--exclude-path",
        "/v1/developer/quota/watch",
        "--no-color",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=540)
    report = out.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert " passed" in report and "failures" not in report.splitlines()[-1]
