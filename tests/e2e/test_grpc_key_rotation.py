"""Key rotation and expiry over gRPC: RotateApiKey, and the old secret refused as
UNAUTHENTICATED with reason API_KEY_EXPIRED once its grace is over."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import timestamp_pb2

from aihub.v1 import key_service_pb2 as key_pb
from aihub.v1 import key_service_pb2_grpc as key_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from tests.e2e.test_grpc import bearer, error_info, new_key
from tests.fake_clock import FakeClock


async def _quota(channel: grpc.aio.Channel, secret: str) -> None:
    await usage_grpc.UsageServiceStub(channel).GetQuota(usage_pb.GetQuotaRequest(), metadata=bearer(secret))


async def _expired(channel: grpc.aio.Channel, secret: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _quota(channel, secret)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    info = error_info(refused.value)
    assert info.reason == "API_KEY_EXPIRED" and info.metadata["code"] == "api_key_expired"


async def test_rotate_and_expire_over_grpc(channel: grpc.aio.Channel, clock: FakeClock) -> None:
    token, old = await new_key(channel)
    keys = key_grpc.KeyServiceStub(channel)
    listed = await keys.ListApiKeys(key_pb.ListApiKeysRequest(), metadata=bearer(token))
    key_id = listed.api_keys[0].id
    await _quota(channel, old)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await keys.RotateApiKey(
            key_pb.RotateApiKeyRequest(key_id="key_nope", grace_seconds=0), metadata=bearer(token)
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    expires = timestamp_pb2.Timestamp()
    expires.FromDatetime(clock.now().replace(microsecond=0))
    expires.seconds += 10
    created = await keys.CreateApiKey(
        key_pb.CreateApiKeyRequest(name="short", expires_at=expires), metadata=bearer(token)
    )
    assert created.expires_at == expires
    await _quota(channel, created.key)
    clock.advance(11)
    await _expired(channel, created.key)

    rotated = await keys.RotateApiKey(key_pb.RotateApiKeyRequest(key_id=key_id), metadata=bearer(token))
    assert rotated.id == key_id and rotated.key != old
    assert rotated.previous_key_expires_at.seconds - rotated.rotated_at.seconds == 86_400
    await _quota(channel, old)
    clock.advance(86_401)  # the login token expires too: it was used before
    await _expired(channel, old)
    await _quota(channel, rotated.key)
