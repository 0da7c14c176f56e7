"""Request logs over gRPC: ListUsageLogs pages and ExportUsageLogs streams batches of every row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from aihub_core.services.usage_logs import EXPORT_BATCH
from aihub_core.store.base import UsageRecord
from tests.e2e.test_grpc import bearer, error_info, new_key


async def test_list_and_export_over_grpc(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    auth = bearer(key)
    call = chat_grpc.ChatServiceStub(channel).Chat(chat_pb.ChatRequest(message="hello"), metadata=auth)
    reply = await call
    request_id = dict(await call.initial_metadata())["x-request-id"]
    user = await core.store.get_user_by_email("grpc@example.com")
    assert user is not None
    for i in range(EXPORT_BATCH + 3):
        await core.store.record_usage(
            UsageRecord(
                f"req_{i:04}",
                user.id,
                None,
                "gemini",
                "gemini-1.5-flash",
                1,
                1,
                5,
                "ok",
                "provider",
                datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i),
            )
        )
    usage = usage_grpc.UsageServiceStub(channel)

    page = await usage.ListUsageLogs(usage_pb.ListUsageLogsRequest(page_size=2), metadata=auth)
    assert [log.request_id for log in page.logs] == [request_id, f"req_{EXPORT_BATCH + 2:04}"]
    assert f"{page.logs[0].service}:{page.logs[0].model}" == reply.model and page.logs[0].key_name == "grpc"
    second = await usage.ListUsageLogs(
        usage_pb.ListUsageLogsRequest(page_size=2, page_token=page.next_page_token), metadata=auth
    )
    assert [log.request_id for log in second.logs] == [
        f"req_{i:04}" for i in (EXPORT_BATCH + 1, EXPORT_BATCH)
    ]

    batches = [
        [log.request_id for log in batch.logs]
        async for batch in usage.ExportUsageLogs(usage_pb.ExportUsageLogsRequest(), metadata=auth)
    ]
    assert [len(b) for b in batches] == [EXPORT_BATCH, 4]
    assert [r for batch in batches for r in batch][1:] == [
        f"req_{i:04}" for i in reversed(range(EXPORT_BATCH + 3))
    ]

    with pytest.raises(grpc.aio.AioRpcError) as bad:
        async for _ in usage.ExportUsageLogs(usage_pb.ExportUsageLogsRequest(end="soon"), metadata=auth):
            pass
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(bad.value).metadata["parameter"] == "end"
