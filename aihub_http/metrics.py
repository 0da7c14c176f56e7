"""Prometheus metrics of the shim itself, in a registry owned by the app."""

from __future__ import annotations

import hmac
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
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


class Metrics:
    """A request counter and a latency histogram, by method, route template and status."""

    def __init__(
        self, registry: CollectorRegistry, multiprocess_dir: str | None = None, token: str | None = None
    ) -> None:
        self.registry = registry
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
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


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
