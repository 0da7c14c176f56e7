"""Failures inside the chat engine: whatever breaks, the call is recorded exactly once."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import httpx

from aihub_core.app import Core
from aihub_core.messages import EmbeddingRequest, ProviderRequest
from aihub_core.providers.base import Completion, Embeddings, Provider, StreamEvent, TextDelta
from tests.conftest import Account
from tests.e2e.sse import sse_events

DEV = "/v1/developer"


class BreaksAfterOnePiece:
    """A provider with a bug: one piece of text, then an exception that is not ours."""

    def __init__(self, real: Provider) -> None:
        self._real = real
        self.closed = False

    @property
    def name(self) -> str:
        return self._real.name

    @property
    def simulated(self) -> bool:
        return True

    def check(self, request: ProviderRequest) -> None:
        self._real.check(request)

    async def complete(self, request: ProviderRequest) -> Completion:
        raise ValueError("bug in the adapter")

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        raise ValueError("bug in the adapter")

    async def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        try:
            yield TextDelta("partial answer")
            raise ValueError("bug in the adapter")
        finally:
            self.closed = True


async def test_an_unexpected_error_mid_stream_is_recorded_and_reported(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    broken = BreaksAfterOnePiece(core.upstreams.providers["openrouter"])
    core.upstreams.providers["openrouter"] = broken
    async with http.stream(
        "POST", f"{DEV}/chat/stream", json={"message": "hi"}, headers=account.key_auth
    ) as r:
        events = await sse_events(r)
    assert [e["type"] for e in events] == ["content", "error"]
    assert events[-1]["error"]["type"] == "api_error" and "bug" not in events[-1]["error"]["message"]
    assert broken.closed
    unary = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert unary.status_code == 500 and unary.json()["error"]["code"] == "internal_error"
    usage = (await http.get(f"{DEV}/usage", params={"period": "day"}, headers=account.key_auth)).json()
    assert usage["total_requests"] == 2
    assert usage["total_tokens"] > 0  # the streamed call: prompt and partial answer, estimated


async def test_the_model_field_of_an_answer_can_be_sent_back(
    http: httpx.AsyncClient, account: Account
) -> None:
    first = (
        await http.post(f"{DEV}/chat", json={"message": "hi", "service": "gemini"}, headers=account.key_auth)
    ).json()
    again = await http.post(
        f"{DEV}/chat", json={"message": "hi", "model": first["model"]}, headers=account.key_auth
    )
    assert again.status_code == 200 and again.json()["model"] == "gemini:gemini-2.5-flash"
