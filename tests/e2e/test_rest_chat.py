"""POST /v1/developer/chat over REST against the simulated upstreams."""

from __future__ import annotations

import base64
import struct
import zlib
from decimal import Decimal

import httpx
import pytest

from aihub_core.app import Core
from aihub_core.catalog import load_builtin_catalog
from tests.conftest import Account

CHAT = "/v1/developer/chat"


def png_base64() -> str:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    raw += chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    return base64.b64encode(raw).decode()


async def test_the_spec_example_answers_in_the_spec_shape(http: httpx.AsyncClient, account: Account) -> None:
    answer = await http.post(
        CHAT,
        json={"message": "Hello, AI Hub!", "model": "x-ai/grok-beta", "max_tokens": 150},
        headers=account.key_auth,
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert set(data) == {"message", "model", "session_id", "usage", "metadata"}
    assert data["message"] and data["model"] == "openrouter:x-ai/grok-beta"
    assert data["session_id"].startswith("session_")
    usage = data["usage"]
    assert 0 < usage["completion_tokens"] <= 150
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    grok = load_builtin_catalog().resolve("x-ai/grok-beta", "")
    # Exactly tokens x price as the catalog prints it: the double nearest the decimal product.
    exact = usage["prompt_tokens"] * Decimal(repr(grok.prompt_price)) + usage["completion_tokens"] * Decimal(
        repr(grok.completion_price)
    )
    assert usage["estimated_cost_usd"] == float(exact)
    meta = data["metadata"]
    assert meta["service_used"] == "openrouter" and meta["simulated"] is True
    assert meta["response_time_ms"] >= 0 and meta["finish_reason"] in {"stop", "length"}
    assert meta["request_id"] == answer.headers["x-request-id"]
    assert answer.headers["x-ratelimit-limit"] == "20"


async def test_gemini_and_defaults(http: httpx.AsyncClient, account: Account) -> None:
    gemini = await http.post(CHAT, json={"message": "hi", "service": "gemini"}, headers=account.key_auth)
    assert gemini.status_code == 200, gemini.text
    assert gemini.json()["model"] == "gemini:gemini-2.5-flash"
    assert gemini.json()["metadata"]["service_used"] == "gemini"
    default = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
    assert default.json()["model"] == "openrouter:x-ai/grok-beta"


async def test_session_keeps_the_conversation(core: Core, http: httpx.AsyncClient, account: Account) -> None:
    first = (await http.post(CHAT, json={"message": "My name is Ada."}, headers=account.key_auth)).json()
    session = first["session_id"]
    second = await http.post(
        CHAT, json={"message": "What is my name?", "session_id": session}, headers=account.key_auth
    )
    assert second.json()["session_id"] == session
    assert second.json()["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"]
    sent = core.upstreams.simulators["openrouter"].requests[-1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "My name is Ada."
    assert sent[1]["content"] == first["message"]
    assert sent[2]["content"] == "What is my name?"


async def test_client_chosen_session_ids_are_per_user(http: httpx.AsyncClient, account: Account) -> None:
    from tests.conftest import make_account

    other = await make_account(http, "other@example.com")
    await http.post(CHAT, json={"message": "secret A", "session_id": "session_123"}, headers=account.key_auth)
    answer = await http.post(
        CHAT, json={"message": "hi", "session_id": "session_123"}, headers=other.key_auth
    )
    assert answer.status_code == 200
    # The other user's turn starts a fresh conversation: their prompt holds one message.
    assert answer.json()["usage"]["prompt_tokens"] < 40


async def test_system_prompt_and_images_reach_the_upstream(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    image = png_base64()
    answer = await http.post(
        CHAT,
        json={
            "message": "What is in this image?",
            "model": "x-ai/grok-vision-beta",
            "images": [image],
            "context": {"system_prompt": "You are a professional assistant"},
        },
        headers=account.key_auth,
    )
    assert answer.status_code == 200, answer.text
    messages = core.upstreams.simulators["openrouter"].requests[-1].json["messages"]
    assert messages[0] == {"role": "system", "content": "You are a professional assistant"}
    parts = messages[-1]["content"]
    assert parts[0] == {"type": "text", "text": "What is in this image?"}
    assert parts[1]["image_url"]["url"] == f"data:image/png;base64,{image}"

    gemini = await http.post(
        CHAT,
        json={
            "message": "Describe",
            "service": "gemini",
            "images": [image],
            "context": {"system_prompt": "Terse"},
        },
        headers=account.key_auth,
    )
    assert gemini.status_code == 200, gemini.text
    body = core.upstreams.simulators["gemini"].requests[-1].json
    assert body["systemInstruction"] == {"parts": [{"text": "Terse"}]}
    assert body["contents"][-1]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": image}}


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"message": ""}, 400, "message"),
        ({}, 400, "message"),
        ({"message": "hi", "max_tokens": 0}, 400, "max_tokens"),
        ({"message": "hi", "max_tokens": 10_000_000}, 400, "max_tokens"),
        ({"message": "hi", "max_tokens": "many"}, 400, "max_tokens"),
        ({"message": "hi", "temperature": 1.5}, 400, "temperature"),
        ({"message": "hi", "temperature": -0.1}, 400, "temperature"),
        ({"message": "hi", "model": "no/such-model"}, 404, "model"),
        ({"message": "hi", "service": "azure"}, 400, "service"),
        ({"message": "hi", "model": "x-ai/grok-beta", "service": "gemini"}, 400, "service"),
        ({"message": "hi", "images": ["not base64!"]}, 400, "images[0]"),
        ({"message": "hi", "images": [base64.b64encode(b"plain text").decode()]}, 400, "images[0]"),
        ({"message": "hi", "model": "openai/gpt-3.5-turbo", "images": [png_base64()]}, 400, "images"),
        ({"message": "hi", "session_id": "bad id with spaces"}, 400, "session_id"),
        ({"message": "hi", "context": {"system_prompt": 3}}, 400, "context.system_prompt"),
        ({"message": "hi", "stream": "yes"}, 400, "stream"),
    ],
)
async def test_bad_fields_are_named(
    http: httpx.AsyncClient, account: Account, body: dict[str, object], status: int, param: str
) -> None:
    answer = await http.post(CHAT, json=body, headers=account.key_auth)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["details"]["parameter"] == param
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


async def test_max_tokens_is_honoured(http: httpx.AsyncClient, account: Account) -> None:
    for service in ("openrouter", "gemini"):
        answer = await http.post(
            CHAT,
            json={"message": "Tell me a long story", "service": service, "max_tokens": 5},
            headers=account.key_auth,
        )
        usage = answer.json()["usage"]
        assert usage["completion_tokens"] <= 5, usage
        assert answer.json()["metadata"]["finish_reason"] == "length"


async def test_not_json_is_a_clear_400(http: httpx.AsyncClient, account: Account) -> None:
    answer = await http.post(
        CHAT, content=b"{not json", headers={**account.key_auth, "content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_json"


async def test_images_go_as_data_urls_that_even_ollama_accepts(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    core.upstreams.simulators["openrouter"].scenario = "ollama"  # refuses any image but a data URL
    body = {"message": "What is this?", "model": "x-ai/grok-vision-beta", "images": [png_base64()]}
    answer = await http.post(CHAT, json=body, headers=account.key_auth)
    assert answer.status_code == 200, answer.text
