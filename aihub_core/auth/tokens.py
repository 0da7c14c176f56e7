"""Access tokens: HS256 JWTs that name a user, issued by register/login to manage API keys."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from aihub_core.auth import credentials
from aihub_core.errors import AuthenticationError, InvalidRequestError

ISSUER = "aihub"
TOKEN_TYPE = "access"
ALGORITHM = "HS256"
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
# Replicas' clocks disagree a little; a token "issued" slightly in the future is still fine.
_CLOCK_SKEW_SECONDS = 60
_REQUIRED_CLAIMS = ["iss", "sub", "exp", "iat", "jti", "typ"]


@dataclass(frozen=True)
class AccessToken:
    """A signed access token and what it says."""

    token: str
    user_id: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class TokenIssuer:
    """Issues and verifies access tokens with one secret; `clock` is injectable for tests."""

    def __init__(self, secret: str, ttl_seconds: int, clock: Callable[[], datetime] = utc_now) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise InvalidRequestError(
                f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes for {ALGORITHM}",
                param="AIHUB_JWT_SECRET",
                suggestion="generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        self._secret = secret
        self._ttl_seconds = ttl_seconds
        self._clock = clock

    def issue(self, user_id: str) -> AccessToken:
        """A new access token for the user, valid for the issuer's TTL."""
        # JWT times are whole seconds (NumericDate); the record says exactly what the token says.
        issued = int(self._clock().timestamp())
        expires = issued + self._ttl_seconds
        token_id = secrets.token_urlsafe(16)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": user_id,
            "iat": issued,
            "exp": expires,
            "jti": token_id,
            "typ": TOKEN_TYPE,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return AccessToken(token, user_id, token_id, _from_epoch(issued), _from_epoch(expires))

    def verify(self, token: str) -> AccessToken:
        """The token's content; AuthenticationError `invalid_token` or `token_expired` otherwise."""
        try:
            # Times are checked below against the injected clock, not PyJWT's wall clock.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise _invalid(token) from None
        user_id, token_id = claims["sub"], claims["jti"]
        issued, expires = claims["iat"], claims["exp"]
        if claims["typ"] != TOKEN_TYPE or not _is_text(user_id) or not _is_text(token_id):
            raise _invalid(token)
        if not _is_int(issued) or not _is_int(expires):
            raise _invalid(token)
        now = self._clock().timestamp()
        if issued > now + _CLOCK_SKEW_SECONDS:
            raise _invalid(token)
        if now >= expires:
            raise credentials.token_expired()
        try:
            return AccessToken(token, user_id, token_id, _from_epoch(issued), _from_epoch(expires))
        except (OverflowError, OSError, ValueError):  # a time no datetime holds (exp = 10**20)
            raise _invalid(token) from None


def _invalid(token: str) -> AuthenticationError:
    return credentials.not_a_token(token)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
