"""KeyService: the caller's API keys (JWT-authenticated)."""

from __future__ import annotations

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
        record, secret = await self._keys.create(call.user, request.name, permissions, rpm)
        return pb.CreateApiKeyResponse(
            id=record.id,
            name=record.name,
            key=secret,
            created_at=convert.timestamp(record.created_at),
            permissions=list(record.permissions),
            rate_limit=convert.key_rate_limit(record),
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
