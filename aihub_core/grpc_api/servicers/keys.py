"""KeyService: the caller's API keys (JWT-authenticated)."""

from __future__ import annotations

from datetime import UTC

from aihub.v1 import key_service_pb2 as pb
from aihub.v1 import key_service_pb2_grpc as pb_grpc
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import JWT
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import unary
from aihub_core.paging import page
from aihub_core.services.keys import KeyManager


class KeyServicer(pb_grpc.KeyServiceServicer):
    def __init__(self, gate: Gate, keys: KeyManager) -> None:
        self.gate = gate
        self._keys = keys

    @unary(JWT)
    async def CreateApiKey(self, request: pb.CreateApiKeyRequest, call: Call) -> pb.CreateApiKeyResponse:
        # Unset (or 0, which proto3 cannot tell apart) means the plan's limit.
        rpm = request.rate_limit.requests_per_minute or None
        # Empty and not marked present: the field was left out, which means every permission.
        given = request.permissions or request.permissions_present
        permissions = tuple(request.permissions) if given else None
        expires_at = request.expires_at.ToDatetime(UTC) if request.HasField("expires_at") else None
        budget = (request.budget.limit_usd, request.budget.period) if request.HasField("budget") else None
        user = call.user
        record, secret = await self._keys.create(user, request.name, permissions, rpm, expires_at, budget)
        return pb.CreateApiKeyResponse(
            id=record.id,
            name=record.name,
            key=secret,
            created_at=convert.timestamp(record.created_at),
            permissions=list(record.permissions),
            rate_limit=convert.key_rate_limit(record),
            expires_at=convert.timestamp(expires_at) if expires_at else None,
            budget=convert.key_budget(record),
        )

    @unary(JWT)
    async def ListApiKeys(self, request: pb.ListApiKeysRequest, call: Call) -> pb.ListApiKeysResponse:
        records = await self._keys.list(call.user)
        items, next_token = page(records, request.page_size, request.page_token)
        return pb.ListApiKeysResponse(
            api_keys=[convert.api_key(r) for r in items], total_count=len(records), next_page_token=next_token
        )

    @unary(JWT)
    async def DeleteApiKey(self, request: pb.DeleteApiKeyRequest, call: Call) -> pb.DeleteApiKeyResponse:
        await self._keys.delete(call.user, request.key_id.strip())
        return pb.DeleteApiKeyResponse(id=request.key_id.strip(), deleted=True)

    @unary(JWT)
    async def RotateApiKey(self, request: pb.RotateApiKeyRequest, call: Call) -> pb.RotateApiKeyResponse:
        grace = request.grace_seconds if request.HasField("grace_seconds") else None
        rotation = await self._keys.rotate(call.user, request.key_id.strip(), grace)
        listed = convert.api_key(rotation.key)
        # The listed key's fields but its prefix (the whole secret is here), and the old one's end.
        return pb.RotateApiKeyResponse(
            id=listed.id,
            name=listed.name,
            key=rotation.secret,
            created_at=listed.created_at,
            permissions=listed.permissions,
            last_used=listed.last_used if listed.HasField("last_used") else None,
            rate_limit=listed.rate_limit if listed.HasField("rate_limit") else None,
            expires_at=listed.expires_at if listed.HasField("expires_at") else None,
            rotated_at=listed.rotated_at,
            budget=listed.budget if listed.HasField("budget") else None,
            previous_key_expires_at=convert.timestamp(rotation.old_secret_until),
        )
