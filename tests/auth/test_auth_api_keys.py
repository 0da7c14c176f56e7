"""API keys: format, entropy, hashing, ids and permissions."""

from __future__ import annotations

import hashlib
import re

import pytest

from aihub_core.auth.api_keys import (
    PERMISSIONS,
    display_prefix,
    generate_api_key,
    hash_api_key,
    looks_like_api_key,
    new_key_id,
    validate_permissions,
)
from aihub_core.auth.tokens import TokenIssuer
from aihub_core.errors import InvalidRequestError

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def test_key_format_hash_and_prefix() -> None:
    new = generate_api_key()
    assert re.fullmatch(r"ai-hub-[0-9A-Za-z]{43}", new.key)
    assert looks_like_api_key(new.key)
    assert new.key_hash == hashlib.sha256(new.key.encode()).hexdigest() == hash_api_key(new.key)
    assert new.prefix == display_prefix(new.key) == new.key[:12]


def test_keys_carry_256_random_bits() -> None:
    keys = [generate_api_key().key for _ in range(300)]
    assert len(set(keys)) == len(keys)
    bodies = [key.removeprefix("ai-hub-") for key in keys]
    values = [sum(BASE62.index(c) * 62**i for i, c in enumerate(reversed(body))) for body in bodies]
    assert all(v < 2**256 for v in values)
    # With 256 uniform bits, some of 300 keys use the top bits and each byte position varies.
    assert max(values) > 2**250
    assert all(len({v >> shift & 0xFF for v in values}) > 100 for shift in range(0, 256, 8))


@pytest.mark.parametrize(
    "value",
    [
        "ai-hub-" + "a" * 42,
        "ai-hub-" + "a" * 44,
        "ai-hub-" + "a" * 42 + "-",
        "AI-HUB-" + "a" * 43,
        " ai-hub-" + "a" * 43,
        "sk-" + "a" * 48,
        "",
    ],
)
def test_other_strings_do_not_look_like_keys(value: str) -> None:
    assert not looks_like_api_key(value)


def test_a_jwt_does_not_look_like_a_key() -> None:
    assert not looks_like_api_key(TokenIssuer("s" * 32, 60).issue("usr_1").token)


def test_key_ids() -> None:
    ids = {new_key_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"key_[0-9a-f]{24}", i) for i in ids)


def test_permissions() -> None:
    assert PERMISSIONS == ("chat", "models", "usage")
    assert validate_permissions(None) == PERMISSIONS
    assert validate_permissions(["usage", "chat", "usage"]) == ("chat", "usage")
    for bad in (["chat", "admin"], []):
        with pytest.raises(InvalidRequestError) as caught:
            validate_permissions(bad)
        assert caught.value.details["parameter"] == "permissions"
