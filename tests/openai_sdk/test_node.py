"""The `openai` npm package against a real gateway (`node --test node/openai.test.mjs`).

The package is pinned in node/package.json and package-lock.json and installed here with
`npm ci` when node_modules is absent (a fresh clone, CI)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import httpx

from aihub_core.app import Core
from tests.conftest import Account
from tests.openai_sdk.client import base_url
from tests.openai_sdk.test_python_errors import new_key

PACKAGE = Path(__file__).with_name("node")


async def run(command: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=PACKAGE,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


async def test_the_openai_npm_package_drives_the_gateway(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node is not None and npm is not None, "Node.js and npm are needed"
    if not (PACKAGE / "node_modules" / "openai" / "package.json").exists():
        status, out = await run([npm, "ci", "--silent", "--no-audit", "--no-fund"])
        assert status == 0, out
    env = {
        **os.environ,
        "AIHUB_BASE_URL": base_url(http),
        "AIHUB_KEY": account.key,
        "AIHUB_MODELS_KEY": await new_key(http, account, permissions=["models"]),
        "AIHUB_LIMITED_KEY": await new_key(http, account, rate_limit={"requests_per_minute": 1}),
        "AIHUB_UPSTREAM": "healthy",
    }
    status, out = await run([node, "--test", "openai.test.mjs"], env)
    assert status == 0, out
    assert "# pass 7" in out and "# fail 0" in out, out

    core.upstreams.simulators["openrouter"].scenario = "error-500"
    status, out = await run([node, "--test", "openai.test.mjs"], {**env, "AIHUB_UPSTREAM": "failing"})
    assert status == 0, out
    assert "# pass 1" in out and "# fail 0" in out, out
