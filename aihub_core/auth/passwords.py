"""Password hashing with argon2id (memory-hard, so a leaked table is slow to crack).

Hashing and verifying cost ~100 ms of CPU and 64 MiB by design: the async variants run them in
a thread so the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# An argon2id hash (default parameters) of a password nobody knows: verifying against it makes a
# login for an unknown email cost as much as one with a wrong password, so timing does not tell
# which emails have accounts.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$0Jw8aUnf5QVaeM1nQ2FGqA$fmIQJ4bZeWD5/h5rW7huARJy8OGmAXTaqRzkK8H3OQQ"
)


def default_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""
    return PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """The argon2id hash of a password, salt and parameters included."""
    return (hasher or default_hasher()).hash(password)


def verify_password(password_hash: str | None, password: str, hasher: PasswordHasher | None = None) -> bool:
    """Whether the password matches; a missing (None) or malformed hash is a slow False."""
    try:
        matched = (hasher or default_hasher()).verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and bool(password_hash)


def needs_rehash(password_hash: str, hasher: PasswordHasher | None = None) -> bool:
    """Whether a stored hash uses weaker parameters than the hasher's (rehash it after a login)."""
    try:
        return (hasher or default_hasher()).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


async def hash_password_async(password: str, hasher: PasswordHasher | None = None) -> str:
    """`hash_password` on a worker thread."""
    return await asyncio.to_thread(hash_password, password, hasher)


async def verify_password_async(
    password_hash: str | None, password: str, hasher: PasswordHasher | None = None
) -> bool:
    """`verify_password` on a worker thread."""
    return await asyncio.to_thread(verify_password, password_hash, password, hasher)
