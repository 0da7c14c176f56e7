"""The PostgreSQL store's API keys (`protocols.keys`)."""

from __future__ import annotations

from datetime import datetime

from aihub_core.store import rows
from aihub_core.store.postgres import _keys
from aihub_core.store.postgres._connection import PostgresConnection
from aihub_core.store.records import ApiKeyRecord, RotatedSecret


class PostgresKeys(PostgresConnection):
    """`KeyStore` on PostgreSQL."""

    async def create_api_key(self, key: ApiKeyRecord) -> None:
        """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
        await self._call(_keys.create_api_key, key)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The live (not deleted) key with this hash."""
        return await self._call(_keys.get_api_key_by_hash, key_hash)

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's live keys, newest first."""
        return await self._call(_keys.list_api_keys, user_id)

    async def delete_api_key(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys; False if the user has no such live key."""
        return await self._call(_keys.delete_api_key, user_id, key_id)

    async def rotate_api_key(self, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
        """Give one of the user's live keys a new secret, keeping the old one's grace (see the Protocol)."""
        rows.rotated_secret_row(secret)
        return await self._call(_keys.rotate_api_key, user_id, key_id, secret)

    async def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that a key was used."""
        rows.utc(when)
        await self._call(_keys.touch_api_key, key_id, when)
