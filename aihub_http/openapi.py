"""The OpenAPI 3.1 document, derived from the route table and the protobuf descriptors.

Message schemas come from the descriptors, following the JSON rules of `jsonmap` and `parse`;
only what exists solely in REST (the error body, SSE events, the `stream` flag) is written here.
A message reachable from both requests and responses gets a second, `Input`-suffixed schema,
because a response lists every field it always sends as `required` and a request does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from aihub.v1 import chat_service_pb2
from aihub_http.jsonmap import enum_type, is_map, is_presence_flag, message_type
from aihub_http.routes import RpcRoute

Schema = dict[str, Any]

_T = FieldDescriptor
_SCALARS: Mapping[int, Schema] = MappingProxyType(
    {
        _T.TYPE_STRING: {"type": "string"},
        _T.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
        _T.TYPE_BOOL: {"type": "boolean"},
        _T.TYPE_DOUBLE: {"type": "number", "format": "double"},
        _T.TYPE_FLOAT: {"type": "number", "format": "float"},
        _T.TYPE_INT32: {"type": "integer", "format": "int32"},
        _T.TYPE_SINT32: {"type": "integer", "format": "int32"},
        _T.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
        _T.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
        _T.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
        _T.TYPE_INT64: {"type": "integer", "format": "int64"},
        _T.TYPE_SINT64: {"type": "integer", "format": "int64"},
        _T.TYPE_SFIXED64: {"type": "integer", "format": "int64"},
        _T.TYPE_UINT64: {"type": "integer", "minimum": 0},
        _T.TYPE_FIXED64: {"type": "integer", "minimum": 0},
    }
)


def _error_schema() -> Schema:
    return {
        "type": "object",
        "required": ["error", "request_id"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["type", "code", "message", "details"],
                "properties": {
                    "type": {"type": "string", "examples": ["invalid_request_error"]},
                    "code": {"type": "string", "examples": ["invalid_api_key"]},
                    "message": {"type": "string"},
                    "details": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "request_id": {"type": "string", "pattern": "^req_[0-9a-f]{24}$"},
        },
    }


class _Components:
    """Collects message schemas by name while routes refer to them."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {"Error": _error_schema()}
        self._names: dict[tuple[str, bool], str] = {}
        self._response_side: set[str] = set()

    def mark_responses(self, roots: Iterable[Descriptor]) -> None:
        """Note every message reachable from these response messages."""
        pending = list(roots)
        while pending:
            descriptor = pending.pop()
            if descriptor.full_name not in self._response_side:
                self._response_side.add(descriptor.full_name)
                pending.extend(f.message_type for f in descriptor.fields if f.message_type is not None)

    def ref(self, descriptor: Descriptor, *, request: bool) -> Schema:
        """A `$ref` to the schema of `descriptor`, building it on first use."""
        key = (descriptor.full_name, request)
        if key not in self._names:
            shared = request and descriptor.full_name in self._response_side
            name = descriptor.name + ("Input" if shared else "")
            self._names[key] = name
            self.schemas[name] = self.message(descriptor, request=request)
        return {"$ref": f"#/components/schemas/{self._names[key]}"}

    def message(self, descriptor: Descriptor, *, request: bool) -> Schema:
        """The object schema of one message, inline."""
        fields = [f for f in descriptor.fields if not is_presence_flag(f)]  # the shim sets those
        properties = {f.name: self.field(f, request=request) for f in fields}
        schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if not request:
            schema["required"] = [f.name for f in fields if not _may_be_absent(f)]
        return schema

    def field(self, field: FieldDescriptor, *, request: bool) -> Schema:
        """The schema of one field's JSON value."""
        if is_map(field):
            value = self._single(message_type(field).fields_by_name["value"], request=request)
            return {"type": "object", "additionalProperties": value}
        if field.is_repeated:
            return {"type": "array", "items": self._single(field, request=request)}
        schema = self._single(field, request=request)
        if field.type == _T.TYPE_MESSAGE:
            return {"anyOf": [schema, {"type": "null"}]}  # unset messages are null
        return schema

    def _single(self, field: FieldDescriptor, *, request: bool) -> Schema:
        if field.type == _T.TYPE_ENUM:
            return {"type": "string", "enum": list(enum_type(field).values_by_name)}
        if field.type != _T.TYPE_MESSAGE:
            return dict(_SCALARS[field.type])
        message = message_type(field)
        if message.full_name == "google.protobuf.Timestamp":
            return {"type": "string", "format": "date-time", "examples": ["2025-09-29T10:00:00Z"]}
        if message.full_name.startswith("google.protobuf."):
            return {}
        return self.ref(message, request=request)


def build_openapi(routes: Sequence[RpcRoute], extra_paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The whole document: `routes` plus hand-described paths such as /healthz."""
    components = _Components()
    stream_event = chat_service_pb2.UsageEvent.DESCRIPTOR
    components.mark_responses([*(route.rpc.output_type for route in routes), stream_event])
    components.schemas["StreamEvent"] = _stream_event_schema(components)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.http_method.lower()] = _operation(route, components)
    paths.update(extra_paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AI Hub API",
            "version": "2.0",
            "description": "Unified multi-model AI gateway. Every error body has the `Error` shape; "
            "every response carries `X-Request-ID`, and key-authenticated ones `X-RateLimit-*`.",
        },
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(route: RpcRoute, components: _Components) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.rpc.name,
        "summary": route.summary,
        "x-grpc-methods": list(route.grpc_methods()),
        "responses": {
            str(route.status_code): {
                "description": "Success",
                "content": _success_content(route, components),
            },
            "default": {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if not route.path.startswith("/v1/auth/"):
        operation["security"] = [{"bearer": []}]
    if route.reads_body:
        body = components.message(route.rpc.input_type, request=True)
        if route.takes_stream_flag:
            body["properties"]["stream"] = {"type": "boolean", "description": "REST only: answer as SSE."}
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    else:
        operation["parameters"] = _parameters(route, components)
    return operation


def _parameters(route: RpcRoute, components: _Components) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for field in route.rpc.input_type.fields:
        if f"{{{field.name}}}" in route.path:
            params.append({"name": field.name, "in": "path", "required": True, "schema": {"type": "string"}})
        elif field.type != _T.TYPE_MESSAGE:
            schema = components.field(field, request=True)
            params.append({"name": field.name, "in": "query", "required": False, "schema": schema})
    return params


def _success_content(route: RpcRoute, components: _Components) -> dict[str, Any]:
    sse = {"text/event-stream": {"schema": {"$ref": "#/components/schemas/StreamEvent"}}}
    if route.rpc.server_streaming:
        return sse
    content = {"application/json": {"schema": components.ref(route.rpc.output_type, request=False)}}
    return {**content, **sse} if route.stream_rpc is not None else content


def _stream_event_schema(components: _Components) -> Schema:
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


def _may_be_absent(field: FieldDescriptor) -> bool:
    # proto3 `optional` scalars and oneof members are left out when unset (see jsonmap).
    return field.has_presence and not (field.type == _T.TYPE_MESSAGE and field.containing_oneof is None)
