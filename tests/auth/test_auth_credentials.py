"""The refusal of each kind of wrong credential says what it got and what to send instead."""

from __future__ import annotations

import pytest

from aihub_core.auth import credentials
from aihub_core.auth.api_keys import generate_api_key
from aihub_core.auth.tokens import TokenIssuer

JWT = TokenIssuer("s" * 32, 60).issue("user_1").token
KEY = generate_api_key().key


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("ai-hub-xxx-xxx-xxx", "documentation's placeholder"),
        ("ai-hub-short", "Malformed API key"),
        ("sk-123", "'sk-...' is a provider's key format"),
        ("hello", "Not an AI Hub API key"),
        (JWT, "not a login token"),
    ],
    ids=["placeholder", "short", "provider-key", "word", "login-token"],
)
def test_an_api_key_endpoint_names_what_it_got(value: str, says: str) -> None:
    error = credentials.not_an_api_key(value)
    assert says in error.message
    assert error.code == "invalid_api_key"
    assert error.details["parameter"] == "Authorization"
    assert "POST /v1/developer/api-keys" in error.details["suggestion"]
    assert value not in error.message  # a credential is never echoed


def test_only_a_jwt_is_called_a_login_token() -> None:
    for value in ("ai-hub-xxx-xxx-xxx", "sk-123", "a.b.c"):
        assert "login token" not in credentials.not_an_api_key(value).message


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (KEY, "not an API key"),
        ("ai-hub-xxx-xxx-xxx", "not an API key"),
        (JWT[:-4] + "AAAA", "did not sign it"),
        ("sk-123", "Not a login token"),
    ],
    ids=["api-key", "placeholder", "bad-signature", "provider-key"],
)
def test_a_token_endpoint_names_what_it_got(value: str, says: str) -> None:
    error = credentials.not_a_token(value)
    assert says in error.message and error.code == "invalid_token"
    assert error.details == {"parameter": "Authorization", "suggestion": credentials.LOG_IN}


def test_missing_and_malformed_headers_say_which_credential_the_endpoint_takes() -> None:
    assert "ai-hub-" in credentials.missing("api_key").message
    assert "login" in credentials.missing("jwt").message
    assert "POST /v1/auth/login" in credentials.missing("jwt").details["suggestion"]
    assert "API key" in credentials.not_bearer("api_key").message
    assert "login token" in credentials.not_bearer("jwt").message


def test_jwt_shape() -> None:
    assert credentials.looks_like_jwt(JWT)
    assert not credentials.looks_like_jwt(KEY)
    assert not credentials.looks_like_jwt("a.b.c")
