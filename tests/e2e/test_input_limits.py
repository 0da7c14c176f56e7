"""Input limits end to end: the operator's default and a plan's own bound the characters (a
session's history included) and image bytes of /chat, the message-array RPCs and embeddings; a
call beyond them is a 400 `input_too_long` naming the limit, with nothing admitted or charged."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import conversation_pb2 as conv_pb
from aihub.v1 import embedding_service_pb2 as embed_pb
from aihub.v1 import embedding_service_pb2_grpc as embed_grpc
from aihub_core.app import Core
from aihub_core.store.base import UsageLogQuery
from tests.conftest import Account, isolated_settings, make_account
from tests.e2e.completions import user
from tests.e2e.test_grpc import bearer, error_info, new_key
from tests.e2e.test_rest_chat import png_base64
from tests.fake_clock import FakeClock

DEV = "/v1/developer"
DEFAULT_CHARS = 2000
PLANS = """
[plans.tiny_images]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
max_input_image_bytes = 50

[plans.roomy]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
max_input_chars = 0
"""


@pytest.fixture
async def core(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Core]:
    config = tmp_path / "aihub.toml"
    config.write_text(PLANS, encoding="utf-8")
    settings = isolated_settings(tmp_path, max_input_chars=DEFAULT_CHARS, config_path=config)
    running = await Core.start(settings, clock=clock)
    try:
        yield running
    finally:
        await running.stop(grace=0)


async def _nothing_counted(http: httpx.AsyncClient, account: Account) -> None:
    """No ledger row and no admission: the logs are empty and the quota untouched."""
    logs = (await http.get(f"{DEV}/usage/logs", headers=account.key_auth)).json()["logs"]
    quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
    assert logs == [] and quota["quota_used"] == 0


def _refusal(answer: httpx.Response, limit: str, maximum: int, actual: int, param: str) -> None:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "input_too_long")
    assert error["details"] == {
        "limit": limit,
        "maximum": str(maximum),
        "actual": str(actual),
        "parameter": param,
    }
    assert limit in error["message"] and str(maximum) in error["message"]


async def test_the_operator_default_bounds_a_message(http: httpx.AsyncClient, account: Account) -> None:
    for stream in (False, True):
        refused = await http.post(
            f"{DEV}/chat",
            json={"message": "x" * (DEFAULT_CHARS + 1), "stream": stream},
            headers=account.key_auth,
        )
        _refusal(refused, "max_input_chars", DEFAULT_CHARS, DEFAULT_CHARS + 1, "message")
    await _nothing_counted(http, account)
    fits = await http.post(f"{DEV}/chat", json={"message": "x" * DEFAULT_CHARS}, headers=account.key_auth)
    assert fits.status_code == 200, fits.text


async def test_a_sessions_history_counts(http: httpx.AsyncClient, account: Account) -> None:
    first = await http.post(f"{DEV}/chat", json={"message": "a" * 50}, headers=account.key_auth)
    assert first.status_code == 200
    session, answer = first.json()["session_id"], first.json()["message"]
    left = DEFAULT_CHARS - 50 - len(answer)
    assert left > 0
    over = await http.post(
        f"{DEV}/chat", json={"message": "b" * (left + 1), "session_id": session}, headers=account.key_auth
    )
    _refusal(over, "max_input_chars", DEFAULT_CHARS, DEFAULT_CHARS + 1, "message")
    logs = (await http.get(f"{DEV}/usage/logs", headers=account.key_auth)).json()["logs"]
    assert len(logs) == 1  # the refusal left no row
    fits = await http.post(
        f"{DEV}/chat", json={"message": "b" * left, "session_id": session}, headers=account.key_auth
    )
    assert fits.status_code == 200, fits.text


async def test_a_plan_bounds_image_bytes_and_may_lift_the_default(
    core: Core, http: httpx.AsyncClient
) -> None:
    images = await make_account(http, "images@example.com")
    assert await core.store.set_plan(images.email, "tiny_images")
    png = png_base64()
    size = len(base64.b64decode(png))
    refused = await http.post(
        f"{DEV}/chat",
        json={"message": "what is this?", "images": [png], "model": "gemini-1.5-flash"},
        headers=images.key_auth,
    )
    _refusal(refused, "max_input_image_bytes", 50, size, "message")
    await _nothing_counted(http, images)
    # The plan sets no character limit: the operator's default applies.
    chars = await http.post(
        f"{DEV}/chat", json={"message": "x" * (DEFAULT_CHARS + 1)}, headers=images.key_auth
    )
    assert chars.json()["error"]["details"]["limit"] == "max_input_chars"

    roomy = await make_account(http, "roomy@example.com")
    assert await core.store.set_plan(roomy.email, "roomy")
    lifted = await http.post(f"{DEV}/chat", json={"message": "x" * 5000}, headers=roomy.key_auth)
    assert lifted.status_code == 200, lifted.text


async def test_message_arrays_and_embeddings_over_grpc(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    chat = chat_grpc.ChatServiceStub(channel)
    system = conv_pb.ChatMessage(role=conv_pb.ROLE_SYSTEM, content=[conv_pb.ContentPart(text="s" * 1000)])
    messages = [system, user("u" * 1001)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await chat.CreateChatCompletion(
            chat_pb.CreateChatCompletionRequest(model="x-ai/grok-beta", messages=messages),
            metadata=bearer(key),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(refused.value)
    assert info.reason == "INPUT_TOO_LONG"
    assert (info.metadata["limit"], info.metadata["actual"], info.metadata["parameter"]) == (
        "max_input_chars",
        "2001",
        "messages",
    )
    with pytest.raises(grpc.aio.AioRpcError) as streamed:
        async for _ in chat.StreamChatCompletion(
            chat_pb.StreamChatCompletionRequest(model="x-ai/grok-beta", messages=messages),
            metadata=bearer(key),
        ):
            pass
    assert error_info(streamed.value).reason == "INPUT_TOO_LONG"
    fits = await chat.CreateChatCompletion(
        chat_pb.CreateChatCompletionRequest(model="x-ai/grok-beta", messages=[system, user("u" * 1000)]),
        metadata=bearer(key),
    )
    assert fits.message.content

    embed = embed_grpc.EmbeddingServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as too_many:
        await embed.CreateEmbeddings(
            embed_pb.CreateEmbeddingsRequest(
                model="openai/text-embedding-3-small", input=["a" * 1000, "b" * 1001]
            ),
            metadata=bearer(key),
        )
    info = error_info(too_many.value)
    assert (info.reason, info.metadata["actual"], info.metadata["parameter"]) == (
        "INPUT_TOO_LONG",
        "2001",
        "input",
    )
    user_record = await core.store.get_user_by_email("grpc@example.com")
    assert user_record is not None
    rows = await core.store.usage_logs(user_record.id, UsageLogQuery())
    assert len(rows) == 1  # only the call that fitted


async def test_the_openai_routes_refuse_in_openais_shape(http: httpx.AsyncClient, account: Account) -> None:
    chat = await http.post(
        "/v1/chat/completions",
        json={
            "model": "x-ai/grok-beta",
            "messages": [{"role": "user", "content": "x" * (DEFAULT_CHARS + 1)}],
        },
        headers=account.key_auth,
    )
    assert chat.status_code == 400, chat.text
    error = chat.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "input_too_long")
    assert "max_input_chars" in error["message"]
    embeddings = await http.post(
        "/v1/embeddings",
        json={"model": "openai/text-embedding-3-small", "input": ["y" * DEFAULT_CHARS, "z"]},
        headers=account.key_auth,
    )
    assert embeddings.status_code == 400 and embeddings.json()["error"]["code"] == "input_too_long"
    await _nothing_counted(http, account)
