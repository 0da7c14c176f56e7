"""UsageService: usage and quota reports."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime, timedelta

from aihub.v1 import usage_service_pb2 as pb
from aihub.v1 import usage_service_pb2_grpc as pb_grpc
from aihub_core.alerts.manager import AlertManager
from aihub_core.alerts.rules import AlertSpec
from aihub_core.grpc_api import convert, convert_alerts
from aihub_core.grpc_api.access import JWT, api_key_or_jwt
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import server_stream, unary
from aihub_core.limits.quota_watch import QuotaWatch
from aihub_core.services.usage import UsageReporter
from aihub_core.services.usage_logs import LogFilters, UsageLogs

# How long before a WatchQuota stream opened an alert event may be dated and still be news to it.
_CHECK_SLACK = timedelta(seconds=10)


class UsageServicer(pb_grpc.UsageServiceServicer):
    def __init__(
        self,
        gate: Gate,
        reporter: UsageReporter,
        watch: QuotaWatch,
        logs: UsageLogs,
        alerts: AlertManager,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.gate = gate
        self._reporter = reporter
        self._watch = watch
        self._logs = logs
        self._alerts = alerts
        self._now = now

    @unary(api_key_or_jwt("usage"))
    async def GetUsage(self, request: pb.GetUsageRequest, call: Call) -> pb.GetUsageResponse:
        report = await self._reporter.usage(
            call.user, request.period.strip(), request.start_date.strip(), request.end_date.strip()
        )
        return convert.usage_report(report)

    @unary(api_key_or_jwt("usage"))
    async def GetUsageBreakdown(
        self, request: pb.GetUsageBreakdownRequest, call: Call
    ) -> pb.GetUsageBreakdownResponse:
        report = await self._reporter.breakdown(
            call.user, request.period.strip(), request.start_date.strip(), request.end_date.strip()
        )
        return convert.usage_breakdown(report)

    @unary(api_key_or_jwt("usage"))
    async def GetQuota(self, request: pb.GetQuotaRequest, call: Call) -> pb.GetQuotaResponse:
        return convert.quota(await self._reporter.quota(call.user), await self._watch.budgets(call.user))

    @server_stream(api_key_or_jwt("usage"))
    async def WatchQuota(
        self, request: pb.WatchQuotaRequest, call: Call
    ) -> AsyncGenerator[pb.WatchQuotaResponse, None]:
        # The account's alerts that fire while the stream is open ride on the next snapshot (the
        # checker wakes the watchers when it records one), each once. An event is dated when its
        # check began, which may be a moment before the stream opened: look that far back.
        opened, sent = self._now() - _CHECK_SLACK, set[str]()
        snapshots = self._watch.snapshots(call.user)
        caller = None
        try:
            async for snapshot in snapshots:
                # A stream outlives no log-out, key deletion or expiry: each snapshot after the
                # first checks the credential again, as a new call would (and sees new alerts).
                caller = call.user if caller is None else await self.gate.recheck(call)
                response = convert.quota_snapshot(snapshot)
                if not caller.has_alerts:
                    yield response
                    continue
                fresh = [e for e in await self._alerts.events(call.user, opened) if e.id not in sent]
                sent.update(e.id for e in fresh)
                response.alerts.extend(convert_alerts.alert_event(e) for e in fresh)
                yield response
        finally:
            await snapshots.aclose()

    @unary(JWT)
    async def CreateAlert(self, request: pb.CreateAlertRequest, call: Call) -> pb.CreateAlertResponse:
        spec = AlertSpec(
            metric=request.metric.strip(),
            threshold=request.threshold if request.HasField("threshold") else None,
            of=request.of.strip(),
            value=request.value if request.HasField("value") else None,
            period=request.period.strip(),
            name=request.name,
        )
        return pb.CreateAlertResponse(alert=convert_alerts.alert(await self._alerts.create(call.user, spec)))

    @unary(JWT)
    async def ListAlerts(self, request: pb.ListAlertsRequest, call: Call) -> pb.ListAlertsResponse:
        return pb.ListAlertsResponse(
            alerts=[convert_alerts.alert(v) for v in await self._alerts.all(call.user)]
        )

    @unary(JWT)
    async def DeleteAlert(self, request: pb.DeleteAlertRequest, call: Call) -> pb.DeleteAlertResponse:
        alert_id = request.alert_id.strip()
        await self._alerts.delete(call.user, alert_id)
        return pb.DeleteAlertResponse(id=alert_id, deleted=True)

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
