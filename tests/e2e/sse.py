"""Read the shim's SSE events in tests."""

from __future__ import annotations

import json
from typing import Any

import httpx


async def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    """Every `data:` event of a streamed response, decoded."""
    events: list[dict[str, Any]] = []
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
            if data:
                events.append(json.loads(data))
    return events
