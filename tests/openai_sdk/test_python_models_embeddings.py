"""The `openai` Python package against a real gateway: models listed and retrieved from the
catalog, embeddings in float and base64 (the package's default)."""

from __future__ import annotations

import base64
import math
import struct

import httpx

from tests.conftest import Account
from tests.openai_sdk.client import openai_client


async def test_models_listed_and_retrieved_by_ids_with_slashes(
    http: httpx.AsyncClient, account: Account
) -> None:
    catalog = (await http.get("/v1/developer/models", headers=account.key_auth)).json()["models"]
    async with openai_client(http, account.key) as client:
        listed = [model async for model in client.models.list()]
        assert [(m.id, m.owned_by) for m in listed] == [(m["id"], m["service"]) for m in catalog]
        assert all(m.object == "model" and m.created == 0 for m in listed)
        grok = await client.models.retrieve("x-ai/grok-beta")
        assert (grok.id, grok.object, grok.owned_by) == ("x-ai/grok-beta", "model", "openrouter")
        assert (await client.models.retrieve("openrouter:x-ai/grok-beta")).id == "x-ai/grok-beta"
        assert (await client.models.retrieve("grok-beta")).id == "x-ai/grok-beta"  # its alias
    raw = await http.get("/v1/models/x-ai/grok-beta", headers=account.key_auth)
    assert raw.status_code == 200 and raw.headers["x-ratelimit-limit"] == "20"


async def test_embeddings_as_floats_and_as_base64(http: httpx.AsyncClient, account: Account) -> None:
    texts = ["The quick brown fox", "jumps over the lazy dog"]
    async with openai_client(http, account.key) as client:
        as_floats = await client.embeddings.create(
            model="text-embedding-004", input=texts, encoding_format="float"
        )
        by_default = await client.embeddings.create(model="text-embedding-004", input=texts)
        one = await client.embeddings.create(model="gemini-embedding-001", input="hello", dimensions=8)
    assert as_floats.object == "list" and as_floats.model == "text-embedding-004"
    assert [e.index for e in as_floats.data] == [0, 1] and len(as_floats.data[0].embedding) == 768
    assert math.isclose(sum(v * v for v in as_floats.data[0].embedding), 1.0, rel_tol=1e-5)
    # The SDK asked for base64 and decoded it: the same float32 values, exactly.
    assert [e.embedding for e in by_default.data] == [e.embedding for e in as_floats.data]
    assert as_floats.usage.prompt_tokens == as_floats.usage.total_tokens > 0
    assert (as_floats.usage.model_extra or {})["estimated_cost_usd"] >= 0
    assert len(one.data) == 1 and len(one.data[0].embedding) == 8

    wire = await http.post(
        "/v1/embeddings",
        headers=account.key_auth,
        json={"model": "text-embedding-004", "input": "hi", "encoding_format": "base64"},
    )
    encoded = wire.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded)
    assert len(raw) == 768 * 4 and struct.unpack("<768f", raw)[0] != 0
    report = (await http.get("/v1/developer/usage", headers=account.key_auth)).json()
    assert report["total_requests"] == 4
