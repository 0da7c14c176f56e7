"""What a refused bearer credential was, and what to send instead.

Every endpoint takes one kind of credential: an API key (`ai-hub-...`) or the login token (a JWT
from register/login) that manages keys. A refusal names the kind it got, as far as its shape
tells, and the kind the endpoint takes, so that a user who pasted the documentation's placeholder
key, a provider's `sk-...` key or the wrong one of their two credentials learns which.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from aihub_core.auth.api_keys import KEY_BODY_LENGTH, KEY_PREFIX, looks_like_api_key
from aihub_core.errors import AuthenticationError

Expected = Literal["api_key", "jwt"]

HEADER = "Authorization"
CREATE_KEY = (
    "Create an API key with POST /v1/developer/api-keys (sent with your login token) and send its `key`"
)
LOG_IN = "Log in with POST /v1/auth/login and send its `token` as 'Authorization: Bearer <token>'"
# The documentation's own example key, which new users paste as it is.
_PLACEHOLDER = re.compile(r"x{3}", re.IGNORECASE)
# A compact JWS: three base64url parts; a JSON header always starts `{"` and so `eyJ`.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def looks_like_jwt(value: str) -> bool:
    """Whether a bearer credential has the shape of a JWT (and so may be a login token)."""
    return _JWT.fullmatch(value) is not None


def missing(expected: Expected) -> AuthenticationError:
    """No credential at all."""
    if expected == "jwt":
        message = "No login token: send 'Authorization: Bearer <token>' with the JWT that login returns"
        suggestion = LOG_IN
    else:
        message = "No API key: send 'Authorization: Bearer ai-hub-...'"
        suggestion = CREATE_KEY
    return _refusal(message, "missing_api_key", suggestion)


def not_bearer(expected: Expected) -> AuthenticationError:
    """A header that is not `Bearer <credential>` (another scheme, or the credential alone)."""
    what = "a login token" if expected == "jwt" else "an API key (ai-hub-...)"
    return _refusal(
        f"The Authorization header must be 'Bearer ' followed by {what}",
        "invalid_authorization_header",
        LOG_IN if expected == "jwt" else CREATE_KEY,
    )


def not_an_api_key(value: str) -> AuthenticationError:
    """An endpoint that takes an API key got something that cannot be one."""
    if looks_like_jwt(value):
        message = "This endpoint takes an API key (ai-hub-...), not a login token"
        suggestion = "Create a key with POST /v1/developer/api-keys, sent with this token, and send the key"
    elif value.startswith(KEY_PREFIX):
        body = value[len(KEY_PREFIX) :]
        message = (
            f"Malformed API key: an AI Hub key is '{KEY_PREFIX}' followed by {KEY_BODY_LENGTH} letters and "
            f"digits, and this one has {len(body)} characters after '{KEY_PREFIX}'"
        )
        if _PLACEHOLDER.search(body):
            message += " (it is the documentation's placeholder, not a key)"
        suggestion = CREATE_KEY
    else:
        message = f"Not an AI Hub API key: AI Hub keys start with '{KEY_PREFIX}'"
        if value.startswith("sk-"):
            message += " ('sk-...' is a provider's key format; the gateway holds the provider keys itself)"
        suggestion = CREATE_KEY
    return _refusal(message, "invalid_api_key", suggestion)


def unknown_api_key() -> AuthenticationError:
    """A well-formed key that no live key matches."""
    return _refusal(
        "Unknown API key: no live key of this gateway matches it (deleted, or never existed here)",
        "invalid_api_key",
        "See your keys with GET /v1/developer/api-keys; create one with POST to the same path",
    )


def api_key_expired(at: datetime, rotated: bool) -> AuthenticationError:
    """A key past its `expires_at`, or a secret rotated out whose grace has ended."""
    when = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if rotated:
        message = f"This API key was rotated: its old secret stopped working at {when}; send the new one"
        suggestion = (
            "Use the secret the rotation returned, or rotate the key again with "
            "POST /v1/developer/api-keys/{key_id}/rotate"
        )
    else:
        message = f"This API key expired at {when}"
        suggestion = CREATE_KEY
    return _refusal(message, "api_key_expired", suggestion)


def not_a_token(value: str) -> AuthenticationError:
    """An endpoint that takes the login token got something that is not one of ours."""
    if looks_like_api_key(value) or value.startswith(KEY_PREFIX):
        message = "This endpoint takes the login token from POST /v1/auth/login, not an API key"
    elif looks_like_jwt(value):
        message = "The login token is not valid: this gateway did not sign it, or it was altered"
    else:
        message = "Not a login token: this endpoint takes the JWT that POST /v1/auth/login returns"
    return _refusal(message, "invalid_token", LOG_IN)


def token_expired() -> AuthenticationError:
    """A login token past its expiry."""
    return _refusal("The login token has expired: log in again", "token_expired", LOG_IN)


def token_revoked() -> AuthenticationError:
    """A login token ended by a log-out."""
    return _refusal("This login token was ended by a log-out: log in again", "token_revoked", LOG_IN)


def account_gone() -> AuthenticationError:
    """A valid login token whose account was deleted."""
    return _refusal(
        "The account of this login token no longer exists",
        "invalid_token",
        "Register again with POST /v1/auth/register",
    )


def _refusal(message: str, code: str, suggestion: str) -> AuthenticationError:
    return AuthenticationError(message, code=code, param=HEADER, suggestion=suggestion)
