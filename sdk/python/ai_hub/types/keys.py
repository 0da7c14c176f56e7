"""API keys, and what a login token says of itself."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._common import raw_field
from .quota import KeyBudget, RateLimitPolicy


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed; `key` (the secret) is None except in a CreatedApiKey."""

    id: str
    name: str
    created_at: str | None = None
    permissions: tuple[str, ...] = ()
    last_used: str | None = None
    rate_limit: RateLimitPolicy | None = None
    prefix: str | None = None
    expires_at: str | None = None
    rotated_at: str | None = None
    budget: KeyBudget | None = None
    key: str | None = field(default=None, repr=False)
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class CreatedApiKey(ApiKey):
    """The answer of `api_keys.create`: an ApiKey whose `key` (the secret) is set, shown this once."""

    key: str = field(default="", repr=False)


@dataclass(frozen=True)
class RotatedApiKey(CreatedApiKey):
    """The answer of `api_keys.rotate`: the same key with a new secret in `key`, shown this once;
    the old secret works until `previous_key_expires_at`."""

    previous_key_expires_at: str | None = None


@dataclass(frozen=True)
class ApiKeyList:
    """The answer of `GET /v1/developer/api-keys`; iterating it yields the keys."""

    api_keys: tuple[ApiKey, ...]
    total_count: int
    next_page_token: str = ""
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()

    def __iter__(self) -> Iterator[ApiKey]:
        return iter(self.api_keys)

    def __len__(self) -> int:
        return len(self.api_keys)


@dataclass(frozen=True)
class DeletedApiKey:
    """The answer of `DELETE /v1/developer/api-keys/{key_id}`."""

    id: str
    deleted: bool
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class TokenInfo:
    """The answer of register and login: a JWT for managing API keys."""

    user_id: str
    email: str
    token: str = field(repr=False)
    expires_at: str | None = None
    # `user`, or `admin` (an operator of the gateway).
    role: str = "user"
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class LoggedOut:
    """The answer of logout: the login token is refused from now on (401 `token_revoked`)."""

    user_id: str
    # When the token would have expired: until then the gateway remembers the log-out.
    expires_at: str | None = None
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()
