"""Access tokens: round trip, expiry on an injected clock, tampering."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from aihub_core.auth.tokens import TokenIssuer
from aihub_core.errors import AuthenticationError, InvalidRequestError

SECRET = "s" * 32
NOW = datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def code_of(issuer: TokenIssuer, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        issuer.verify(token)
    return caught.value.code


def test_round_trip_and_claims() -> None:
    issuer = TokenIssuer(SECRET, ttl_seconds=3600, clock=Clock(NOW))
    issued = issuer.issue("usr_1")
    assert issued.expires_at == NOW + timedelta(hours=1)
    assert issued.issued_at == NOW
    verified = issuer.verify(issued.token)
    assert verified == issued
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert claims == {
        "iss": "aihub",
        "sub": "usr_1",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
        "jti": issued.token_id,
        "typ": "access",
    }
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"
    assert issuer.issue("usr_1").token_id != issued.token_id


def test_expiry_follows_the_injected_clock() -> None:
    clock = Clock(NOW)
    issuer = TokenIssuer(SECRET, ttl_seconds=60, clock=clock)
    token = issuer.issue("usr_1").token
    clock.now = NOW + timedelta(seconds=59)
    assert issuer.verify(token).user_id == "usr_1"
    clock.now = NOW + timedelta(seconds=60)
    assert code_of(issuer, token) == "token_expired"
    clock.now = NOW - timedelta(hours=1)  # issued "in the future" for this clock
    assert code_of(issuer, token) == "invalid_token"


def test_tampering_and_foreign_tokens_are_invalid() -> None:
    issuer = TokenIssuer(SECRET, ttl_seconds=60, clock=Clock(NOW))
    token = issuer.issue("usr_1").token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "usr_admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert code_of(issuer, f"{header}.{forged}.{signature}") == "invalid_token"
    assert code_of(issuer, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == "invalid_token"
    assert code_of(TokenIssuer("t" * 32, 60, clock=Clock(NOW)), token) == "invalid_token"
    assert code_of(issuer, "not.a.jwt") == "invalid_token"
    assert code_of(issuer, "ai-hub-" + "a" * 43) == "invalid_token"
    unsigned = jwt.encode(claims | {"sub": "usr_1"}, key=None, algorithm="none")
    assert code_of(issuer, unsigned) == "invalid_token"


@pytest.mark.parametrize(
    "change",
    [
        {"typ": "refresh"},
        {"iss": "someone-else"},
        {"sub": ""},
        {"jti": None},
        {"exp": "soon"},
        {"exp": 10**20},  # past what a datetime (or time_t) holds
        {"exp": 2**63},
        {"exp": 10**13},  # the year 318857
        {"iat": -(10**20)},
    ],
)
def test_well_signed_but_wrong_claims_are_invalid(change: dict[str, object]) -> None:
    issuer = TokenIssuer(SECRET, ttl_seconds=60, clock=Clock(NOW))
    claims = jwt.decode(issuer.issue("usr_1").token, options={"verify_signature": False})
    assert code_of(issuer, jwt.encode(claims | change, SECRET, algorithm="HS256")) == "invalid_token"


def test_short_secrets_and_bad_ttls_are_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        TokenIssuer("short", ttl_seconds=60)
    assert caught.value.details["parameter"] == "AIHUB_JWT_SECRET"
    with pytest.raises(ValueError):
        TokenIssuer(SECRET, ttl_seconds=0)
