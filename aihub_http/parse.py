"""HTTP input -> request messages, with errors that name the offending field.

`json_format.ParseDict` does the conversion, but its errors do not say which field was wrong
and it accepts things the API document does not (camelCase names, numbers as strings), so the
input is checked against the descriptor first: unknown field -> `unknown_parameter`, wrong type
or out of range -> `invalid_parameter`, both with `details.parameter` set to the field path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from aihub_http.errors import ApiError, invalid_request
from aihub_http.jsonmap import descriptor_of, enum_type, is_map, message_type

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
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_BOOL_TEXT = MappingProxyType({"true": True, "false": False, "1": True, "0": False})


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body counts as `{}`."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_request("invalid_json", f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise invalid_request("invalid_json", "The request body must be a JSON object")
    return data


def pop_bool(data: dict[str, Any], name: str) -> bool:
    """Remove a REST-only boolean such as `stream`; absent or null means false."""
    value = data.pop(name, None)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(name, "a boolean")
    return value


def message_from_json(data: Mapping[str, Any], cls: type[M]) -> M:
    """Check `data` against `cls`'s fields, then build the message."""
    check_object(data, descriptor_of(cls), "")
    try:
        return json_format.ParseDict(dict(data), cls())
    except json_format.ParseError as exc:  # the checks above should leave nothing for this
        raise invalid_request("invalid_parameter", str(exc)) from None


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


def check_object(data: Mapping[str, Any], descriptor: Descriptor, prefix: str) -> None:
    """Raise the 400 for the first unknown or ill-typed field of `data`."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        field = descriptor.fields_by_name.get(key)
        if field is None:
            raise invalid_request("unknown_parameter", f"Unknown parameter `{path}`", path)
        if value is None:
            continue  # null leaves the field unset, as ParseDict does
        if is_map(field):
            if not isinstance(value, dict):
                raise _invalid(path, "an object")
            value_field = message_type(field).fields_by_name["value"]
            for map_key, item in value.items():
                _check_value(value_field, item, f"{path}.{map_key}")
        elif field.is_repeated:
            if not isinstance(value, list):
                raise _invalid(path, "an array")
            for index, item in enumerate(value):
                _check_value(field, item, f"{path}[{index}]")
        else:
            _check_value(field, value, path)


def _check_value(field: FieldDescriptor, value: Any, path: str) -> None:
    kind = field.type
    if kind == _T.TYPE_MESSAGE:
        if message_type(field).full_name.startswith("google.protobuf."):
            return  # well-known types have their own JSON forms; ParseDict judges them
        if not isinstance(value, dict):
            raise _invalid(path, "an object")
        check_object(value, message_type(field), path + ".")
    elif kind in (_T.TYPE_STRING, _T.TYPE_BYTES):
        if not isinstance(value, str):
            raise _invalid(path, "a string")
    elif kind == _T.TYPE_BOOL:
        if not isinstance(value, bool):
            raise _invalid(path, "a boolean")
    elif kind in _INT_RANGES:
        _check_integer(kind, value, path)
    elif kind in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, "a number")
    elif kind == _T.TYPE_ENUM:
        names = enum_type(field).values_by_name
        if not (isinstance(value, str) and value in names):
            raise _invalid(path, "one of " + ", ".join(names))


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
