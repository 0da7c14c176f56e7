"""UsageService: usage and quota reports."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aihub.v1 import usage_service_pb2 as pb
from aihub.v1 import usage_service_pb2_grpc as pb_grpc
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import api_key_or_jwt
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import server_stream, unary
from aihub_core.limits.quota_watch import QuotaWatch
from aihub_core.services.usage import UsageReporter
from aihub_core.services.usage_logs import LogFilters, UsageLogs


class UsageServicer(pb_grpc.UsageServiceServicer):
    def __init__(self, gate: Gate, reporter: UsageReporter, watch: QuotaWatch, logs: UsageLogs) -> None:
        self.gate = gate
        self._reporter = reporter
        self._watch = watch
        self._logs = logs

    @unary(api_key_or_jwt("usage"))
    async def GetUsage(self, request: pb.GetUsageRequest, call: Call) -> pb.GetUsageResponse:
        report = await self._reporter.usage(
            call.user, request.period.strip(), request.start_date.strip(), request.end_date.strip()
        )
        return convert.usage_report(report)

    @unary(api_key_or_jwt("usage"))
    async def GetQuota(self, request: pb.GetQuotaRequest, call: Call) -> pb.GetQuotaResponse:
        return convert.quota(await self._reporter.quota(call.user), await self._watch.budgets(call.user))

    @server_stream(api_key_or_jwt("usage"))
    async def WatchQuota(
        self, request: pb.WatchQuotaRequest, call: Call
    ) -> AsyncGenerator[pb.WatchQuotaResponse, None]:
        snapshots = self._watch.snapshots(call.user)
        try:
            async for snapshot in snapshots:
                yield convert.quota_snapshot(snapshot)
        finally:
            await snapshots.aclose()

    @unary(api_key_or_jwt("usage"))
    async def ListUsageLogs(self, request: pb.ListUsageLogsRequest, call: Call) -> pb.ListUsageLogsResponse:
        entries, next_token = await self._logs.page(
            call.user, _filters(request), request.page_size, request.page_token.strip()
        )
        return pb.ListUsageLogsResponse(
            logs=[convert.usage_log(e) for e in entries], next_page_token=next_token
        )

    @server_stream(api_key_or_jwt("usage"))
    async def ExportUsageLogs(
        self, request: pb.ExportUsageLogsRequest, call: Call
    ) -> AsyncGenerator[pb.ExportUsageLogsResponse, None]:
        batches = self._logs.export(call.user, _filters(request))
        try:
            async for batch in batches:
                yield pb.ExportUsageLogsResponse(logs=[convert.usage_log(e) for e in batch])
        finally:
            await batches.aclose()


def _filters(request: pb.ListUsageLogsRequest | pb.ExportUsageLogsRequest) -> LogFilters:
    return LogFilters(
        model=request.model.strip(),
        status=request.status.strip(),
        key_id=request.key_id.strip(),
        start=request.start.strip(),
        end=request.end.strip(),
    )
