"""API keys: issued, found by hash, rotated, deleted and touched."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aihub_core.store.records import ApiKeyRecord, RotatedSecret


class KeyStore(Protocol):
    """Users' API keys."""

    async def create_api_key(self, key: ApiKeyRecord) -> None:
        """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
        ...

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The live (not deleted) key with this hash: its current secret's (`secret_expires_at`
        None), or a secret it was rotated away from (`secret_expires_at` set, see
        `rotate_api_key`)."""
        ...

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's live keys, newest first."""
        ...

    async def rotate_api_key(self, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
        """Give one of the user's live keys a new secret (`secret.key_hash`, `secret.prefix`) and
        set its `rotated_at`, in one transaction that also keeps the old hash: until
        `secret.old_secret_until` `get_api_key_by_hash` still finds the key by it (with
        `secret_expires_at` set), and after that too, so that the old secret is told apart from
        an unknown one. Every other field of the key stays. The key as it is now, or None if the
        user has no such live key. ConflictError if the new hash was ever used."""
        ...

    async def delete_api_key(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys; False if the user has no such live key. Its hash is never
        found again (nor can it be issued again: the deleted key keeps it)."""
        ...

    async def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that a key was used at `when`; `last_used` only ever moves forward, so a late,
        older touch changes nothing."""
        ...
