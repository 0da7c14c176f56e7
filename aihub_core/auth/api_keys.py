"""API keys: `ai-hub-` and 43 base62 characters (256 random bits), stored only as a hash.

A key is shown once, at creation; the store keeps its SHA-256 and a short prefix for display.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from aihub_core.errors import InvalidRequestError

KEY_PREFIX = "ai-hub-"
PERMISSIONS = ("chat", "models", "usage")
DISPLAY_PREFIX_LENGTH = 12

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_BYTES = 32
# 62**43 > 2**256, so 43 characters hold every 32-byte value; padding keeps every key one length.
KEY_BODY_LENGTH = 43
_KEY_PATTERN = re.compile(rf"{re.escape(KEY_PREFIX)}[0-9A-Za-z]{{{KEY_BODY_LENGTH}}}")


@dataclass(frozen=True)
class NewApiKey:
    """A freshly generated key: the secret to show once, and what the store keeps."""

    key: str
    key_hash: str
    prefix: str


def generate_api_key() -> NewApiKey:
    """A new random key with its hash and display prefix."""
    key = KEY_PREFIX + _base62(secrets.token_bytes(_RANDOM_BYTES))
    return NewApiKey(key=key, key_hash=hash_api_key(key), prefix=display_prefix(key))


def hash_api_key(key: str) -> str:
    """The stored form of a key: hex SHA-256.

    A fast hash is right here, unlike for passwords: the key holds 256 random bits, so no
    amount of guessing inverts the hash, and authenticating every request stays cheap. No
    server-side pepper either, so rotating the JWT secret never invalidates keys.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters of a key, enough for its owner to recognise it in a list."""
    return key[:DISPLAY_PREFIX_LENGTH]


def looks_like_api_key(value: str) -> bool:
    """Whether a bearer credential has the shape of an API key (and so is not a JWT)."""
    return _KEY_PATTERN.fullmatch(value) is not None


def new_key_id() -> str:
    """A public key id: `key_` and 24 hex digits."""
    return "key_" + secrets.token_hex(12)


def validate_permissions(requested: Iterable[str] | None) -> tuple[str, ...]:
    """The permissions to grant, in canonical order; all of them when none are named."""
    if requested is None:
        return PERMISSIONS
    wanted = list(requested)
    unknown = sorted({p for p in wanted if p not in PERMISSIONS})
    if unknown:
        raise InvalidRequestError(
            f"unknown permission(s): {', '.join(unknown)}; allowed: {', '.join(PERMISSIONS)}",
            param="permissions",
        )
    if not wanted:
        raise InvalidRequestError("a key needs at least one permission", param="permissions")
    return tuple(p for p in PERMISSIONS if p in wanted)


def _base62(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits)).rjust(KEY_BODY_LENGTH, _ALPHABET[0])
