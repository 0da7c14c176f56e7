"""EmbeddingService.CreateEmbeddings over gRPC (in process and on a real port): vectors from both
provider families, the ledger row and its cost, usage, limits, replays and the errors."""

from __future__ import annotations

import math

import grpc
import pytest

from aihub.v1 import embedding_service_pb2 as embed_pb
from aihub.v1 import embedding_service_pb2_grpc as embed_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from aihub_core.limits.tokens import estimate_text
from aihub_core.pricing import cost_pico_usd, usd
from tests.e2e.completions import ledger
from tests.e2e.test_grpc import bearer, error_info, new_key

TEXTS = ["The quick brown fox", "jumps over the lazy dog", "The quick brown fox"]


@pytest.mark.parametrize(
    ("model", "length", "source"),
    [("openai/text-embedding-3-small", 1536, "provider"), ("text-embedding-004", 768, "estimated")],
)
async def test_vectors_usage_and_the_ledger_row(
    core: Core, channel: grpc.aio.Channel, model: str, length: int, source: str
) -> None:
    _, key = await new_key(channel)
    call = embed_grpc.EmbeddingServiceStub(channel).CreateEmbeddings(
        embed_pb.CreateEmbeddingsRequest(model=model, input=TEXTS), metadata=bearer(key)
    )
    answer = await call
    assert [e.index for e in answer.embeddings] == [0, 1, 2]
    first, second, third = (list(e.values) for e in answer.embeddings)
    assert len(first) == length and first == third and first != second
    assert math.isclose(sum(v * v for v in first), 1.0, rel_tol=1e-5)  # float32 on the wire
    tokens = sum(estimate_text(text) for text in TEXTS)  # the simulators count as we estimate
    entry = core.catalog.resolve(model, "")
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens, answer.usage.total_tokens) == (
        tokens,
        0,
        tokens,
    )
    assert answer.usage.estimated_cost_usd == usd(cost_pico_usd(tokens, 0, entry))
    assert (
        answer.model == entry.qualified_id and answer.metadata.simulated and not answer.metadata.finish_reason
    )
    initial = dict(await call.initial_metadata())
    assert initial["x-request-id"] == answer.metadata.request_id and initial["x-ratelimit-remaining"] == "19"
    [row] = ledger(core)
    assert (
        row["model"],
        row["status"],
        row["usage_source"],
        row["prompt_tokens"],
        row["completion_tokens"],
    ) == (
        model,
        "ok",
        source,
        tokens,
        0,
    )
    assert usd(row["cost_pico_usd"]) == answer.usage.estimated_cost_usd
    report = await usage_grpc.UsageServiceStub(channel).GetUsage(
        usage_pb.GetUsageRequest(period="day"), metadata=bearer(key)
    )
    assert (report.total_requests, report.total_tokens, report.quota_used) == (1, tokens, 1)


async def test_dimensions_shorten_the_vectors(channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    stub = embed_grpc.EmbeddingServiceStub(channel)
    for model in ("openai/text-embedding-3-small", "gemini-embedding-001"):
        answer = await stub.CreateEmbeddings(
            embed_pb.CreateEmbeddingsRequest(model=model, input=["hi"], dimensions=256), metadata=bearer(key)
        )
        assert len(answer.embeddings[0].values) == 256


async def test_a_replay_is_not_charged(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    stub = embed_grpc.EmbeddingServiceStub(channel)
    request = embed_pb.CreateEmbeddingsRequest(model="text-embedding-004", input=["once"])
    metadata = (*bearer(key), ("idempotency-key", "embed-1"))
    first = await stub.CreateEmbeddings(request, metadata=metadata)
    assert await stub.CreateEmbeddings(request, metadata=metadata) == first
    assert len(ledger(core)) == 1


@pytest.mark.parametrize(
    ("request_", "code", "reason", "param"),
    [
        (
            embed_pb.CreateEmbeddingsRequest(input=["a"]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MISSING_PARAMETER",
            "model",
        ),
        (
            embed_pb.CreateEmbeddingsRequest(model="text-embedding-004"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MISSING_PARAMETER",
            "input",
        ),
        (
            embed_pb.CreateEmbeddingsRequest(model="text-embedding-004", input=["a", ""]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PARAMETER",
            "input[1]",
        ),
        (
            embed_pb.CreateEmbeddingsRequest(model="text-embedding-004", input=["a"], dimensions=769),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PARAMETER",
            "dimensions",
        ),
        (
            embed_pb.CreateEmbeddingsRequest(model="x-ai/grok-beta", input=["a"]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MODEL_NOT_EMBEDDING",
            "model",
        ),
        (
            embed_pb.CreateEmbeddingsRequest(model="text-embedding-004", input=["word " * 6_000]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "REQUEST_EXCEEDS_TOKEN_LIMIT",  # 7 500 tokens: more than the free plan's minute
            "input",
        ),
        (
            embed_pb.CreateEmbeddingsRequest(model="nope", input=["a"]),
            grpc.StatusCode.NOT_FOUND,
            "MODEL_NOT_FOUND",
            "model",
        ),
    ],
)
async def test_errors_name_the_field(
    core: Core,
    channel: grpc.aio.Channel,
    request_: embed_pb.CreateEmbeddingsRequest,
    code: grpc.StatusCode,
    reason: str,
    param: str,
) -> None:
    _, key = await new_key(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await embed_grpc.EmbeddingServiceStub(channel).CreateEmbeddings(request_, metadata=bearer(key))
    assert info.value.code() == code
    detail = error_info(info.value)
    assert (detail.reason, detail.metadata["parameter"]) == (reason, param)
    assert ledger(core) == []  # refused before admission: nothing counted


async def test_an_upstream_failure_costs_nothing(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    core.upstreams.simulators["gemini"].scenario = "error-400"  # not retryable
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await embed_grpc.EmbeddingServiceStub(channel).CreateEmbeddings(
            embed_pb.CreateEmbeddingsRequest(model="text-embedding-004", input=["a"]), metadata=bearer(key)
        )
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    [row] = ledger(core)
    assert (row["status"], row["cost_pico_usd"], row["usage_source"]) == ("error", 0, "none")
