"""Prometheus metrics of the shim itself, in a registry owned by the app, and of the parts of
this process that give theirs (`ScrapeSource`: the core's, when it runs here)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aihub_http.access_log import log_request
from aihub_http.errors import ApiError

# Label for requests no route matched, so random paths cannot blow up label cardinality.
UNMATCHED = "<unmatched>"
# nginx's code for "client closed the request before an answer was sent".
CLIENT_CLOSED = 499
# Set (to a fresh folder) in the environment of worker processes before prometheus_client is
# imported: each process then keeps its figures in files there, and a scrape sums them.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How long a scrape waits for a source's figures read at scrape time before it answers without them.
SOURCE_TIMEOUT = 5.0
log = logging.getLogger("aihub.http")


class ScrapeSource(Protocol):
    """Figures of another part of this process for `GET /metrics` (the core's, when the core runs
    in the same process as the shim)."""

    @property
    def registry(self) -> CollectorRegistry:
        """Its counters of this process (in multiprocess mode they are in the shared folder too)."""
        ...

    async def read_now(self) -> list[Metric]:
        """Figures read when scraped, the same whichever process reads them (a shared store's)."""
        ...


class _Fixed(Collector):
    """Metric families read before the exposition is written."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = list(metrics)

    def collect(self) -> Iterable[Metric]:
        return self._metrics


class Metrics:
    """A request counter and a latency histogram, by method, route template and status; and the
    figures of the `sources` (the core's usage alerts, when it runs in this process)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        multiprocess_dir: str | None = None,
        token: str | None = None,
        sources: Sequence[ScrapeSource] = (),
    ) -> None:
        self.registry = registry
        self._sources = tuple(sources)
        self._multiprocess_dir = multiprocess_dir
        self._token = None if token is None else token.encode()
        self.requests = Counter(
            "aihub_http_requests",
            "HTTP requests answered by the REST/SSE shim.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "aihub_http_request_duration_seconds",
            "Time from request to the end of the answer (the whole stream for SSE).",
            ("method", "route", "status"),
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        """`GET /metrics`: the exposition of this registry, or of every worker's together; with a
        token, only to a request that sends it."""
        if self._token is not None:
            scheme, _, sent = request.headers.get("authorization", "").partition(" ")
            # compare_digest takes as long whatever the token's first wrong byte: no guessing by timing.
            if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), self._token):
                raise ApiError(
                    401,
                    "authentication_error",
                    "invalid_metrics_token",
                    "GET /metrics needs the header 'Authorization: Bearer <AIHUB_METRICS_TOKEN>'",
                    details={"parameter": "Authorization"},
                    headers={"WWW-Authenticate": "Bearer"},
                )
        registry = self.registry
        if self._multiprocess_dir is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self._multiprocess_dir)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
        for source in self._sources:
            if self._multiprocess_dir is None:  # else every worker's are in the folder, summed
                body += generate_latest(source.registry)
            body += generate_latest(_Fixed(await _read_now(source)))
        return Response(body, media_type=CONTENT_TYPE_LATEST)


async def _read_now(source: ScrapeSource) -> list[Metric]:
    # A database that does not answer must not take /metrics down with it: the rest is answered.
    try:
        return await asyncio.wait_for(source.read_now(), SOURCE_TIMEOUT)
    except Exception:
        log.warning("a metrics source failed; /metrics answers without its figures", exc_info=True)
        return []


class MetricsMiddleware:
    """Times every HTTP request, records it under its route template and writes its access-log
    line (one timing and one route lookup for both)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = CLIENT_CLOSED

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        except Exception:
            if status == CLIENT_CLOSED:
                status = 500  # what ServerErrorMiddleware, outside us, is about to answer
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            log_request(scope, route, status, elapsed)


def _route_of(scope: Scope) -> str:
    # The route Starlette's router matched (a 405's too: the path's route, partly matched), so
    # the path is matched once per request.
    route: BaseRoute | None = scope.get("route")
    return str(getattr(route, "path", UNMATCHED))
