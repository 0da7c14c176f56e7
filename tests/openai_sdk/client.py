"""The official `openai` package pointed at a real gateway on loopback, as a user would."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from openai import AsyncOpenAI

# Typed as Any: the SDK's TypedDicts add nothing a test of the wire format needs.
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
ASK_WEATHER = "What is the weather in Oslo? Call get_weather."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PNG_DATA_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def base_url(http: httpx.AsyncClient) -> str:
    """The gateway's OpenAI-compatible base URL, as a user configures it."""
    return str(http.base_url).rstrip("/") + "/v1"


def openai_client(http: httpx.AsyncClient, key: str, max_retries: int = 0) -> AsyncOpenAI:
    """An `AsyncOpenAI` client for the gateway behind `http` (no retries unless asked)."""
    return AsyncOpenAI(base_url=base_url(http), api_key=key, max_retries=max_retries)
