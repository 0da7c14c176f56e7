"""The composition root of the shim: `create_app(core_target)` builds the whole Starlette app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from types import MappingProxyType
from typing import Any

import grpc
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aihub_http.bodies import Bodies
from aihub_http.console import console_routes
from aihub_http.docs import STATIC_FILES, render_docs, static_file
from aihub_http.endpoints import Endpoint, healthz, rpc_endpoint
from aihub_http.errors import ApiError
from aihub_http.metrics import Metrics, MetricsMiddleware, ScrapeSource
from aihub_http.openai import openai_endpoint
from aihub_http.openai.errors import error_response as openai_error_response
from aihub_http.openai.openapi import paths as openai_paths
from aihub_http.openai.openapi import schemas as openai_schemas
from aihub_http.openapi import build_openapi
from aihub_http.openapi.responses import error_refs, success_headers
from aihub_http.options import ShimOptions
from aihub_http.request_ids import RequestIdMiddleware, request_id_of
from aihub_http.routes import ROUTES, RpcRoute
from aihub_http.stubs import CHANNEL_OPTIONS, LifespanState, Stubs

# Codes for the shim's own HTTP-level errors, from the contract's ErrorReason. Routing raises only
# these two; any other HTTPException is a bug.
_HTTP_ERROR_CODES = MappingProxyType({404: "not_found", 405: "method_not_allowed"})
# The fixed paths of the OpenAI-compatible routes: a wrong method there is answered in OpenAI's shape.
_OPENAI_PATHS = frozenset(route.path for route in ROUTES if route.wire == "openai" and "{" not in route.path)


def create_app(
    core: str | grpc.aio.Channel,
    *,
    registry: CollectorRegistry | None = None,
    metrics_dir: str | None = None,
    options: ShimOptions | None = None,
    metric_sources: Sequence[ScrapeSource] = (),
) -> Starlette:
    """The REST/SSE shim in front of the core: at `core` (`host:port`, a channel the app opens and
    closes), or through `core` itself, a channel its owner opens and closes (`aihub serve` passes
    the core's in-process channel when both run in one process).

    `metrics_dir`: the shared folder of several worker processes' metrics (prometheus_client's
    multiprocess mode); `GET /metrics` then reports the sum over all of them. `options`: the
    shim's own limits and credentials (`ShimOptions()`'s defaults when not given).
    `metric_sources`: more figures for `GET /metrics` (the core's, when it runs in this process)."""
    options = options or ShimOptions()
    metrics = Metrics(
        registry if registry is not None else CollectorRegistry(),
        metrics_dir,
        options.metrics_token,
        metric_sources,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[LifespanState]:
        if not isinstance(core, str):
            yield {"channel": core, "stubs": Stubs.on(core)}
            return
        channel = grpc.aio.insecure_channel(core, options=CHANNEL_OPTIONS)
        try:
            yield {"channel": channel, "stubs": Stubs.on(channel)}
        finally:
            await channel.close()

    bodies = Bodies(options.max_body_bytes_in_flight, options.body_timeout)
    return Starlette(
        routes=_rpc_routes(ROUTES, bodies) + _service_routes(metrics) + console_routes(),
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(MetricsMiddleware, metrics=metrics),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected_error},
        lifespan=lifespan,
    )


def _rpc_routes(table: tuple[RpcRoute, ...], bodies: Bodies) -> list[BaseRoute]:
    # One Starlette route per path, so a 405 lists every method the path allows in `Allow`.
    by_path: dict[str, dict[str, Endpoint]] = {}
    for route in table:
        factory = openai_endpoint if route.wire == "openai" else rpc_endpoint
        path = re.sub(r"\{(\w+)\}", r"{\1:path}", route.path) if route.slashed_params else route.path
        by_path.setdefault(path, {})[route.http_method] = factory(route, bodies)
    return [
        Route(path, _by_method(endpoints), methods=list(endpoints)) for path, endpoints in by_path.items()
    ]


def _by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    async def dispatch(request: Request[LifespanState]) -> Response:
        # Starlette answers HEAD with the GET route; the server drops the body.
        return await endpoints["GET" if request.method == "HEAD" else request.method](request)

    return dispatch


def _service_routes(metrics: Metrics) -> list[BaseRoute]:
    extra_paths = {
        "/healthz": _plain_operation("Health of the shim and the core", "application/json"),
        "/metrics": _plain_operation(
            "Prometheus metrics of the shim, and of the core when it runs in the same process", "text/plain"
        ),
        "/openapi.json": _plain_operation("This document", "application/json"),
        "/docs": _plain_operation("The API reference, with a form to try each call", "text/html"),
    }
    own = tuple(route for route in ROUTES if route.wire == "aihub")
    document = build_openapi(own, {**extra_paths, **openai_paths(ROUTES)}, openai_schemas())
    page = render_docs(document)
    assets = {name: Response(static_file(name), media_type=kind) for name, kind in STATIC_FILES.items()}

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404)
        return found

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/docs/static/{name}", asset, methods=["GET"]),
    ]


def _plain_operation(summary: str, media_type: str) -> dict[str, Any]:
    ok = {"description": "OK", "headers": success_headers("none"), "content": {media_type: {}}}
    return {"get": {"summary": summary, "tags": ["Service"], "responses": {"200": ok, **error_refs()}}}


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response(request_id_of(request))


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _HTTP_ERROR_CODES.get(status)
    if code is None:  # ServerErrorMiddleware logs it and answers 500 internal_error
        raise RuntimeError(f"HTTPException {status} has no code in the contract") from exc
    if status == 404:
        message = f"No endpoint at {request.url.path}"
    else:
        message = f"{request.method} is not allowed on {request.url.path}"
    error = ApiError(status, "invalid_request_error", code, message, headers=exc.headers)
    if status == 405 and request.url.path in _OPENAI_PATHS:  # its clients read OpenAI's shape
        return openai_error_response(error, request_id_of(request))
    return error.response(request_id_of(request))


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Runs in ServerErrorMiddleware, outside RequestIdMiddleware: the answer stamps its own id.
    error = ApiError(500, "api_error", "internal_error", "Internal error in the AI Hub gateway")
    return error.response(request_id_of(request))
