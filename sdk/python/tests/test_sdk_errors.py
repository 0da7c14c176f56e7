"""Every non-2xx answer becomes the most specific AIHubError, carrying what the gateway said."""

from __future__ import annotations

import email.utils
from collections.abc import Callable

import httpx
import pytest
from ai_hub_fakes import FakeGateway, error_reply

from ai_hub import (
    AIHub,
    AIHubError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from ai_hub._exceptions import make_error, parse_retry_after


@pytest.mark.parametrize(
    ("status", "error_type", "code", "cls"),
    [
        (400, "invalid_request_error", "invalid_parameter", InvalidRequestError),
        (404, "invalid_request_error", "not_found", NotFoundError),
        (409, "invalid_request_error", "already_exists", ConflictError),
        (401, "authentication_error", "invalid_api_key", AuthenticationError),
        (403, "permission_error", "insufficient_permissions", PermissionDeniedError),
        (429, "rate_limit_error", "quota_exceeded", RateLimitError),
        (500, "api_error", "internal_error", APIError),
        (502, "api_error", "upstream_error", APIError),
    ],
)
def test_status_errors_map_to_classes(
    make_client: Callable[..., AIHub],
    gateway: FakeGateway,
    status: int,
    error_type: str,
    code: str,
    cls: type[AIHubError],
) -> None:
    gateway.queue(error_reply(status, error_type, code, "Invalid API key provided"))

    with pytest.raises(cls) as caught:
        make_client(max_retries=0).models.list()

    error = caught.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.type == error_type
    assert error.code == code
    assert error.message == "Invalid API key provided"
    assert error.details == {"parameter": "x"}
    assert error.request_id == "req_err"
    assert str(error) == f"[{status} {error_type}/{code}] Invalid API key provided (request_id: req_err)"


def test_rate_limit_error_carries_retry_after(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(error_reply(429, "rate_limit_error", "rate_limit_exceeded", headers={"retry-after": "75"}))
    with pytest.raises(RateLimitError) as caught:
        client.quota.get()
    assert caught.value.retry_after == 75.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, InvalidRequestError),
        (429, RateLimitError),
        (503, APIError),
    ],
)
def test_bodies_without_the_error_shape_map_by_status(status: int, cls: type[AIHubError]) -> None:
    error = make_error(status, None, request_id="req_x", fallback_message="Bad Gateway")
    assert type(error) is cls
    assert (error.status_code, error.type, error.code, error.message) == (status, None, None, "Bad Gateway")


def test_a_non_json_error_answer_keeps_its_text(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(httpx.Response(404, text="no such route", headers={"x-request-id": "req_404"}))
    with pytest.raises(NotFoundError) as caught:
        client.quota.get()
    assert caught.value.message == "no such route"
    assert caught.value.request_id == "req_404"


def test_the_body_request_id_is_used_when_the_header_is_missing() -> None:
    payload = {"error": {"type": "api_error", "code": "x", "message": "m"}, "request_id": "req_body"}
    assert make_error(500, payload).request_id == "req_body"


def test_an_unknown_error_type_falls_back_to_the_status() -> None:
    error = make_error(403, {"error": {"type": "brand_new_error", "message": "m"}})
    assert type(error) is PermissionDeniedError
    assert error.type == "brand_new_error"


def test_stream_error_events_have_no_status() -> None:
    error = make_error(
        None, {"type": "error", "error": {"type": "api_error", "code": "upstream_error", "message": "m"}}
    )
    assert type(error) is APIError
    assert error.status_code is None
    assert str(error) == "[api_error/upstream_error] m"


def test_connection_failures(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(*[httpx.ConnectError("refused")] * 3, *[httpx.ReadTimeout("slow")] * 3)
    with pytest.raises(APIConnectionError) as refused:
        client.quota.get()
    with pytest.raises(APITimeoutError) as slow:
        client.quota.get()
    assert isinstance(refused.value.__cause__, httpx.ConnectError)
    assert isinstance(slow.value.__cause__, httpx.ReadTimeout)
    assert refused.value.status_code is None


def test_every_error_is_an_aihub_error() -> None:
    for cls in (
        InvalidRequestError,
        NotFoundError,
        ConflictError,
        AuthenticationError,
        PermissionDeniedError,
        RateLimitError,
        APIError,
        APIConnectionError,
        APITimeoutError,
    ):
        assert issubclass(cls, AIHubError)
    assert issubclass(NotFoundError, InvalidRequestError)
    assert issubclass(APITimeoutError, APIConnectionError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("soon", None),
        (email.utils.formatdate(1_000_030, usegmt=True), 30.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=1_000_000) == expected
