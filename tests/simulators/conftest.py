"""Simulators on loopback and a plain HTTP client to look at their wire format."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as plain:
        yield plain


@pytest.fixture
async def openrouter_sim() -> AsyncIterator[OpenRouterSimulator]:
    async with OpenRouterSimulator(chunk_delay_ms=0) as sim:
        yield sim


@pytest.fixture
async def gemini_sim() -> AsyncIterator[GeminiSimulator]:
    async with GeminiSimulator(chunk_delay_ms=0) as sim:
        yield sim


def cuts_a_character(data: bytes) -> bool:
    """Whether a read ends (or starts) inside a UTF-8 sequence."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
