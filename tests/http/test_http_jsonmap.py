"""The descriptor-driven message -> JSON rules, on messages the routes do not all exercise."""

from __future__ import annotations

import json

from google.protobuf import descriptor_pb2, timestamp_pb2

from aihub.v1 import chat_service_pb2, key_service_pb2, model_service_pb2
from aihub_http.jsonmap import message_to_json
from aihub_http.sse import encode_event, event_json


def test_unset_message_is_null_and_unset_optional_scalar_is_absent() -> None:
    assert message_to_json(key_service_pb2.ApiKey(id="k")) == {
        "id": "k",
        "name": "",
        "prefix": "",
        "created_at": None,
        "permissions": [],
        "last_used": None,
        "rate_limit": None,
        "expires_at": None,
        "rotated_at": None,
        "budget": None,
    }
    assert message_to_json(model_service_pb2.ServiceCapabilities(streaming=False)) == {"streaming": False}


def test_int64_stays_a_number_even_beyond_2_to_the_53() -> None:
    usage = chat_service_pb2.Usage(prompt_tokens=2**60)
    assert json.loads(json.dumps(message_to_json(usage)))["prompt_tokens"] == 2**60


def test_timestamps_are_utc_rfc3339() -> None:
    stamp = timestamp_pb2.Timestamp(seconds=1759140000, nanos=123_000_000)
    assert (
        message_to_json(key_service_pb2.ApiKey(created_at=stamp))["created_at"] == "2025-09-29T10:00:00.123Z"
    )


def test_non_finite_doubles_use_proto_json_spellings() -> None:
    pricing = model_service_pb2.ModelPricing(prompt=float("nan"), completion=float("-inf"))
    assert message_to_json(pricing) == {"prompt": "NaN", "completion": "-Infinity"}


def test_enums_by_name_and_proto2_presence() -> None:
    field = descriptor_pb2.FieldDescriptorProto(
        name="x", type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING
    )
    assert message_to_json(field) == {"name": "x", "type": "TYPE_STRING", "options": None}


def test_oneof_members_that_are_unset_are_absent() -> None:
    message = chat_service_pb2.StreamChatResponse(done=chat_service_pb2.DoneEvent())
    assert message_to_json(message) == {"done": {}}


def test_usage_event_without_metadata_still_has_the_key() -> None:
    message = chat_service_pb2.StreamChatResponse(
        usage=chat_service_pb2.UsageEvent(usage=chat_service_pb2.Usage())
    )
    event = event_json(message)
    assert event is not None
    assert event["metadata"] is None
    assert event_json(chat_service_pb2.StreamChatResponse()) is None


def test_sse_encoding_escapes_unicode_line_separators_only() -> None:
    encoded = encode_event({"content": "好\u2028\u2029\x85"})
    assert encoded == 'data: {"content":"好\\u2028\\u2029\\u0085"}\n\n'.encode()
