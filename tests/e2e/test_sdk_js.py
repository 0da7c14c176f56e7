"""The JavaScript SDK against the real gateway (Node.js runs tests/e2e/js_sdk_flow.mjs)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest

SCRIPT = Path(__file__).with_name("js_sdk_flow.mjs")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
async def test_the_js_sdk_drives_the_gateway(http: httpx.AsyncClient) -> None:
    node = shutil.which("node")
    assert node is not None
    process = await asyncio.create_subprocess_exec(
        node, str(SCRIPT), str(http.base_url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["model"] == "openrouter:x-ai/grok-beta"
    assert seen["totalTokens"] == seen["promptPlusCompletion"] > 0
    assert seen["limit"] == 20 and seen["streamedLength"] > 0 and seen["quotaUsed"] == 2
    assert seen["notFound"]["status"] == 404 and seen["notFound"]["code"] == "model_not_found"
    assert seen["afterDelete"] == 401
    alert = seen["alert"]
    assert alert["id"].startswith("alert_") and (alert["limit"], alert["period"]) == (1, "day")
    assert alert["observed"] == 2  # the two calls made before it was set
    assert seen["alertsListed"] == [alert["id"]] and seen["alertDeleted"] is True
    assert seen["badAlert"] == {"status": 400, "parameter": "of"}
