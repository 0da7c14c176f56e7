"""HTTP input -> request messages, with errors that name the offending field.

The decoded JSON is walked once: each field is checked against the descriptor and set on the
message in the same step. Unknown field -> `unknown_parameter`; wrong type or out of range ->
`invalid_parameter`; both with `details.parameter` set to the field path. The API document's
JSON is stricter than protobuf's (`json_format.ParseDict` also takes camelCase names and numbers
as strings), so it is not used, except for the fields whose JSON form protobuf itself defines:
well-known types (`google.protobuf.*`) and maps, handed to ParseDict one field at a time.
A repeated field's presence flag (`jsonmap.presence_flag`) is set when the body names the field,
even as `[]`, and is not a parameter of its own.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from aihub_http.errors import ApiError, invalid_request
from aihub_http.jsonmap import descriptor_of, enum_type, is_map, is_presence_flag, message_type, presence_flag

M = TypeVar("M", bound=Message)

_T = FieldDescriptor
_INT_RANGES: Mapping[int, tuple[int, int]] = MappingProxyType(
    {
        _T.TYPE_INT32: (-(2**31), 2**31 - 1),
        _T.TYPE_SINT32: (-(2**31), 2**31 - 1),
        _T.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
        _T.TYPE_UINT32: (0, 2**32 - 1),
        _T.TYPE_FIXED32: (0, 2**32 - 1),
        _T.TYPE_INT64: (-(2**63), 2**63 - 1),
        _T.TYPE_SINT64: (-(2**63), 2**63 - 1),
        _T.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
        _T.TYPE_UINT64: (0, 2**64 - 1),
        _T.TYPE_FIXED64: (0, 2**64 - 1),
    }
)
_FLOATS = frozenset({_T.TYPE_DOUBLE, _T.TYPE_FLOAT})
_FLOAT32_MAX = float.fromhex("0x1.fffffep+127")
# What ParseDict refuses in a string (json.loads makes one from an escape such as "\\ud800").
_UNPAIRED_SURROGATE = re.compile("[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_BOOL_TEXT = MappingProxyType({"true": True, "false": False, "1": True, "0": False})


def decode_json_object(raw: bytes | bytearray) -> dict[str, Any]:
    """The request body as a JSON object; an empty body counts as `{}`."""
    if not raw or raw.isspace():  # (not raw.strip(): a copy of a body of up to 32 MB)
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise invalid_request("invalid_json", f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise invalid_request("invalid_json", "The request body must be a JSON object")
    return data


def has_unpaired_surrogate(value: str) -> bool:
    """Whether `value` holds a lone UTF-16 surrogate, which no protobuf string may."""
    return not value.isascii() and _UNPAIRED_SURROGATE.search(value) is not None


def pop_bool(data: dict[str, Any], name: str) -> bool:
    """Remove a REST-only boolean such as `stream`; absent or null means false."""
    value = data.pop(name, None)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(name, "a boolean")
    return value


def message_from_json(data: Mapping[str, Any], cls: type[M]) -> M:
    """A `cls` built from `data` in one walk: each field checked as it is set."""
    message = cls()
    _fill(message, data, "")
    return message


def query_to_json(
    params: Sequence[tuple[str, str]], descriptor: Descriptor, bound: frozenset[str]
) -> dict[str, Any]:
    """Query parameters as JSON values of the request fields of the same name.

    Fields already taken from the path (`bound`) and message-typed fields cannot be given here.
    A repeated field takes every occurrence; any other field takes the last one.
    """
    data: dict[str, Any] = {}
    for name, text in params:
        field = descriptor.fields_by_name.get(name)
        if field is None or name in bound or field.type == _T.TYPE_MESSAGE:
            raise invalid_request("unknown_parameter", f"Unknown query parameter `{name}`", name)
        value = _from_text(field, text, name)
        if field.is_repeated:
            data.setdefault(name, []).append(value)
        else:
            data[name] = value
    return data


def _fill(message: Message, data: Mapping[str, Any], prefix: str) -> None:
    """Set `data`'s fields on `message`; raise the 400 for the first unknown or ill-typed one."""
    fields = descriptor_of(message).fields_by_name
    oneofs: set[str] = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        field = fields.get(key)
        if field is None or is_presence_flag(field):
            raise invalid_request("unknown_parameter", f"Unknown parameter `{path}`", path)
        oneof = field.containing_oneof
        if oneof is not None and value is not None:
            if oneof.name in oneofs:
                raise invalid_request(
                    "invalid_parameter", f"`{path}` cannot be set with another field of `{oneof.name}`", path
                )
            oneofs.add(oneof.name)
        if _protobuf_json(field):
            _parse_protobuf_json(message, key, value, path)
        elif value is None:
            continue  # null leaves the field unset, as ParseDict does
        elif is_map(field):
            if not isinstance(value, dict):
                raise _invalid(path, "an object")
            _fill_map(getattr(message, key), message_type(field), value, path)
        elif field.is_repeated:
            if not isinstance(value, list):
                raise _invalid(path, "an array")
            flag = presence_flag(field)
            if flag is not None:
                setattr(message, flag.name, True)
            items = getattr(message, key)
            if field.type == _T.TYPE_MESSAGE:
                for index, item in enumerate(value):
                    _fill_object(items.add(), item, f"{path}[{index}]")
            else:
                items.extend([_scalar(field, item, f"{path}[{index}]") for index, item in enumerate(value)])
        elif field.type == _T.TYPE_MESSAGE:
            child = getattr(message, key)
            child.SetInParent()  # `{}` sets the field, as ParseDict does
            _fill_object(child, value, path)
        else:
            setattr(message, key, _scalar(field, value, path))


