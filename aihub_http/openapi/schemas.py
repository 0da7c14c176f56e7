"""JSON Schemas of protobuf messages, following the JSON rules of `jsonmap` (answers) and `parse`
(requests), documented by the proto comments and constrained by the `(aihub.v1.field)` rules.

A message reachable from both requests and responses gets a second, `Input`-suffixed schema: a
response lists every field it always sends as `required` and never sends null for a scalar; a
request requires only the fields its rules require, and takes null for any other field (null
leaves a field unset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from aihub.v1 import field_rules_pb2
from aihub_http.jsonmap import enum_type, is_map, is_presence_flag, message_type

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
_INT32 = (-(2**31), 2**31 - 1)


def rules_of(field: FieldDescriptor) -> field_rules_pb2.FieldRules:
    """The field's `(aihub.v1.field)` rules (empty when it has none)."""
    rules: field_rules_pb2.FieldRules = field.GetOptions().Extensions[field_rules_pb2.field]
    return rules


def constrain(schema: Schema, rules: field_rules_pb2.FieldRules) -> Schema:
    """`schema` (of one value) with the rules that apply to a single value."""
    if rules.HasField("minimum"):
        schema["minimum"] = _number(rules.minimum)
    if rules.HasField("maximum"):
        schema["maximum"] = _number(rules.maximum)
    if rules.values:
        schema["enum"] = list(rules.values)
    if rules.format:
        schema["format"] = rules.format
    if rules.HasField("min_length"):
        schema["minLength"] = rules.min_length
    if rules.HasField("max_length"):
        schema["maxLength"] = rules.max_length
    if rules.pattern:
        schema["pattern"] = rules.pattern
    return schema


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


class Components:
    """Collects message schemas by name while operations refer to them."""

    def __init__(self, comments: Mapping[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, Schema] = {}
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
        description = self.comments.get(descriptor.full_name)
        if description:
            schema["description"] = description
        if request:
            required = [f.name for f in fields if rules_of(f).required]
        else:
            required = [f.name for f in fields if not _may_be_absent(f)]
        if required:
            schema["required"] = required
        return schema

    def field(self, field: FieldDescriptor, *, request: bool) -> Schema:
        """The schema of one field's JSON value, with its description."""
        schema = self._value(field, request=request)
        if request and not rules_of(field).required:
            schema = _nullable(schema)
        description = self.comments.get(field.full_name)
        return {**schema, "description": description} if description else schema

    def _value(self, field: FieldDescriptor, *, request: bool) -> Schema:
        if is_map(field):
            value = self._single(message_type(field).fields_by_name["value"], request=request)
            return {"type": "object", "additionalProperties": value}
        if field.is_repeated:
            return {"type": "array", "items": self._single(field, request=request)}
        schema = self._single(field, request=request)
        if field.type == _T.TYPE_MESSAGE and not request:
            return {"anyOf": [schema, {"type": "null"}]}  # unset messages are null
        return schema

    def _single(self, field: FieldDescriptor, *, request: bool) -> Schema:
        if field.type == _T.TYPE_ENUM:
            return {"type": "string", "enum": list(enum_type(field).values_by_name)}
        if field.type != _T.TYPE_MESSAGE:
            schema = dict(_SCALARS[field.type])
            if schema.get("format") == "int32":
                schema["minimum"], schema["maximum"] = _INT32
            return constrain(schema, rules_of(field)) if request else schema
        message = message_type(field)
        if message.full_name == "google.protobuf.Timestamp":
            return {"type": "string", "format": "date-time", "examples": ["2025-09-29T10:00:00Z"]}
        if message.full_name.startswith("google.protobuf."):
            return {}
        return self.ref(message, request=request)


def _nullable(schema: Schema) -> Schema:
    if "$ref" in schema or "anyOf" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _may_be_absent(field: FieldDescriptor) -> bool:
    # proto3 `optional` scalars and oneof members are left out when unset (see jsonmap).
    return field.has_presence and not (field.type == _T.TYPE_MESSAGE and field.containing_oneof is None)
