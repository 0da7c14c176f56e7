"""`POST /v1/embeddings`: the body -> CreateEmbeddingsRequest, the answer -> OpenAI's list.

`input` is a string or a list of strings (token arrays are refused by name). `encoding_format`
`base64` (what the `openai` Python package asks for unless told otherwise) is each vector's
32-bit little-endian floats in base64; `float` is a JSON array of numbers.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

from aihub.v1 import embedding_service_pb2 as embed_pb
from aihub_http.openai.answers import catalog_id
from aihub_http.openai.values import array, integer, known, missing, one_of, text, unsupported

FIELDS = ("model", "input", "encoding_format", "dimensions", "user")
ENCODINGS = ("float", "base64")


@dataclass(frozen=True)
class EmbeddingsBody:
    """The request message and the encoding its answer is written in."""

    request: embed_pb.CreateEmbeddingsRequest
    encoding: str


def embeddings_body(data: dict[str, Any]) -> EmbeddingsBody:
    """The request the body asks for, or the 400 naming its first bad parameter."""
    known(data, FIELDS)
    body = {k: v for k, v in data.items() if v is not None}
    request = embed_pb.CreateEmbeddingsRequest()
    for name in ("model", "input"):
        if name not in body:
            raise missing(name)
    request.model = text(body["model"], "model")
    given = body["input"]
    inputs = [given] if isinstance(given, str) else array(given, "input")
    for index, item in enumerate(inputs):
        if not isinstance(item, str) and (isinstance(item, int | list)):
            raise unsupported(f"input[{index}]", "Token arrays are not supported: send the text as a string")
        request.input.append(text(item, f"input[{index}]"))
    if "dimensions" in body:
        request.dimensions = integer(body["dimensions"], "dimensions", -(2**31), 2**31 - 1)
    if "user" in body:
        request.user = text(body["user"], "user")
    encoding = one_of(body.get("encoding_format", "float"), "encoding_format", ENCODINGS)
    return EmbeddingsBody(request, encoding)


def embeddings_json(reply: embed_pb.CreateEmbeddingsResponse, encoding: str) -> dict[str, Any]:
    """OpenAI's list of embeddings, with usage (prompt tokens only) and cost."""
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": item.index, "embedding": _vector(item.values, encoding)}
            for item in reply.embeddings
        ],
        "model": catalog_id(reply.model),
        "usage": {
            "prompt_tokens": reply.usage.prompt_tokens,
            "total_tokens": reply.usage.total_tokens,
            "estimated_cost_usd": reply.usage.estimated_cost_usd,
        },
    }


def _vector(values: Any, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
    return list(values)
