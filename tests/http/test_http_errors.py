"""Every error answer has the spec's shape: the core's rich statuses, fallbacks, and the shim's own."""

from __future__ import annotations

import socket
from typing import Any

import grpc
import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aihub_http import ROUTES, RpcRoute, create_app
from aihub_http.routes import CHAT_BODY_BYTES
from tests.http.fakes import FakeCore, rich_status, serve_http


def assert_error(
    response: httpx.Response, status: int, error_type: str, code: str, details: dict[str, str]
) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["type"] == error_type
    assert body["error"]["code"] == code
    assert body["error"]["details"] == details
    assert isinstance(body["error"]["message"], str)
    assert body["request_id"] == response.headers["x-request-id"]
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"type", "code", "message", "details"}


def assert_openai_error(
    response: httpx.Response, status: int, error_type: str, code: str, param: str | None
) -> None:
    """The same error in OpenAI's shape, as the OpenAI-compatible routes answer."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"} and body["request_id"] == response.headers["x-request-id"]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert (body["error"]["type"], body["error"]["code"], body["error"]["param"]) == (error_type, code, param)
    assert isinstance(body["error"]["message"], str)


@pytest.mark.parametrize(
    ("grpc_code", "http_status", "error_type", "code", "extra"),
    [
        (
            grpc.StatusCode.UNAUTHENTICATED,
            401,
            "authentication_error",
            "invalid_api_key",
            {"parameter": "Authorization", "suggestion": "Check your API key format"},
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            400,
            "invalid_request_error",
            "invalid_parameter",
            {"parameter": "model"},
        ),
        (grpc.StatusCode.NOT_FOUND, 404, "invalid_request_error", "model_not_found", {}),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "permission_error", "insufficient_permissions", {}),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "rate_limit_error", "quota_exceeded", {}),
        (grpc.StatusCode.UNAVAILABLE, 502, "api_error", "upstream_error", {}),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "api_error", "upstream_timeout", {}),
        (grpc.StatusCode.INTERNAL, 500, "api_error", "upstream_auth_failed", {}),
    ],
)
async def test_error_info_decides_status_type_code_and_details(
    api: httpx.AsyncClient,
    fake: FakeCore,
    grpc_code: grpc.StatusCode,
    http_status: int,
    error_type: str,
    code: str,
    extra: dict[str, str],
) -> None:
    status = rich_status(
        grpc_code,
        "The core says so",
        error_type=error_type,
        error_code=code,
        http_status=http_status,
        details=extra,
    )
    fake.fail("Chat", status)
    response = await api.post("/v1/developer/chat", json={"message": "hi"})
    assert_error(response, http_status, error_type, code, extra)
    assert response.json()["error"]["message"] == "The core says so"
    assert "retry-after" not in response.headers


async def test_request_id_in_error_info_is_not_repeated_in_details(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    details = {"request_id": "req_000000000000000000000000", "parameter": "model"}
    status = rich_status(
        grpc.StatusCode.NOT_FOUND,
        "Unknown model",
        error_type="invalid_request_error",
        error_code="model_not_found",
        http_status=404,
        details=details,
    )
    fake.fail("Chat", status)
    response = await api.post("/v1/developer/chat", json={"message": "hi"})
    assert_error(response, 404, "invalid_request_error", "model_not_found", {"parameter": "model"})


@pytest.mark.parametrize(
    ("grpc_code", "http_status", "error_type", "code"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400, "invalid_request_error", "invalid_parameter"),
        (grpc.StatusCode.UNAUTHENTICATED, 401, "authentication_error", "invalid_api_key"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "permission_error", "insufficient_permissions"),
        (grpc.StatusCode.NOT_FOUND, 404, "invalid_request_error", "not_found"),
        (grpc.StatusCode.ALREADY_EXISTS, 409, "invalid_request_error", "already_exists"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "rate_limit_error", "rate_limit_exceeded"),
        (grpc.StatusCode.UNAVAILABLE, 503, "api_error", "service_unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "api_error", "timeout"),
        (grpc.StatusCode.INTERNAL, 500, "api_error", "internal_error"),
        (grpc.StatusCode.UNKNOWN, 500, "api_error", "internal_error"),
        (grpc.StatusCode.FAILED_PRECONDITION, 500, "api_error", "internal_error"),
        (grpc.StatusCode.UNIMPLEMENTED, 500, "api_error", "internal_error"),
    ],
)
async def test_status_without_error_info_falls_back_by_grpc_code(
    api: httpx.AsyncClient,
    fake: FakeCore,
    grpc_code: grpc.StatusCode,
    http_status: int,
    error_type: str,
    code: str,
) -> None:
    async def plain_abort(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc_code, "ValueError: secret internal detail at 10.0.0.7")

    fake.handlers["GetQuota"] = plain_abort
    response = await api.get("/v1/developer/quota")
    assert_error(response, http_status, error_type, code, {})
    message = response.json()["error"]["message"]
    # 4xx messages are the core's words; 5xx without ErrorInfo never leak internals.
    assert ("10.0.0.7" in message) == (http_status < 500)


async def test_unreachable_core_is_503_service_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    app = create_app(f"127.0.0.1:{closed_port}", registry=CollectorRegistry())
    async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/developer/models")
    assert_error(response, 503, "api_error", "service_unavailable", {})


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        (b"{not json", "invalid_json", None),
        (b"[1, 2]", "invalid_json", None),
        (b'"text"', "invalid_json", None),
        (b'{"message": NaN}', "invalid_json", None),
        (b'{"message": "\xff"}', "invalid_json", None),
        (b"[" * 100_000, "invalid_json", None),
        (b'{"message": {"a": ' * 5_000, "invalid_json", None),
        (b'{"message": "hi", "foo": 1}', "unknown_parameter", "foo"),
        (b'{"message": "hi", "maxTokens": 1}', "unknown_parameter", "maxTokens"),
        (b'{"message": "hi", "context": {"system": "x"}}', "unknown_parameter", "context.system"),
        (b'{"message": 5}', "invalid_parameter", "message"),
        (b'{"message": "hi", "max_tokens": "100"}', "invalid_parameter", "max_tokens"),
        (b'{"message": "hi", "max_tokens": 1.5}', "invalid_parameter", "max_tokens"),
        (b'{"message": "hi", "max_tokens": true}', "invalid_parameter", "max_tokens"),
        (b'{"message": "hi", "max_tokens": 2147483648}', "invalid_parameter", "max_tokens"),
        (b'{"message": "hi", "temperature": "hot"}', "invalid_parameter", "temperature"),
        (b'{"message": "hi", "context": "be nice"}', "invalid_parameter", "context"),
        (b'{"message": "hi", "context": {"system_prompt": 5}}', "invalid_parameter", "context.system_prompt"),
        (b'{"message": "hi", "images": "abc"}', "invalid_parameter", "images"),
        (b'{"message": "hi", "images": ["abc", 3]}', "invalid_parameter", "images[1]"),
        (b'{"message": "hi", "stream": "yes"}', "invalid_parameter", "stream"),
        (b'{"message": "\\ud800"}', "invalid_parameter", "message"),
        (b'{"message": "hi", "temperature": 1' + b"0" * 400 + b"}", "invalid_parameter", "temperature"),
        (b'{"message": "hi", "temperature": 1e999}', "invalid_parameter", "temperature"),
    ],
)
async def test_bad_chat_bodies_are_400s_naming_the_field(
    api: httpx.AsyncClient, fake: FakeCore, body: bytes, code: str, parameter: str | None
) -> None:
    response = await api.post(
        "/v1/developer/chat", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(
        response, 400, "invalid_request_error", code, {} if parameter is None else {"parameter": parameter}
    )
    assert fake.calls == []


@pytest.mark.parametrize("route", [r for r in ROUTES if r.reads_body], ids=lambda r: r.path)
@pytest.mark.parametrize("opener", [b'{"a": ', b"["], ids=["objects", "arrays"])
async def test_json_nested_a_thousand_deep_is_a_400_on_every_route_that_reads_a_body(
    api: httpx.AsyncClient, fake: FakeCore, route: RpcRoute, opener: bytes
) -> None:
    body = opener * 1000 + b"1" + (b"}" if opener.startswith(b"{") else b"]") * 1000
    response = await api.post(route.path, content=body, headers={"Content-Type": "application/json"})
    if route.wire == "openai":
        assert_openai_error(response, 400, "invalid_request_error", "invalid_json", None)
    else:
        assert_error(response, 400, "invalid_request_error", "invalid_json", {})
    assert fake.calls == []


async def test_rate_limit_must_be_an_object_with_an_integer(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.post(
        "/v1/developer/api-keys", json={"name": "k", "rate_limit": {"requests_per_minute": "30"}}
    )
    assert_error(
        response,
        400,
        "invalid_request_error",
        "invalid_parameter",
        {"parameter": "rate_limit.requests_per_minute"},
    )
    assert fake.calls == []


@pytest.mark.parametrize(
    ("query", "code", "parameter"),
    [
        ("page_size=abc", "invalid_parameter", "page_size"),
        ("page_size=99999999999", "invalid_parameter", "page_size"),
        ("foo=1", "unknown_parameter", "foo"),
    ],
)
async def test_bad_query_parameters_are_400s(
    api: httpx.AsyncClient, fake: FakeCore, query: str, code: str, parameter: str
) -> None:
    response = await api.get(f"/v1/developer/models?{query}")
    assert_error(response, 400, "invalid_request_error", code, {"parameter": parameter})
    assert fake.calls == []


async def test_a_path_parameter_cannot_be_overridden_from_the_query(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    response = await api.delete("/v1/developer/api-keys/key_1?key_id=key_2")
    assert_error(response, 400, "invalid_request_error", "unknown_parameter", {"parameter": "key_id"})


async def test_unknown_path_is_a_spec_shaped_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/developer/nothing-here")
    assert_error(response, 404, "invalid_request_error", "not_found", {})


async def test_wrong_method_is_a_spec_shaped_405_listing_allowed_methods(api: httpx.AsyncClient) -> None:
    response = await api.put("/v1/developer/api-keys")
    assert_error(response, 405, "invalid_request_error", "method_not_allowed", {})
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_oversized_body_is_413_without_calling_the_core(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.post("/v1/developer/chat", content=b"x" * (CHAT_BODY_BYTES + 1))
    assert_error(response, 413, "invalid_request_error", "request_too_large", {})
    assert fake.calls == []


async def test_an_unexpected_exception_is_a_spec_shaped_500_with_a_request_id(fake: FakeCore) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("bug")

    app = create_app(f"127.0.0.1:{fake.port}", registry=CollectorRegistry())
    app.router.routes.append(Route("/boom", boom))
    async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/boom")
    assert_error(response, 500, "api_error", "internal_error", {})
    assert "bug" not in response.text
