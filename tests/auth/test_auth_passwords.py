"""argon2id password hashes."""

from __future__ import annotations

import threading
from typing import Literal

from argon2 import PasswordHasher, Type

from aihub_core.auth.passwords import (
    default_hasher,
    hash_password,
    hash_password_async,
    needs_rehash,
    verify_password,
    verify_password_async,
)

# Cheap parameters keep the tests fast; production uses default_hasher().
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("correct horse", CHEAP)
    assert hashed.startswith("$argon2id$")
    assert hash_password("correct horse", CHEAP) != hashed  # salted
    assert verify_password(hashed, "correct horse", CHEAP)
    assert not verify_password(hashed, "wrong horse", CHEAP)


def test_missing_or_malformed_hash_is_false() -> None:
    assert not verify_password(None, "anything")
    assert not verify_password("", "anything", CHEAP)
    assert not verify_password("not-a-hash", "anything", CHEAP)


def test_weaker_hashes_need_a_rehash() -> None:
    assert default_hasher().type is Type.ID
    weak = hash_password("pw", CHEAP)
    assert needs_rehash(weak, default_hasher())
    assert not needs_rehash(weak, CHEAP)
    assert needs_rehash("garbage", CHEAP)


class RecordingHasher(PasswordHasher):
    """A real hasher that notes which thread did the work."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.threads: set[int] = set()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.threads.add(threading.get_ident())
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.threads.add(threading.get_ident())
        return super().verify(hash, password)


async def test_async_variants_work_off_the_loop_thread() -> None:
    hasher = RecordingHasher()
    hashed = await hash_password_async("pw", hasher)
    assert await verify_password_async(hashed, "pw", hasher)
    assert not await verify_password_async(hashed, "nope", hasher)
    assert hasher.threads and threading.get_ident() not in hasher.threads
