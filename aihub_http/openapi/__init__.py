"""The OpenAPI 3.1 document, generated from the route table and the protobuf descriptors.

Schemas, descriptions and constraints come from the proto files (`schemas`, `comments`), error
responses from the contract's `ErrorReason` (each status with its codes), security and headers
from the route table. Routes whose JSON is not a protobuf mapping (the OpenAI-compatible ones)
plug in their own operations and schemas through `extra_paths` and `extra_schemas`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aihub.v1 import chat_service_pb2, usage_service_pb2
from aihub_http.jsonmap import message_type
from aihub_http.openapi.comments import load_comments
from aihub_http.openapi.responses import (
    COMPONENT_HEADERS,
    IDEMPOTENCY_KEY,
    SECURITY_SCHEMES,
    error_components,
    error_refs,
    success_headers,
)
from aihub_http.openapi.schemas import Components, Schema
from aihub_http.routes import RpcRoute

__all__ = ["build_openapi"]

# String constraints an empty query value (the field left unset) is exempt from.
_CONSTRAINTS = frozenset({"enum", "format", "pattern", "minLength"})
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "api_key": [{"ApiKey": []}],
    "jwt": [{"LoginToken": []}],
    "api_key_or_jwt": [{"ApiKey": []}, {"LoginToken": []}],
    "none": [],
}


def build_openapi(
    routes: Sequence[RpcRoute],
    extra_paths: Mapping[str, dict[str, Any]],
    extra_schemas: Mapping[str, Schema] | None = None,
) -> dict[str, Any]:
    """The whole document: `routes`, plus hand-described paths (and the schemas they refer to)."""
    comments = load_comments()
    components = Components(comments)
    stream_event = chat_service_pb2.UsageEvent.DESCRIPTOR
    components.mark_responses([*(route.rpc.output_type for route in routes), stream_event])
    components.schemas["StreamEvent"] = _stream_event_schema(components)
    components.schemas["SseEvent"] = _sse_event(
        "One Server-Sent Event: its `data` is a `StreamEvent` as JSON.",
        {"$ref": "#/components/schemas/StreamEvent"},
    )
    quota = usage_service_pb2.WatchQuotaResponse.DESCRIPTOR
    alert = usage_service_pb2.AlertEvent.DESCRIPTOR
    components.mark_responses([quota, alert])
    quota_type = {"type": "object", "required": ["type"], "properties": {"type": {"const": "quota"}}}
    alert_type = {"type": "object", "required": ["type"], "properties": {"type": {"const": "alert"}}}
    components.schemas["QuotaSseEvent"] = _sse_event(
        "One Server-Sent Event of the live quota: its `data` is a `quota` event, the "
        '`WatchQuotaResponse` snapshot as JSON with `"type": "quota"` (its `alerts` sent as the '
        "events before it), or an `alert` event, a usage alert that fired: an `AlertEvent` with "
        '`"type": "alert"`.',
        {
            "oneOf": [
                {"allOf": [components.ref(quota, request=False), quota_type]},
                {"allOf": [components.ref(alert, request=False), alert_type]},
            ]
        },
    )
    error_schemas, error_responses = error_components(comments)
    components.schemas.update(error_schemas)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.http_method.lower()] = _operation(route, components)
    paths.update(extra_paths)
    components.schemas.update(extra_schemas or {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AI Hub API",
            "version": "2.0",
            "description": "Unified multi-model AI gateway. Every error body has the `Error` shape and its "
            "`code` is one of the contract's error codes (listed per status); every response carries "
            "`X-Request-ID`, and API-key-authenticated ones `X-RateLimit-*`.",
        },
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "responses": error_responses,
            "headers": dict(COMPONENT_HEADERS),
            "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY},
            "securitySchemes": dict(SECURITY_SCHEMES),
        },
    }


def _operation(route: RpcRoute, components: Components) -> dict[str, Any]:
    service = route.rpc.containing_service
    operation: dict[str, Any] = {
        "operationId": route.rpc.name,
        "summary": route.summary,
        "tags": [service.name],
        "x-grpc-methods": list(route.grpc_methods()),
        "security": _SECURITY[route.credential],
        "responses": {
            str(route.status_code): {
                "description": "Success",
                "headers": success_headers(route.credential),
                "content": _success_content(route, components),
            },
            **error_refs(),
        },
    }
    description = components.comments.get(f"{service.full_name}.{route.rpc.name}")
    if description:
        operation["description"] = description
    parameters = _parameters(route, components)
    if route.idempotency_key:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    if parameters:
        operation["parameters"] = parameters
    if route.reads_body:
        body = components.message(route.rpc.input_type, request=True)
        if route.takes_stream_flag:
            body["properties"]["stream"] = {
                "type": ["boolean", "null"],
                "description": "REST only: answer as Server-Sent Events.",
            }
        operation["requestBody"] = {
            "required": "required" in body,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def _parameters(route: RpcRoute, components: Components) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for field in route.rpc.input_type.fields:
        description = components.comments.get(field.full_name, "")
        if f"{{{field.name}}}" in route.path:
            params.append(
                {
                    "name": field.name,
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": {"type": "string"},
                }
            )
        elif not route.reads_body and field.message_type is None:
            schema = components.field(field, request=True)
            schema.pop("description", None)
            if isinstance(schema.get("type"), list):  # a query value is text: it is never null
                schema["type"] = schema["type"][0]
                if "enum" in schema:
                    schema["enum"] = [v for v in schema["enum"] if v is not None]
            if schema["type"] == "string" and _CONSTRAINTS & set(schema):
                schema = {"anyOf": [schema, {"const": ""}]}  # an empty value leaves the field unset
            params.append(
                {
                    "name": field.name,
                    "in": "query",
                    "required": False,
                    "description": description,
                    "schema": schema,
                }
            )
    if route.csv_rpc is not None:
        params.append(
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "`csv` streams every matching row (no paging) as `text/csv`, one "
                "column per field of a row, a header line first; `json` (the default) answers one page.",
                "schema": {"type": "string", "enum": ["json", "csv"]},
            }
        )
    return params


def _success_content(route: RpcRoute, components: Components) -> dict[str, Any]:
    is_quota = route.rpc.output_type.full_name == "aihub.v1.WatchQuotaResponse"
    event = "QuotaSseEvent" if is_quota else "SseEvent"
    sse = {"text/event-stream": {"schema": {"$ref": f"#/components/schemas/{event}"}}}
    if route.rpc.server_streaming:
        return sse
    content = {"application/json": {"schema": components.ref(route.rpc.output_type, request=False)}}
    if route.csv_rpc is not None:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {**content, **sse} if route.stream_rpc is not None else content


def _sse_event(description: str, data: Schema) -> Schema:
    """A Server-Sent Event whose `data` line is JSON of the `data` schema."""
    return {
        "description": description,
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
        },
    }


def _stream_event_schema(components: Components) -> Schema:
    def event(kind: str, **properties: Schema) -> Schema:
        props = {"type": {"const": kind}, **properties}
        return {"type": "object", "required": list(props), "properties": props}

    usage = chat_service_pb2.UsageEvent.DESCRIPTOR.fields_by_name
    text: Schema = {"type": "string"}
    error = {
        "type": "object",
        "required": ["type", "code", "message"],
        "properties": {k: text for k in ("type", "code", "message")},
    }
    return {
        "description": "One `data:` line of the stream. An `error` event ends a failed stream; "
        "a successful one ends with `done`.",
        "oneOf": [
            event("content", content=text, model=text),
            event("session", session_id=text),
            event(
                "usage",
                usage=components.ref(message_type(usage["usage"]), request=False),
                metadata=components.ref(message_type(usage["metadata"]), request=False),
            ),
            event("done"),
            event("error", error=error),
        ],
    }
