"""Providers' model lists: OpenRouter's string prices and sentinels, Gemini's names and methods, and
fetching every page over the shared upstream client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.providers.listings import Listed, ListingError, gemini_page, openrouter_page
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators import GeminiSimulator
from aihub_core.simulators.server import HTTPRequest, HTTPServer, Responder
from tests.providers.conftest import GEMINI_KEY, gemini_provider


def router(
    model_id: str, prompt: Any = "0.000001", completion: Any = "0.000002", **extra: Any
) -> dict[str, Any]:
    return {"id": model_id, "pricing": {"prompt": prompt, "completion": completion}, **extra}


def test_openrouter_prices_are_decimal_strings_per_token() -> None:
    page = openrouter_page(
        {
            "data": [
                router(
                    "acme/widget",
                    "0.0000002",
                    "0.0000006",
                    name="Acme: Widget",
                    context_length=131072,
                    architecture={"input_modalities": ["text", "image"]},
                    top_provider={"max_completion_tokens": 16384},
                )
            ]
        }
    )
    assert page.models == [
        Listed(
            "acme/widget", "Acme: Widget", None, 131072, 16384, 0.0000002, 0.0000006, ("chat", "multimodal")
        )
    ]
    assert page.next is None and page.skipped == []


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (router("openrouter/auto", "-1", "-1"), "router pseudo-model (price -1)"),
        (router("a/b", "0.1", "-1"), "router pseudo-model (price -1)"),
        (router("a/b", "free", "0"), "no usable price"),
        (router("a/b", None, "0"), "no usable price"),
        ({"id": "a/b"}, "no usable price"),
    ],
)
def test_openrouter_skips_pseudo_models_and_unpriced_entries(entry: dict[str, Any], reason: str) -> None:
    page = openrouter_page({"data": [entry]})
    assert page.models == [] and page.skipped == [(entry["id"], reason)]


def test_openrouter_null_context_length_says_nothing() -> None:
    (model,) = openrouter_page({"data": [router("a/b", context_length=None, top_provider=None)]}).models
    assert model.context_length is None and model.max_output_tokens is None
    assert "context_length" not in model.known()
    (sized,) = openrouter_page(
        {"data": [router("a/b", context_length=None, top_provider={"context_length": 8})]}
    ).models
    assert sized.context_length == 8


def test_openrouter_follows_links_next() -> None:
    assert openrouter_page({"data": [], "links": {"next": "/api/v1/models?offset=500"}}).next == (
        "/api/v1/models?offset=500"
    )


def test_gemini_keeps_generate_content_models_without_the_prefix() -> None:
    page = gemini_page(
        {
            "models": [
                {
                    "name": "models/gemini-2.5-flash",
                    "displayName": "Gemini 2.5 Flash",
                    "inputTokenLimit": 1048576,
                    "outputTokenLimit": 65536,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                },
                {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
            ],
            "nextPageToken": "abc",
        }
    )
    assert page.models == [Listed("gemini-2.5-flash", "Gemini 2.5 Flash", None, 1048576, 65536)]
    assert page.models[0].prompt_price is None  # Gemini's list has no prices
    assert page.next == "abc"


@pytest.mark.parametrize("body", [[], {"data": "x"}, "text", None])
def test_bodies_that_are_not_lists_are_refused(body: object) -> None:
    with pytest.raises(ListingError):
        openrouter_page(body)


# Fetching the lists: the adapters page through them over the shared client, with chat's errors.

Answer = tuple[int, object]  # status and JSON body (bytes: sent as they are)


@asynccontextmanager
async def upstream(answers: Callable[[HTTPRequest], Answer]) -> AsyncIterator[tuple[str, list[HTTPRequest]]]:
    """A loopback upstream answering each request with `answers(request)`; yields its URL and record."""
    seen: list[HTTPRequest] = []

    async def handle(request: HTTPRequest, responder: Responder) -> None:
        seen.append(request)
        status, body = answers(request)
        if body is STALL:
            await asyncio.sleep(30)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await responder.send(status, {"content-type": "application/json"}, data)

    server = HTTPServer(handle)
    port = await server.start()
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        await server.stop()


STALL = object()
KEY = "sk-listing-test-0123456789"


def lister(url: str, client: aiohttp.ClientSession, **timeouts: float) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider("router", url, KEY, client, UpstreamTimeouts(**timeouts))


async def test_gemini_lists_are_read_page_by_page_with_the_key_in_its_header(
    gemini_sim: GeminiSimulator, client: aiohttp.ClientSession
) -> None:
    listing = await gemini_provider(gemini_sim, client).list_models(gemini_page, page_size=2)
    requests = [r for r in gemini_sim.requests if r.path.endswith("/models")]
    chats = sorted(m.id for m in gemini_sim.models.values() if m.chat)
    assert sorted(m.id for m in listing.models) == chats and listing.next is None
    assert len(requests) >= 3 and {r.query.get("pageSize") for r in requests} == {"2"}
    assert requests[0].query.get("pageToken") is None and all(r.query.get("pageToken") for r in requests[1:])
    assert {r.headers["x-goog-api-key"] for r in requests} == {GEMINI_KEY}


async def test_openrouter_lists_follow_links_next_on_the_same_origin(client: aiohttp.ClientSession) -> None:
    def answers(request: HTTPRequest) -> Answer:
        if request.query.get("offset") == "1":
            return 200, {"data": [router("b/two")]}
        return 200, {"data": [router("a/one")], "links": {"next": "/v1/models?offset=1"}}

    async with upstream(answers) as (url, seen):
        listing = await lister(url, client).list_models(openrouter_page)
    assert [m.id for m in listing.models] == ["a/one", "b/two"]
    assert [(r.path, r.query) for r in seen] == [("/v1/models", {}), ("/v1/models", {"offset": "1"})]
    assert {r.headers["authorization"] for r in seen} == {f"Bearer {KEY}"}


@pytest.mark.parametrize(
    ("status", "body", "error", "retryable"),
    [
        (401, {"error": {"message": f"bad key {KEY}", "code": 401}}, UpstreamAuthError, "false"),
        (503, {"error": {"message": "overloaded"}}, UpstreamError, "true"),
        (504, {"error": {"message": "gateway timeout"}}, UpstreamTimeoutError, "true"),
        (200, b"<html>a proxy's page</html>", UpstreamError, "true"),
        (200, {"data": "not a list"}, UpstreamError, "false"),
    ],
)
async def test_a_failed_list_raises_what_a_chat_call_would(
    client: aiohttp.ClientSession, status: int, body: object, error: type[UpstreamError], retryable: str
) -> None:
    async with upstream(lambda _: (status, body)) as (url, _):
        with pytest.raises(UpstreamError) as raised:
            await lister(url, client).list_models(openrouter_page)
    assert type(raised.value) is error and raised.value.details["retryable"] == retryable
    assert raised.value.details["service"] == "router" and KEY not in raised.value.message


async def test_a_list_that_never_starts_times_out_as_a_chat_call_does(client: aiohttp.ClientSession) -> None:
    async with upstream(lambda _: (200, STALL)) as (url, _):
        with pytest.raises(UpstreamTimeoutError, match=r"router sent no response within 0\.2s"):
            await lister(url, client, first_byte=0.2).list_models(openrouter_page)


@pytest.mark.parametrize(
    ("following", "message", "requests"),
    [
        ("/v1/models", "router repeated the model list's page cursor '/v1/models'", 2),
        ("http://elsewhere.invalid/v1/models", "router pointed its model list to another origin", 1),
    ],
)
async def test_a_list_that_loops_or_leaves_its_origin_is_refused(
    client: aiohttp.ClientSession, following: str, message: str, requests: int
) -> None:
    page = {"data": [router("a/one")], "links": {"next": following}}
    async with upstream(lambda _: (200, page)) as (url, seen):
        with pytest.raises(UpstreamError, match=message):
            await lister(url, client).list_models(openrouter_page)
    assert len(seen) == requests  # the key never went to another origin
