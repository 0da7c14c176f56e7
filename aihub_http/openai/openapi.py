"""The OpenAI-compatible routes in the OpenAPI document: their operations, OpenAI's request and
answer shapes as schemas (`OpenAI*`), and their error answers in OpenAI's error shape.

A request schema admits at least what the endpoint accepts (the endpoint may still refuse what no
schema says, such as a model the catalog lacks), so every request outside it is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aihub_http.openapi.responses import contract_codes, success_headers
from aihub_http.routes import OPENAI, RpcRoute

Schema = dict[str, Any]

_NOT_FOR_OPERATIONS = frozenset({405})


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _maybe(kind: str, **rules: Any) -> Schema:
    return {"type": [kind, "null"], **rules}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


_STRING: Schema = {"type": "string"}
_ANY: Schema = {}
_USAGE = {
    "type": "object",
    "required": ["prompt_tokens", "total_tokens", "estimated_cost_usd"],
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
        "estimated_cost_usd": {"type": "number", "description": "AI Hub's cost of the call, in USD."},
    },
}
_TOOL_CALL = _object(
    ["id", "function"],
    id=_STRING,
    type={"const": "function"},
    function=_object(["name", "arguments"], name=_STRING, arguments=_STRING),
)
# A `data:` URI must hold valid base64 (padded): the endpoint decodes it before the call.
_IMAGE_URL = {
    "anyOf": [
        {"type": "string", "not": {"pattern": "^data:"}},
        {
            "type": "string",
            "pattern": "^data:[^,]*;base64,(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        },
    ]
}
_PART = {
    "oneOf": [
        _object(["type", "text"], type={"const": "text"}, text=_STRING),
        _object(
            ["type", "image_url"],
            type={"const": "image_url"},
            image_url=_object(["url"], url=_IMAGE_URL, detail=_maybe("string")),
        ),
        _object(["type", "refusal"], type={"const": "refusal"}, refusal=_STRING),
    ]
}

SCHEMAS: dict[str, Schema] = {
    "OpenAIMessage": _object(
        ["role"],
        role={"enum": ["system", "developer", "user", "assistant", "tool"]},
        content={"anyOf": [_STRING, {"type": "array", "items": _PART}, {"type": "null"}]},
        name=_maybe("string"),
        tool_calls=_maybe("array", items=_TOOL_CALL),
        tool_call_id=_maybe("string"),
        refusal=_ANY,
        annotations=_ANY,
        audio={"type": "null"},
        function_call={"type": "null"},
    ),
    "OpenAITool": _object(
        ["type", "function"],
        type={"const": "function"},
        function=_object(
            ["name"],
            name=_STRING,
            description=_maybe("string"),
            parameters=_maybe("object"),
            strict=_maybe("boolean"),
        ),
    ),
    "OpenAIResponseFormat": {
        "oneOf": [
            _object(["type"], type={"const": "text"}),
            _object(["type"], type={"const": "json_object"}),
            _object(
                ["type", "json_schema"],
                type={"const": "json_schema"},
                json_schema=_object(
                    ["name"],
                    name=_STRING,
                    description=_maybe("string"),
                    schema=_maybe("object"),
                    strict=_maybe("boolean"),
                ),
            ),
        ]
    },
    "OpenAIChatCompletionRequest": _object(
        ["model", "messages"],
        model={
            "type": "string",
            "description": "A catalog id (`x-ai/grok-beta`), an alias, or `service:model-id`.",
        },
        messages={"type": "array", "items": _ref("OpenAIMessage")},
        tools=_maybe("array", items=_ref("OpenAITool")),
        tool_choice={
            "anyOf": [
                {"enum": ["auto", "none", "required"]},
                _object(
                    ["type", "function"], type={"const": "function"}, function=_object(["name"], name=_STRING)
                ),
                {"type": "null"},
            ]
        },
        parallel_tool_calls=_maybe("boolean"),
        response_format={"anyOf": [_ref("OpenAIResponseFormat"), {"type": "null"}]},
        max_tokens=_maybe("integer", minimum=1, maximum=2**31 - 1),
        max_completion_tokens=_maybe("integer", minimum=1, maximum=2**31 - 1),
        temperature=_maybe("number", minimum=0, maximum=2),
        top_p=_maybe("number", minimum=0, maximum=1),
        presence_penalty=_maybe("number", minimum=-2, maximum=2),
        frequency_penalty=_maybe("number", minimum=-2, maximum=2),
        stop={"anyOf": [_STRING, {"type": "array", "items": _STRING, "maxItems": 4}, {"type": "null"}]},
        seed=_maybe("integer", minimum=-(2**63), maximum=2**63 - 1),
        user=_maybe("string"),
        n={"enum": [1, None], "description": "Only 1: one choice per request."},
        logprobs={"enum": [False, None], "description": "Not supported."},
        stream=_maybe("boolean"),
        stream_options={"anyOf": [_object([], include_usage=_maybe("boolean")), {"type": "null"}]},
        store=_ANY,
        metadata=_ANY,
        service_tier=_ANY,
    ),
    "OpenAIChatCompletion": {
        "type": "object",
        "required": ["id", "object", "created", "model", "choices", "usage"],
        "properties": {
            "id": {"type": "string", "pattern": "^chatcmpl-"},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": _STRING,
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "message", "finish_reason"],
                    "properties": {
                        "index": {"type": "integer"},
                        "message": {
                            "type": "object",
                            "required": ["role", "content"],
                            "properties": {
                                "role": {"const": "assistant"},
                                "content": _maybe("string"),
                                "tool_calls": {"type": "array", "items": _TOOL_CALL},
                            },
                        },
                        "finish_reason": {"enum": ["stop", "length", "content_filter", "tool_calls"]},
                    },
                },
            },
            "usage": _USAGE,
        },
    },
    "OpenAIChunkEvent": {
        "description": "One `data:` line: a `chat.completion.chunk` as JSON, `[DONE]` last, or an "
        '`{"error": ...}` object ending a stream that failed after it started.',
        "type": "object",
        "required": ["data"],
        "properties": {"data": _STRING},
    },
    "OpenAIModel": {
        "type": "object",
        "required": ["id", "object", "created", "owned_by"],
        "properties": {
            "id": _STRING,
            "object": {"const": "model"},
            "created": {"type": "integer"},
            "owned_by": {"type": "string", "description": "The AI Hub service that serves it."},
        },
    },
    "OpenAIModelList": {
        "type": "object",
        "required": ["object", "data"],
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("OpenAIModel")}},
    },
    "OpenAIEmbeddingsRequest": _object(
        ["model", "input"],
        model=_STRING,
        input={"anyOf": [_STRING, {"type": "array", "items": _STRING}]},
        encoding_format={"enum": ["float", "base64", None]},
        dimensions=_maybe("integer", minimum=-(2**31), maximum=2**31 - 1),
        user=_maybe("string"),
    ),
    "OpenAIEmbeddingList": {
        "type": "object",
        "required": ["object", "data", "model", "usage"],
        "properties": {
            "object": {"const": "list"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["object", "index", "embedding"],
                    "properties": {
                        "object": {"const": "embedding"},
                        "index": {"type": "integer"},
                        "embedding": {
                            "anyOf": [
                                {"type": "array", "items": {"type": "number"}},
                                {"type": "string", "contentEncoding": "base64"},
                            ]
                        },
                    },
                },
            },
            "model": _STRING,
            "usage": _USAGE,
        },
    },
}

# path -> (request body schema, answer schema, description)
_SHAPES: dict[str, tuple[str | None, str, str]] = {
    f"{OPENAI}/chat/completions": (
        "OpenAIChatCompletionRequest",
        "OpenAIChatCompletion",
        "OpenAI's chat completion over the core's CreateChatCompletion (StreamChatCompletion with "
        '`"stream": true`): messages with text and image parts, tools and tool calls, JSON mode. '
        "A stream is `chat.completion.chunk` events then `data: [DONE]`.",
    ),
    f"{OPENAI}/models": (None, "OpenAIModelList", "The catalog in OpenAI's list shape."),
    f"{OPENAI}/models/{{model}}": (None, "OpenAIModel", "One model by id, `service:id` or alias."),
    f"{OPENAI}/embeddings": (
        "OpenAIEmbeddingsRequest",
        "OpenAIEmbeddingList",
        "One vector per input, as float arrays or base64 of 32-bit little-endian floats.",
    ),
}


def operation(route: RpcRoute) -> Schema:
    """The OpenAPI operation of an OpenAI-compatible route."""
    request, answer, description = _SHAPES[route.path]
    content: Schema = {"application/json": {"schema": _ref(answer)}}
    if route.stream_rpc is not None:
        content["text/event-stream"] = {"schema": _ref("OpenAIChunkEvent")}
    built: Schema = {
        "operationId": "OpenAI"
        + "".join(p.capitalize() for p in route.path.split("/")[2:] if "{" not in p)
        + ("ById" if route.slashed_params else ""),
        "summary": route.summary,
        "description": description,
        "tags": ["OpenAI-compatible"],
        "x-grpc-methods": list(route.grpc_methods()),
        "security": [{"ApiKey": []}, {"LoginToken": []}]
        if route.credential == "api_key_or_jwt"
        else [{"ApiKey": []}],
        "responses": {
            str(route.status_code): {
                "description": "Success",
                "headers": success_headers(route.credential),
                "content": content,
            },
            **{
                status: response
                for status, response in _error_responses().items()
                if int(status) not in _NOT_FOR_OPERATIONS
            },
        },
    }
    parameters: list[Schema] = []
    if route.slashed_params:
        parameters.append(
            {
                "name": "model",
                "in": "path",
                "required": True,
                "description": "The model's id; it may hold `/` (`x-ai/grok-beta`).",
                "schema": {"type": "string"},
            }
        )
    if route.idempotency_key:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if parameters:
        built["parameters"] = parameters
    if request is not None:
        built["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(request)}}}
    return built


def paths(routes: Sequence[RpcRoute]) -> dict[str, dict[str, Schema]]:
    """The OpenAPI paths of the OpenAI-compatible routes among `routes`."""
    built: dict[str, dict[str, Schema]] = {}
    for route in routes:
        if route.wire == "openai":
            built.setdefault(route.path, {})[route.http_method.lower()] = operation(route)
    return built


def schemas() -> dict[str, Schema]:
    """The schemas the operations refer to: OpenAI's shapes and its error bodies."""
    errors = {
        f"OpenAIError{status}": _error_schema([c for c, _, _ in codes], sorted({t for _, t, _ in codes}))
        for status, codes in contract_codes().items()
    }
    return {**SCHEMAS, **errors}


def _error_responses() -> dict[str, Schema]:
    responses: dict[str, Schema] = {}
    for status, codes in contract_codes().items():
        headers = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
        if status == 429:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        responses[str(status)] = {
            "description": "OpenAI's error shape; `error.code` is one of: "
            + ", ".join(code for code, _, _ in codes),
            "headers": headers,
            "content": {"application/json": {"schema": _ref(f"OpenAIError{status}")}},
        }
    return responses


def _error_schema(codes: list[str], types: list[str]) -> Schema:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {
                    "message": _STRING,
                    "type": {"enum": types},
                    "param": _maybe("string"),
                    "code": {"enum": codes},
                },
            },
            "request_id": {"type": "string", "pattern": "^req_[0-9a-f]{24}$"},
        },
    }
