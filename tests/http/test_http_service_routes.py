"""/healthz, /metrics, /openapi.json, /docs, and the route table the contract tests read."""

from __future__ import annotations

import re

import httpx
from grpc_health.v1 import health_pb2
from prometheus_client import CollectorRegistry

from aihub.v1 import (
    admin_service_pb2,
    auth_service_pb2,
    chat_service_pb2,
    embedding_service_pb2,
    key_service_pb2,
    model_service_pb2,
    usage_service_pb2,
)
from aihub_http import ROUTES, ShimOptions, create_app, grpc_methods
from aihub_http.routes import GRPC_ONLY_METHODS
from tests.http.fakes import FakeCore, serve_http

AIHUB_FILES = (
    admin_service_pb2,
    auth_service_pb2,
    chat_service_pb2,
    embedding_service_pb2,
    key_service_pb2,
    model_service_pb2,
    usage_service_pb2,
)


async def test_healthz_ok_while_the_core_serves(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert re.fullmatch(r"req_[0-9a-f]{24}", response.headers["x-request-id"])


async def test_healthz_503_when_the_core_is_not_serving(api: httpx.AsyncClient, fake: FakeCore) -> None:
    await fake.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    response = await api.get("/healthz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_metrics_count_requests_by_route_template_and_status(
    api: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    await api.delete("/v1/developer/api-keys/key_1")
    await api.delete("/v1/developer/api-keys/key_2")
    await api.get("/no/such/path")
    await api.put("/v1/developer/quota")
    text = (await api.get("/metrics")).text
    assert (
        'aihub_http_requests_total{method="DELETE",route="/v1/developer/api-keys/{key_id}",status="200"} 2.0'
        in text
    )
    assert 'aihub_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in text
    assert 'aihub_http_requests_total{method="PUT",route="/v1/developer/quota",status="405"} 1.0' in text
    assert (
        'aihub_http_request_duration_seconds_count{method="DELETE",route="/v1/developer/api-keys/{key_id}"'
        in text
    )
    value = registry.get_sample_value(
        "aihub_http_requests_total",
        {"method": "DELETE", "route": "/v1/developer/api-keys/{key_id}", "status": "200"},
    )
    assert value == 2.0


async def test_apps_without_a_registry_get_their_own(fake: FakeCore) -> None:
    # Two apps in one process must not collide on a shared default registry.
    first = create_app(f"127.0.0.1:{fake.port}")
    async with (
        serve_http(create_app(f"127.0.0.1:{fake.port}")) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        assert (await client.get("/metrics")).status_code == 200
    assert first is not None


async def test_metrics_with_a_token_answer_only_requests_that_send_it(fake: FakeCore) -> None:
    app = create_app(
        f"127.0.0.1:{fake.port}",
        registry=CollectorRegistry(),
        options=ShimOptions(metrics_token="s3cret-metrics"),
    )
    async with serve_http(app) as url, httpx.AsyncClient(base_url=url) as client:
        for sent in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-metrics"}):
            refused = await client.get("/metrics", headers=sent)
            assert refused.status_code == 401, sent
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.json() == {
                "error": {
                    "type": "authentication_error",
                    "code": "invalid_metrics_token",
                    "message": "GET /metrics needs the header 'Authorization: Bearer <AIHUB_METRICS_TOKEN>'",
                    "details": {"parameter": "Authorization"},
                },
                "request_id": refused.headers["x-request-id"],
            }
        allowed = await client.get("/metrics", headers={"Authorization": "bearer s3cret-metrics"})
        assert allowed.status_code == 200 and "aihub_http_requests_total" in allowed.text
        assert (await client.get("/healthz")).status_code == 200  # only /metrics takes the token


async def test_openapi_documents_every_route(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    for route in ROUTES:
        operation = document["paths"][route.path][route.http_method.lower()]
        assert str(route.status_code) in operation["responses"]
        assert operation["x-grpc-methods"] == list(route.grpc_methods())
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        assert "get" in document["paths"][path]


async def test_openapi_schemas_follow_the_json_rules(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    api_key = schemas["CreateApiKeyResponse"]
    assert api_key["properties"]["last_used"] == {
        "anyOf": [
            {"type": "string", "format": "date-time", "examples": ["2025-09-29T10:00:00Z"]},
            {"type": "null"},
        ],
        "description": "Always unset for a new key.",
    }
    assert "last_used" in api_key["required"]
    assert schemas["Model"]["properties"]["context_length"] == {
        "type": "integer",
        "format": "int64",
        "description": "The most tokens of prompt and answer together.",
    }
    capabilities = schemas["ServiceCapabilities"]
    assert "required" not in capabilities  # optional scalars are left out when unset
    services = schemas["ListServicesResponse"]["properties"]["capabilities"]
    assert services["additionalProperties"] == {"$ref": "#/components/schemas/ServiceCapabilities"}
    # KeyRateLimit is used by requests and responses, so requests get their own schema.
    assert {"KeyRateLimit", "KeyRateLimitInput"} <= set(schemas)
    assert "required" not in schemas["KeyRateLimitInput"]
    create = document["paths"]["/v1/developer/api-keys"]["post"]["requestBody"]["content"]
    # The shim sets `permissions_present`; the body has only `permissions`.
    assert set(create["application/json"]["schema"]["properties"]) == {
        "name",
        "permissions",
        "rate_limit",
        "expires_at",
        "budget",
    }
    chat = document["paths"]["/v1/developer/chat"]["post"]
    body = chat["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["stream"]["type"] == ["boolean", "null"]  # null leaves a field unset
    max_tokens = body["properties"]["max_tokens"]
    assert (max_tokens["type"], max_tokens["minimum"]) == (["integer", "null"], 1)
    assert body["properties"]["temperature"] | {"description": ""} == {
        "type": ["number", "null"],
        "format": "double",
        "minimum": 0,
        "maximum": 1,
        "description": "",
    }
    assert body["required"] == ["message"] and chat["requestBody"]["required"] is True
    assert body["additionalProperties"] is False
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    models = document["paths"]["/v1/developer/models"]["get"]
    assert {p["name"] for p in models["parameters"]} == {"service", "category", "page_size", "page_token"}
    delete = document["paths"]["/v1/developer/api-keys/{key_id}"]["delete"]
    assert delete["parameters"] == [
        {
            "name": "key_id",
            "in": "path",
            "required": True,
            "description": "The key's id.",
            "schema": {"type": "string"},
        }
    ]


async def test_docs_page_is_self_contained_html_listing_every_path(api: httpx.AsyncClient) -> None:
    response = await api.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for route in ROUTES:
        assert route.path in page
    assert page.count('<form class="op"') == len(ROUTES) + 4  # each call can be tried
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)  # no CDN: assets are ours
    assets = re.findall(r'(?:src|href)="(/docs/static/[^"]+)"', page)
    assert sorted(assets) == ["/docs/static/docs.css", "/docs/static/docs.js"]
    for asset in assets:
        served = await api.get(asset)
        assert served.status_code == 200 and served.content
        assert "http://" not in served.text and "https://" not in served.text
    assert (await api.get("/docs/static/nothing.js")).status_code == 404


def test_route_table_names_real_rpcs_each_served_by_a_stub() -> None:
    services = {s.full_name: s for module in AIHUB_FILES for s in module.DESCRIPTOR.services_by_name.values()}
    rows = grpc_methods()
    for http_method, path, method in rows:
        assert http_method in {"GET", "POST", "DELETE"}
        assert path.startswith("/")
        if method == "/grpc.health.v1.Health/Check":
            continue
        service, name = method.removeprefix("/").split("/")
        assert name in services[service].methods_by_name
    called = {method for _, _, method in rows}
    every_rpc = {f"/{s.full_name}/{m.name}" for s in services.values() for m in s.methods}
    assert every_rpc - GRPC_ONLY_METHODS <= called, "every aihub.v1 RPC is reachable over REST"
    assert every_rpc >= GRPC_ONLY_METHODS, "gRPC-only names must be real RPCs"
    assert ("POST", "/v1/developer/chat", "/aihub.v1.ChatService/StreamChat") in rows
