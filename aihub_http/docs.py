"""`GET /docs`: the API reference, rendered from the OpenAPI document, with a "try it" form per
operation. Its script and style are files of this package (`static/`), served beside it: no CDN."""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from typing import Any

# Sample values for the request bodies the forms start with, by field name.
_EXAMPLES: dict[str, Any] = {
    "message": "Hello, AI Hub!",
    "messages": [{"role": "user", "content": "Hello, AI Hub!"}],
    "input": "Hello, AI Hub!",
    "model": "x-ai/grok-beta",
    "max_tokens": 150,
    "email": "your@email.com",
    "password": "your-password",
    "name": "My App Key",
}
_SECURITY_LABELS = {"ApiKey": "api_key", "LoginToken": "jwt"}
STATIC_FILES = {"docs.js": "text/javascript", "docs.css": "text/css"}


def static_file(name: str) -> bytes:
    """One of the page's assets, read from the package."""
    return resources.files("aihub_http").joinpath("static", name).read_bytes()


def render_docs(document: dict[str, Any]) -> str:
    """The page: credentials, every operation with its form, then every component schema."""
    info = document.get("info", {})
    title = escape(info.get("title", "API"))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<title>{title}</title><link rel="stylesheet" href="/docs/static/docs.css"></head><body>',
        f"<h1>{title} <small>{escape(str(info.get('version', '')))}</small></h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>',
        '<div class="credentials">',
        '<label>API key <input id="cred-api_key" placeholder="ai-hub-..." autocomplete="off"></label>',
        '<label>Login token <input id="cred-jwt" placeholder="the token of register or login" '
        'autocomplete="off"></label>',
        "</div>",
        "<h2>Endpoints</h2>",
    ]
    parameters = document.get("components", {}).get("parameters", {})
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            parts.append(_operation(method, path, operation, parameters))
    parts.append("<h2>Schemas</h2>")
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        parts.append(f'<details id="schema-{escape(name)}"><summary><code>{escape(name)}</code></summary>')
        parts.append(f"{_json(schema)}</details>")
    parts.append('<script src="/docs/static/docs.js"></script></body></html>')
    return "\n".join(parts)


def _credential(operation: dict[str, Any]) -> str:
    for requirement in operation.get("security", []):
        for scheme in requirement:
            return _SECURITY_LABELS.get(scheme, "none")
    return "none"


def _operation(method: str, path: str, operation: dict[str, Any], shared: dict[str, Any]) -> str:
    credential = _credential(operation)
    parts = [
        f'<form class="op" data-method="{escape(method)}" data-path="{escape(path)}" '
        f'data-credential="{credential}">',
        f'<div><span class="method {escape(method)}">{escape(method.upper())}</span>',
        f"<code>{escape(path)}</code></div>",
        f"<p><b>{escape(operation.get('summary', ''))}</b></p>",
        f"<p>{escape(operation.get('description', ''))}</p>",
    ]
    if credential != "none":
        parts.append(f"<p>Takes the {'API key' if credential == 'api_key' else 'login token'}.</p>")
    grpc_methods = operation.get("x-grpc-methods", [])
    if grpc_methods:
        parts.append("<p>gRPC: " + ", ".join(f"<code>{escape(m)}</code>" for m in grpc_methods) + "</p>")
    for param in operation.get("parameters", []):
        if "$ref" in param:
            param = shared[param["$ref"].rsplit("/", 1)[1]]
        name = escape(param["name"])
        hint = escape(param.get("description", ""))
        parts.append(
            f"<label>{escape(param['in'])} <code>{name}</code>"
            f'<input name="{name}" data-in="{escape(param["in"])}" title="{hint}"></label>'
        )
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        schema = body["schema"]
        example = {k: v for k, v in _EXAMPLES.items() if k in schema.get("properties", {})}
        parts.append(f"<textarea>{escape(json.dumps(example, indent=2))}</textarea>")
        parts.append(f"<details><summary>Request body</summary>{_json(schema)}</details>")
    for status, response in operation.get("responses", {}).items():
        for media_type, content in response.get("content", {}).items():
            label = f"{status} {media_type}"
            parts.append(
                f"<details><summary>{escape(label)}</summary>{_json(content.get('schema', {}))}</details>"
            )
    errors = [status for status, response in operation.get("responses", {}).items() if "$ref" in response]
    if errors:
        parts.append("<p>Errors: " + ", ".join(f"<code>{escape(s)}</code>" for s in errors) + "</p>")
    parts.append('<button type="submit">Send</button><pre class="result"></pre></form>')
    return "\n".join(parts)


def _json(value: Any) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"
