import grpc
import pytest
from google.rpc import error_details_pb2

from aihub_core.errors import (
    CODES,
    AIHubError,
    AuthenticationError,
    InvalidRequestError,
    RateLimitError,
    UpstreamAuthError,
    all_error_classes,
)
from aihub_core.grpc_api.errors import to_rpc_status


def test_every_error_class_has_a_unique_reason() -> None:
    classes = all_error_classes()
    reasons = {cls.default_code.upper() for cls in classes}
    assert len(reasons) == len(classes)
    assert AuthenticationError("x", code="token_expired").reason == "TOKEN_EXPIRED"


def test_every_default_code_is_in_the_contract_with_its_class_type_and_status() -> None:
    for cls in all_error_classes():
        assert CODES[cls.default_code] == (cls.error_type, cls.http_status), cls.__name__


def test_a_code_the_contract_does_not_list_is_refused() -> None:
    with pytest.raises(ValueError, match="'made_up': it is not in the contract"):
        InvalidRequestError("x", code="made_up")


def test_a_code_of_another_type_and_status_is_refused() -> None:
    with pytest.raises(ValueError, match="'token_expired': the contract lists it as 401 authentication"):
        AIHubError("x", code="token_expired")
    with pytest.raises(ValueError, match="429 rate_limit_error"):
        InvalidRequestError("x", code="tokens_rate_limit_exceeded")


def test_the_grpc_code_follows_from_the_http_status() -> None:
    grpc_by_status: dict[int, set[grpc.StatusCode]] = {}
    for cls in all_error_classes():
        grpc_by_status.setdefault(cls.http_status, set()).add(cls.grpc_code)
    assert all(len(codes) == 1 for codes in grpc_by_status.values()), grpc_by_status


def test_spec_error_types_cover_the_spec_table() -> None:
    by_status = {cls.http_status: cls.error_type for cls in all_error_classes()}
    assert {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        429: "rate_limit_error",
        500: "api_error",
    }.items() <= by_status.items()


def test_upstream_auth_failure_is_our_500_not_the_users_401() -> None:
    err = UpstreamAuthError("provider rejected the gateway's key")
    assert (err.http_status, err.error_type, err.grpc_code) == (500, "api_error", grpc.StatusCode.INTERNAL)


def test_rich_status_carries_everything_the_shim_needs() -> None:
    err = RateLimitError("slow down", retry_after=2.2, param="Authorization")
    status = to_rpc_status(err, "req_1")
    info = error_details_pb2.ErrorInfo()
    retry = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(retry)
    assert info.reason == "RATE_LIMIT_EXCEEDED" and info.domain == "aihub.dev"
    assert dict(info.metadata) == {
        "type": "rate_limit_error",
        "code": "rate_limit_exceeded",
        "http_status": "429",
        "request_id": "req_1",
        "parameter": "Authorization",
    }
    assert retry.retry_delay.seconds == 3
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert isinstance(err, AIHubError)