def _fill_object(message: Message, value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _invalid(path, "an object")
    _fill(message, value, path + ".")


def _fill_map(entries: Any, entry: Descriptor, value: Mapping[str, Any], path: str) -> None:
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    for text, item in value.items():
        item_path = f"{path}.{text}"
        key = (
            text
            if key_field.type == _T.TYPE_STRING
            else _scalar(key_field, _from_text(key_field, text, item_path), item_path)
        )
        if value_field.type == _T.TYPE_MESSAGE:
            _fill_object(entries[key], item, item_path)
        else:
            entries[key] = _scalar(value_field, item, item_path)


def _protobuf_json(field: FieldDescriptor) -> bool:
    """Whether protobuf defines the field's JSON form: a well-known type, or a map of them."""
    target = field.message_type
    if target is not None and is_map(field):
        target = target.fields_by_name["value"].message_type
    return target is not None and target.full_name.startswith("google.protobuf.")


def _parse_protobuf_json(message: Message, key: str, value: Any, path: str) -> None:
    try:
        json_format.ParseDict({key: value}, message)
    except json_format.ParseError as exc:
        raise invalid_request("invalid_parameter", str(exc), path) from None


def _scalar(field: FieldDescriptor, value: Any, path: str) -> Any:
    """The value to set on a scalar field from its JSON value, or the 400 naming `path`."""
    kind = field.type
    if kind == _T.TYPE_STRING:
        if not isinstance(value, str):
            raise _invalid(path, "a string")
        if has_unpaired_surrogate(value):
            raise _invalid(path, "a string without unpaired surrogates")
        return value
    if kind in _INT_RANGES:
        _check_integer(kind, value, path)
        return int(value)
    if kind in _FLOATS:
        return _float(kind, value, path)
    if kind == _T.TYPE_BOOL:
        if not isinstance(value, bool):
            raise _invalid(path, "a boolean")
        return value
    if kind == _T.TYPE_BYTES:
        return _bytes(value, path)
    if kind == _T.TYPE_ENUM:
        number = enum_type(field).values_by_name.get(value) if isinstance(value, str) else None
        if number is None:
            raise _invalid(path, "one of " + ", ".join(enum_type(field).values_by_name))
        return number.number
    raise AssertionError(
        f"{field.full_name}: not a scalar field"
    )  # pragma: no cover - callers route messages


def _float(kind: int, value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(path, "a number")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a double
        raise _invalid(path, "a finite number") from None
    if not math.isfinite(number) or (kind == _T.TYPE_FLOAT and abs(number) > _FLOAT32_MAX):
        raise _invalid(path, "a finite number" if kind == _T.TYPE_DOUBLE else "a 32-bit float")
    return number


def _bytes(value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise _invalid(path, "a string")
    encoded = value.encode("utf-8")
    try:  # as ParseDict reads bytes: base64, either alphabet, padding optional
        return base64.urlsafe_b64decode(encoded + b"=" * (4 - len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(path, "base64") from None


def _check_integer(kind: int, value: Any, path: str) -> None:
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral:
        raise _invalid(path, "an integer")
    low, high = _INT_RANGES[kind]
    if not low <= value <= high:
        raise invalid_request("invalid_parameter", f"`{path}` must be between {low} and {high}", path)


def _from_text(field: FieldDescriptor, text: str, path: str) -> Any:
    kind = field.type
    if kind in _INT_RANGES:
        if not _INTEGER_TEXT.fullmatch(text):
            raise _invalid(path, "an integer")
        return int(text)
    if kind in _FLOATS:
        try:
            number = float(text)
        except ValueError:
            raise _invalid(path, "a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise _invalid(path, "a finite number")
        return number
    if kind == _T.TYPE_BOOL:
        if text.lower() not in _BOOL_TEXT:
            raise _invalid(path, "`true` or `false`")
        return _BOOL_TEXT[text.lower()]
    return text


def _invalid(path: str, expected: str) -> ApiError:
    return invalid_request("invalid_parameter", f"`{path}` must be {expected}", path)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")
