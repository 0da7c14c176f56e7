"""Both SDKs carry every field the server answers with, as the proto describes it.

Static: each response message reachable from the REST routes (and the stream's events) has an SDK
type, the Python dataclass and the TypeScript interface of `sdk/js/index.d.ts`, with a field for
each proto field. At run time: each SDK's answers from a real gateway hold exactly what the JSON
body said, field by field down the descriptors, and nothing the proto does not have beyond the
few extras named below.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

import ai_hub.types as py
from ai_hub import AsyncAIHub
from aihub.v1 import chat_service_pb2
from aihub_http.jsonmap import is_map, message_type
from aihub_http.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
JS_TYPES = ROOT / "sdk" / "js" / "index.d.ts"
JS_SCRIPT = Path(__file__).with_name("js_sdk_answers.mjs")

# Proto message -> (Python dataclass, TypeScript interface).
SDK_TYPES: Mapping[str, tuple[type[Any], str]] = MappingProxyType(
    {
        "aihub.v1.RegisterResponse": (py.TokenInfo, "TokenInfo"),
        "aihub.v1.LoginResponse": (py.TokenInfo, "TokenInfo"),
        "aihub.v1.ChatResponse": (py.ChatResponse, "ChatResponse"),
        "aihub.v1.Usage": (py.Usage, "Usage"),
        "aihub.v1.ChatMetadata": (py.ChatMetadata, "ChatMetadata"),
        "aihub.v1.ContentEvent": (py.ContentEvent, "ContentEvent"),
        "aihub.v1.SessionEvent": (py.SessionEvent, "SessionEvent"),
        "aihub.v1.UsageEvent": (py.UsageEvent, "UsageEvent"),
        "aihub.v1.DoneEvent": (py.DoneEvent, "DoneEvent"),
        "aihub.v1.ListModelsResponse": (py.ModelList, "ModelList"),
        "aihub.v1.Model": (py.Model, "Model"),
        "aihub.v1.ModelPricing": (py.ModelPricing, "ModelPricing"),
        "aihub.v1.ListServicesResponse": (py.ServiceList, "ServiceList"),
        "aihub.v1.GetUsageResponse": (py.UsageReport, "UsageReport"),
        "aihub.v1.DailyUsage": (py.DailyUsage, "DailyUsage"),
        "aihub.v1.GetUsageBreakdownResponse": (py.UsageBreakdown, "UsageBreakdown"),
        "aihub.v1.UsageGroup": (py.UsageGroup, "UsageGroup"),
        "aihub.v1.GetQuotaResponse": (py.Quota, "Quota"),
        "aihub.v1.RateLimit": (py.RateLimitPolicy, "RateLimitPolicy"),
        "aihub.v1.CreateApiKeyResponse": (py.CreatedApiKey, "CreatedApiKey"),
        "aihub.v1.ApiKey": (py.ApiKey, "ApiKey"),
        "aihub.v1.KeyRateLimit": (py.RateLimitPolicy, "RateLimitPolicy"),
        "aihub.v1.KeyBudget": (py.KeyBudget, "KeyBudget"),
        "aihub.v1.SpendBudget": (py.SpendBudget, "SpendBudget"),
        "aihub.v1.ListApiKeysResponse": (py.ApiKeyList, "ApiKeyList"),
        "aihub.v1.DeleteApiKeyResponse": (py.DeletedApiKey, "DeletedApiKey"),
        "aihub.v1.RotateApiKeyResponse": (py.RotatedApiKey, "RotatedApiKey"),
        "aihub.v1.ListUsageLogsResponse": (py.UsageLogPage, "UsageLogPage"),
        "aihub.v1.UsageLog": (py.UsageLog, "UsageLog"),
        "aihub.v1.CreateAlertResponse": (py.CreatedAlert, "CreatedAlert"),
        "aihub.v1.Alert": (py.Alert, "Alert"),
        "aihub.v1.AlertFigures": (py.AlertFigures, "AlertFigures"),
        "aihub.v1.ListAlertsResponse": (py.AlertList, "AlertList"),
        "aihub.v1.DeleteAlertResponse": (py.DeletedAlert, "DeletedAlert"),
        "aihub.v1.LogoutResponse": (py.LoggedOut, "LoggedOut"),
    }
)

# Messages no SDK type mirrors, and why.
UNMAPPED: Mapping[str, str] = MappingProxyType(
    {
        # Each service's flags stay a mapping (camelCased in JS), so flags a newer gateway claims
        # reach the user without an SDK release; the values are compared as a mapping below.
        "aihub.v1.ServiceCapabilities": "a mapping of flags",
        # The stream's oneof wrapper: each SDK yields its members (the events) as a union type.
        "aihub.v1.StreamChatResponse": "the StreamEvent union",
        # GET /quota/watch (the web console's live figures): no SDK wraps the endless stream yet;
        # programs read the same snapshots with GET /quota or WatchQuota over gRPC.
        "aihub.v1.WatchQuotaResponse": "not wrapped by the SDKs yet",
        "aihub.v1.RateBudget": "part of WatchQuotaResponse",
        "aihub.v1.AlertEvent": "part of WatchQuotaResponse",
        # /v1/admin (the web console's operator page, an admin's login token): not in the SDKs yet.
        "aihub.v1.ListUsersResponse": "not wrapped by the SDKs yet",
        "aihub.v1.SetUserPlanResponse": "not wrapped by the SDKs yet",
        "aihub.v1.AdminUser": "part of ListUsersResponse and SetUserPlanResponse",
        "aihub.v1.UserBudget": "part of AdminUser",
        "aihub.v1.SetUserBudgetResponse": "not wrapped by the SDKs yet",
        "aihub.v1.ListPlansResponse": "not wrapped by the SDKs yet",
        "aihub.v1.AdminPlan": "part of ListPlansResponse",
        "aihub.v1.GetOverviewResponse": "not wrapped by the SDKs yet",
        "aihub.v1.ModelUsage": "part of GetOverviewResponse",
        "aihub.v1.GetServiceHealthResponse": "not wrapped by the SDKs yet",
        "aihub.v1.ServiceHealth": "part of GetServiceHealthResponse",
        "aihub.v1.ModelBreaker": "part of ServiceHealth",
    }
)

# Fields an SDK type has beyond the proto's, and why. Answers: the request id and rate-limit
# figures come from the headers. Events: the event's `type`, the SSE wrapper's discriminator.
ANSWER_EXTRAS = frozenset({"request_id", "rate_limit"})
EVENT_EXTRAS = frozenset({"type"})
# Types that serve two messages have the fields of both, and one message lacks some of them.
SHARED_TYPE_EXTRAS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # RateLimitPolicy is the plan's limits and a key's own: a key's has requests/minute only.
        "aihub.v1.KeyRateLimit": frozenset({"tokens_per_minute", "concurrent_requests"}),
        # CreatedApiKey is an ApiKey; the creation answer has the whole `key` instead of a prefix.
        "aihub.v1.CreateApiKeyResponse": frozenset({"prefix"}),
        "aihub.v1.RotateApiKeyResponse": frozenset({"prefix"}),
    }
)
# Python's ApiKey is also the base of CreatedApiKey: in a list its secret and request id are None.
PY_ENTRY_EXTRAS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"aihub.v1.ApiKey": frozenset({"key", "request_id"})}
)
# The routes whose JSON is the API document's, which the SDKs cover; the OpenAI-compatible ones
# answer in OpenAI's shapes, for the OpenAI SDKs (tests/openai_sdk), and ours leave them alone.
DOCUMENTED = tuple(route for route in ROUTES if route.wire == "aihub")
# The answer-level messages (from the route table): they may carry ANSWER_EXTRAS.
ANSWERS = frozenset(route.rpc.output_type.full_name for route in DOCUMENTED)
EVENTS = frozenset(message_type(f).full_name for f in chat_service_pb2.StreamChatResponse.DESCRIPTOR.fields)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def reachable() -> Iterator[Descriptor]:
    """Every message the REST routes answer with, their streams' events, and what they hold."""
    pending: list[Descriptor] = [route.rpc.output_type for route in DOCUMENTED]
    pending += [route.stream_rpc.output_type for route in DOCUMENTED if route.stream_rpc is not None]
    seen: set[str] = set()
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in seen or descriptor.full_name.startswith("google.protobuf."):
            continue
        seen.add(descriptor.full_name)
        yield descriptor
        for field in descriptor.fields:
            if is_map(field):
                field = message_type(field).fields_by_name["value"]
            if field.message_type is not None:
                pending.append(message_type(field))


