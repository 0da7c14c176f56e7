"""JSON -> request messages in one walk, on messages the routes do not all exercise: from valid
input it builds what `json_format.ParseDict` builds, and it names the field it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

from aihub.v1 import chat_service_pb2, key_service_pb2, model_service_pb2
from aihub_http.errors import ApiError
from aihub_http.jsonmap import descriptor_of, presence_flag
from aihub_http.parse import decode_json_object, message_from_json


def _every_kind() -> type[Message]:
    """A message with the kinds of field no request of the contract has yet."""
    F = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="every_kind.proto", package="t", syntax="proto3")
    file.enum_type.add(name="Colour").value.extend(
        [descriptor_pb2.EnumValueDescriptorProto(name=n, number=i) for i, n in enumerate(["NONE", "RED"])]
    )
    entry = descriptor_pb2.DescriptorProto(
        name="NamesEntry", options=descriptor_pb2.MessageOptions(map_entry=True)
    )
    entry.field.add(name="key", number=1, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    kind = file.message_type.add(name="Kind", nested_type=[entry])
    kind.oneof_decl.add(name="choice")
    repeated, optional = F.LABEL_REPEATED, F.LABEL_OPTIONAL
    for number, (name, type_, label, type_name) in enumerate(
        [
            ("colour", F.TYPE_ENUM, optional, ".t.Colour"),
            ("ratio", F.TYPE_FLOAT, optional, ""),
            ("blob", F.TYPE_BYTES, optional, ""),
            ("flag", F.TYPE_BOOL, optional, ""),
            ("names", F.TYPE_MESSAGE, repeated, ".t.Kind.NamesEntry"),
            ("children", F.TYPE_MESSAGE, repeated, ".t.Kind"),
            ("left", F.TYPE_STRING, optional, ""),
            ("right", F.TYPE_UINT64, optional, ""),
        ],
        start=1,
    ):
        field = kind.field.add(name=name, number=number, type=type_, label=label)
        if type_name:
            field.type_name = type_name
        if name in ("left", "right"):
            field.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("t.Kind"))


KIND = _every_kind()

VALID: list[tuple[type[Message], dict[str, Any]]] = [
    (
        chat_service_pb2.ChatRequest,
        {
            "message": "你好",
            "model": "x-ai/grok-beta",
            "max_tokens": 150,
            "temperature": 0.7,
            "images": ["aGVsbG8="],
            "context": {"system_prompt": "be brief"},
            "session_id": None,
        },
    ),
    (chat_service_pb2.ChatRequest, {"context": {}, "max_tokens": 7.0, "temperature": 1}),
    (
        key_service_pb2.CreateApiKeyRequest,
        {"name": "k", "permissions": ["chat", "usage"], "rate_limit": {"requests_per_minute": 30}},
    ),
    (key_service_pb2.ApiKey, {"id": "k", "created_at": "2025-09-29T10:00:00.123Z", "last_used": None}),
    (
        model_service_pb2.ListServicesResponse,
        {"capabilities": {"gemini": {"streaming": True}, "x": {}}, "simulated": {"gemini": False}},
    ),
    (chat_service_pb2.StreamChatResponse, {"done": {}}),
    (chat_service_pb2.StreamChatResponse, {"content": {"content": "x", "model": "m"}, "usage": None}),
    (chat_service_pb2.Usage, {"prompt_tokens": 2**60, "estimated_cost_usd": 1e-9}),
    (
        KIND,
        {
            "colour": "RED",
            "ratio": 0.5,
            "blob": "aGk-_w",
            "flag": True,
            "names": {"1": "one", "-2": "minus two"},
            "children": [{"left": "l", "children": [{}]}, {"right": 2**64 - 1}],
            "right": None,
        },
    ),
    (KIND, {"blob": "aGk+/w==", "ratio": 3, "colour": None, "left": ""}),
    (descriptor_pb2.FieldDescriptorProto, {"name": "x", "type": "TYPE_STRING"}),  # google.*: ParseDict's
]


@pytest.mark.parametrize(("cls", "data"), VALID, ids=lambda value: getattr(value, "__name__", ""))
def test_valid_input_builds_what_parse_dict_builds(cls: type[Message], data: dict[str, Any]) -> None:
    built = message_from_json(data, cls)
    expected = json_format.ParseDict(copy.deepcopy(data), cls())
    for name, value in data.items():  # the one difference, on purpose: presence flags are set
        flag = presence_flag(descriptor_of(cls).fields_by_name[name])
        if flag is not None and value is not None:
            setattr(expected, flag.name, True)
    assert built == expected
    assert built.ListFields() or not data  # (the comparison is not between two empty messages)


@pytest.mark.parametrize(
    ("data", "present"),
    [
        ({"permissions": []}, True),
        ({"permissions": ["chat"]}, True),
        ({"permissions": None}, False),
        ({}, False),
    ],
)
def test_naming_a_list_sets_its_presence_flag_even_when_empty(data: dict[str, Any], present: bool) -> None:
    # proto3 cannot tell `"permissions": []` from no `permissions`; the flag does.
    built = message_from_json(data, key_service_pb2.CreateApiKeyRequest)
    assert built.permissions_present is present
    assert list(built.permissions) == (data.get("permissions") or [])


def test_a_presence_flag_is_not_a_json_parameter() -> None:
    with pytest.raises(ApiError) as caught:
        message_from_json({"permissions_present": True}, key_service_pb2.CreateApiKeyRequest)
    assert (caught.value.code, caught.value.details) == (
        "unknown_parameter",
        {"parameter": "permissions_present"},
    )


@pytest.mark.parametrize(
    ("cls", "data", "parameter"),
    [
        (chat_service_pb2.ChatRequest, {"message": "\ud800"}, "message"),
        (chat_service_pb2.ChatRequest, {"images": ["ok", "\udc00x"]}, "images[1]"),
        (chat_service_pb2.ChatRequest, {"temperature": 10**400}, "temperature"),
        (chat_service_pb2.ChatRequest, {"temperature": float("inf")}, "temperature"),
        (chat_service_pb2.ChatRequest, {"max_tokens": 2**31}, "max_tokens"),
        (
            key_service_pb2.CreateApiKeyRequest,
            {"rate_limit": {"requests_per_minute": 0.5}},
            "rate_limit.requests_per_minute",
        ),
        (chat_service_pb2.StreamChatResponse, {"done": {}, "session": {"session_id": "s"}}, "session"),
        (model_service_pb2.ListServicesResponse, {"simulated": {"gemini": "no"}}, "simulated.gemini"),
        (
            model_service_pb2.ListServicesResponse,
            {"capabilities": {"g": {"streaming": 1}}},
            "capabilities.g.streaming",
        ),
        (model_service_pb2.ListServicesResponse, {"capabilities": []}, "capabilities"),
        (KIND, {"left": "l", "right": 1}, "right"),
        (KIND, {"children": [{}, None]}, "children[1]"),
        (KIND, {"children": [{"children": [{"flag": "yes"}]}]}, "children[0].children[0].flag"),
        (KIND, {"colour": "BLUE"}, "colour"),
        (KIND, {"colour": 1}, "colour"),
        (KIND, {"ratio": 1e39}, "ratio"),
        (KIND, {"blob": "a"}, "blob"),
        (KIND, {"names": {"one": "1"}}, "names.one"),
        (KIND, {"names": {"1": 1}}, "names.1"),
        (KIND, {"names": {"1": None}}, "names.1"),
        (descriptor_pb2.FieldDescriptorProto, {"type": "TYPE_NOTHING"}, "type"),
        (key_service_pb2.ApiKey, {"created_at": "yesterday"}, "created_at"),
    ],
)
def test_a_refused_value_is_a_400_naming_its_field(
    cls: type[Message], data: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(ApiError) as caught:
        message_from_json(data, cls)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_parameter")
    assert caught.value.details == {"parameter": parameter}


@pytest.mark.parametrize("raw", [b"", b" \r\n\t\x0b\x0c"])
def test_an_empty_or_blank_body_is_an_empty_object(raw: bytes) -> None:
    assert decode_json_object(raw) == {}


def test_json_nested_too_deep_is_invalid_json_not_a_crash() -> None:
    with pytest.raises(ApiError) as caught:
        decode_json_object(b"[" * 100_000)
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_json")
