"""Protobuf messages -> the spec's JSON, driven by the message descriptors.

The rules differ from `json_format.MessageToDict` on purpose, to match the API document:
proto field names; int64 as JSON numbers; an unset message field is `null` (`"last_used": null`);
an unset proto3 `optional` scalar or oneof member is left out (so `/services` capabilities list
only what a service claims); every other scalar is always present; Timestamps are RFC 3339 UTC.
"""

from __future__ import annotations

import base64
import enum
import math
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

JsonValue = Any  # str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]

_FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
# Scalar types whose JSON form is not their Python value (`_single`).
_CONVERTED_TYPES = _FLOAT_TYPES | {
    FieldDescriptor.TYPE_ENUM,
    FieldDescriptor.TYPE_BYTES,
    FieldDescriptor.TYPE_MESSAGE,
}
PRESENCE_SUFFIX = "_present"


def message_to_json(message: Message) -> dict[str, JsonValue]:
    """The JSON object for `message`."""
    out: dict[str, JsonValue] = {}
    for name, kind, field in _plan(descriptor_of(message)):
        value = getattr(message, name)
        if kind is _Kind.AS_IS:
            out[name] = value
        elif kind is _Kind.SINGLE:
            out[name] = _single(field, value)
        elif kind is _Kind.MESSAGE_OR_NULL:
            out[name] = _single(field, value) if message.HasField(name) else None
        elif kind is _Kind.IF_SET:
            if message.HasField(name):
                out[name] = _single(field, value)
        elif kind is _Kind.REPEATED:
            out[name] = [_single(field, item) for item in value]
        else:  # a map
            value_field = message_type(field).fields_by_name["value"]
            out[name] = {str(k): _single(value_field, v) for k, v in value.items()}
    return out


class _Kind(enum.Enum):
    """How `message_to_json` writes a field (decided once per message type, `_plan`)."""

    AS_IS = 0  # a scalar whose Python value is its JSON value
    SINGLE = 1  # any other scalar, or a oneof's message member: `_single`
    MESSAGE_OR_NULL = 2  # a message field: its object, or null when unset
    IF_SET = 3  # a proto3 `optional` scalar or oneof member: left out when unset
    REPEATED = 4
    MAP = 5


_Plan = tuple[tuple[str, _Kind, FieldDescriptor], ...]
# Message descriptor -> its fields' plan. Bounded by the message types of the proto package.
_PLANS: dict[Descriptor, _Plan] = {}


def _plan(descriptor: Descriptor) -> _Plan:
    plan = _PLANS.get(descriptor)
    if plan is None:
        plan = _PLANS[descriptor] = tuple((field.name, _kind(field), field) for field in descriptor.fields)
    return plan


def _kind(field: FieldDescriptor) -> _Kind:
    if is_map(field):
        return _Kind.MAP
    if field.is_repeated:
        return _Kind.REPEATED
    if field.type == FieldDescriptor.TYPE_MESSAGE and field.containing_oneof is None:
        return _Kind.MESSAGE_OR_NULL
    if field.has_presence:
        return _Kind.IF_SET
    as_is = field.type not in _CONVERTED_TYPES
    return _Kind.AS_IS if as_is else _Kind.SINGLE


def is_map(field: FieldDescriptor) -> bool:
    """Whether `field` is a protobuf map."""
    return field.is_repeated and field.message_type is not None and field.message_type.GetOptions().map_entry


def descriptor_of(message: Message | type[Message]) -> Descriptor:
    """The descriptor of a message or message class (the stubs type it as a C/Python union)."""
    return cast(Descriptor, message.DESCRIPTOR)


def message_type(field: FieldDescriptor) -> Descriptor:
    """The message type of a message-typed field."""
    assert field.message_type is not None, field.full_name
    return field.message_type


def presence_flag(field: FieldDescriptor) -> FieldDescriptor | None:
    """The `bool <name>_present` beside a repeated field, if its message declares one: proto3
    cannot tell an empty list from an absent one, so a request that must (`"permissions": []`)
    carries this flag, set by the shim whenever the body names the field."""
    if not field.is_repeated or field.containing_type is None:
        return None
    flag = field.containing_type.fields_by_name.get(field.name + PRESENCE_SUFFIX)
    return flag if flag is not None and flag.type == FieldDescriptor.TYPE_BOOL else None


def is_presence_flag(field: FieldDescriptor) -> bool:
    """Whether `field` is another field's presence flag (set by the shim, never a JSON field)."""
    if not field.name.endswith(PRESENCE_SUFFIX) or field.containing_type is None:
        return False
    sibling = field.containing_type.fields_by_name.get(field.name.removesuffix(PRESENCE_SUFFIX))
    return sibling is not None and presence_flag(sibling) is field


def enum_type(field: FieldDescriptor) -> EnumDescriptor:
    """The enum type of an enum-typed field."""
    assert field.enum_type is not None, field.full_name
    return field.enum_type


def format_timestamp(value: Timestamp) -> str:
    """RFC 3339 in UTC with a `Z`, fractional seconds only when there are some."""
    return value.ToJsonString()


def _single(field: FieldDescriptor, value: Any) -> JsonValue:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if isinstance(value, Timestamp):
            return format_timestamp(value)
        if message_type(field).full_name.startswith("google.protobuf."):
            # Other well-known types have their own JSON forms (Struct, Duration, wrappers).
            return json_format.MessageToDict(value, preserving_proto_field_name=True)
        return message_to_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum_value = enum_type(field).values_by_number.get(value)
        return enum_value.name if enum_value is not None else value
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.type in _FLOAT_TYPES:
        return _float(field, value)
    return value


def _float(field: FieldDescriptor, value: float) -> JsonValue:
    if math.isnan(value):
        return "NaN"  # proto3 JSON's spelling; bare NaN is not JSON
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if field.type == FieldDescriptor.TYPE_FLOAT:
        # A 32-bit float read back as a Python float shows noise digits (0.7 -> 0.699999988...).
        return float(f"{value:.7g}")
    return value