def allowed_extras(name: str) -> frozenset[str]:
    """The fields an SDK type of message `name` may have beyond the proto's (snake_case)."""
    shared = SHARED_TYPE_EXTRAS.get(name, frozenset())
    if name in EVENTS:
        return EVENT_EXTRAS | shared
    return (ANSWER_EXTRAS if name in ANSWERS else frozenset()) | shared


def ts_interfaces() -> dict[str, set[str]]:
    """Interface name -> its field names (inherited ones included), read from index.d.ts."""
    text = JS_TYPES.read_text(encoding="utf-8")
    found = re.findall(r"^export interface (\w+)(?: extends ([\w, ]+))? \{\n(.*?)^\}", text, re.M | re.S)
    own = {name: set(re.findall(r"^  (?:readonly )?(\w+)\??:", body, re.M)) for name, _, body in found}
    parents = {name: [p.strip() for p in extends.split(",") if p.strip()] for name, extends, _ in found}

    def fields(name: str) -> set[str]:
        return own[name].union(*(fields(parent) for parent in parents[name]))

    return {name: fields(name) for name in own}


def test_every_message_the_rest_api_answers_with_has_an_sdk_type() -> None:
    names = {d.full_name for d in reachable()}
    assert sorted(names - set(SDK_TYPES) - set(UNMAPPED)) == []
    assert sorted(set(SDK_TYPES) - names) == []  # the table names no message the API lost


@pytest.mark.parametrize(
    "descriptor", [d for d in reachable() if d.full_name in SDK_TYPES], ids=lambda d: d.full_name
)
def test_each_sdk_type_has_each_proto_field_and_no_other(descriptor: Descriptor) -> None:
    py_type, ts_name = SDK_TYPES[descriptor.full_name]
    proto = {f.name for f in descriptor.fields}
    extras = allowed_extras(descriptor.full_name)
    py_fields = {f.name for f in dataclasses.fields(py_type)} - {"raw"}
    assert sorted(proto - py_fields) == [], py_type
    py_extras = extras | PY_ENTRY_EXTRAS.get(descriptor.full_name, frozenset())
    assert sorted(py_fields - proto - py_extras) == [], py_type
    ts_fields = ts_interfaces()[ts_name] - {"raw"}
    assert sorted({camel(n) for n in proto} - ts_fields) == [], ts_name
    assert sorted(ts_fields - {camel(n) for n in proto | extras}) == [], ts_name


def _plain(value: Any) -> Any:
    """A Python SDK answer as JSON-like data (dataclass -> dict without `raw`, tuple -> list)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "raw"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def compare(descriptor: Descriptor, sdk: dict[str, Any], raw: dict[str, Any], key: Any, where: str) -> None:
    """Assert that `sdk` holds each field of `raw` (a JSON body of `descriptor`), and no other
    field beyond the allowed extras."""
    names = {key(f.name) for f in descriptor.fields}
    extras = {key(n) for n in allowed_extras(descriptor.full_name)}
    if key is str:
        extras |= PY_ENTRY_EXTRAS.get(descriptor.full_name, frozenset())
    assert sorted(set(sdk) - names - extras) == [], f"{where}: fields the proto does not have"
    for field in descriptor.fields:
        here = f"{where}.{field.name}"
        assert key(field.name) in sdk, f"{here}: dropped by the SDK"
        got: Any = sdk[key(field.name)]
        sent: Any = raw.get(field.name)
        if field.type != FieldDescriptor.TYPE_MESSAGE or message_type(field).full_name.startswith("google."):
            assert got == sent, here
        elif is_map(field):
            if message_type(field).fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                assert [set(v) for v in got.values()] == [{key(k) for k in v} for v in sent.values()], here
            else:
                assert got == sent, here
        elif field.is_repeated:
            assert len(got) == len(sent), here
            for index, (one, other) in enumerate(zip(got, sent, strict=True)):
                compare(message_type(field), one, other, key, f"{here}[{index}]")
        elif sent is None:
            assert got is None, here
        else:
            compare(message_type(field), got, sent, key, here)


def _descriptor(name: str) -> Descriptor:
    return next(d for d in reachable() if d.name == name)


async def test_the_python_sdk_keeps_every_field_of_every_answer(http: httpx.AsyncClient) -> None:
    answers: dict[str, Any] = {}
    async with AsyncAIHub(base_url=str(http.base_url)) as client:
        answers["RegisterResponse"] = await client.auth.register("contract@example.com", "a-long-password")
        answers["LoginResponse"] = await client.auth.login("contract@example.com", "a-long-password")
        admin = client.with_token(answers["RegisterResponse"].token)
        # A budget and an expiry, so the key's and the quota's budget fields are read live too.
        created = answers["CreateApiKeyResponse"] = await admin.api_keys.create(
            "py", requests_per_minute=10, expires_at="2099-01-01T00:00:00Z", budget=py.KeyBudget(5.0, "day")
        )
        app = client.with_api_key(created.key)
        answers["ChatResponse"] = await app.chat.create("Hello, world!", model="grok-beta", max_tokens=50)
        answers["ListModelsResponse"] = await app.models.list()
        answers["ListServicesResponse"] = await app.services.list()
        answers["GetUsageResponse"] = await app.usage.get(start_date="2025-09-01", end_date="2025-09-30")
        answers["GetQuotaResponse"] = await app.quota.get()
        answers["ListUsageLogsResponse"] = await app.usage.logs(page_size=1)
        answers["GetUsageBreakdownResponse"] = breakdown = await app.usage.breakdown("day")
        assert breakdown.by_model and breakdown.by_key  # the chat above, read live
        await app.chat.create("Hello again")  # the key's last_used is set now
        answers["ListApiKeysResponse"] = await admin.api_keys.list()
        answers["RotateApiKeyResponse"] = await admin.api_keys.rotate(created.id, grace_seconds=60)
        answers["DeleteApiKeyResponse"] = await admin.api_keys.delete(created.id)
        made = answers["CreateAlertResponse"] = await admin.alerts.create(
            "requests", threshold=0.5, of="quota"
        )
        await admin.alerts.create("tokens", value=1)  # crossed already: it fires (last_fired_at set)
        answers["ListAlertsResponse"] = await admin.alerts.list()
        answers["DeleteAlertResponse"] = await admin.alerts.delete(made.alert.id)
        answers["LogoutResponse"] = await admin.auth.logout()
    for name, answer in answers.items():
        compare(_descriptor(name), _plain(answer), dict(answer.raw), str, name)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
async def test_the_js_sdk_keeps_every_field_of_every_answer(http: httpx.AsyncClient) -> None:
    node = shutil.which("node")
    assert node is not None
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(
        node, str(JS_SCRIPT), str(http.base_url), stdout=pipe, stderr=pipe
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    seen = json.loads(out)
    assert len(seen) == 17
    for name, answer in seen.items():
        compare(_descriptor(name), answer["sdk"], answer["raw"], camel, name)
