"""`GET /docs`: a self-contained HTML page of the OpenAPI document (no CDN, no script)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1f2328}
h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}
.op{border:1px solid #d0d7de;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.method{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}
.get{color:#0969da}.post{color:#1a7f37}.delete{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.75rem;overflow:auto;border-radius:6px}
summary{cursor:pointer}
"""


def render_docs(document: dict[str, Any]) -> str:
    """The page: every operation with its parameters and schemas, then every component schema."""
    info = document.get("info", {})
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>',
        "<h2>Endpoints</h2>",
    ]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            parts.append(_operation(method, path, operation))
    parts.append("<h2>Schemas</h2>")
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        parts.append(f'<details id="schema-{escape(name)}"><summary><code>{escape(name)}</code></summary>')
        parts.append(f"{_json(schema)}</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    parts = [
        '<div class="op">',
        f'<div><span class="method {escape(method)}">{escape(method.upper())}</span>',
        f"<code>{escape(path)}</code></div>",
        f"<p>{escape(operation.get('summary', ''))}</p>",
    ]
    grpc_methods = operation.get("x-grpc-methods", [])
    if grpc_methods:
        parts.append("<p>gRPC: " + ", ".join(f"<code>{escape(m)}</code>" for m in grpc_methods) + "</p>")
    for param in operation.get("parameters", []):
        kind = param.get("schema", {}).get("type", "")
        parts.append(
            f"<div>{escape(param['in'])} <code>{escape(param['name'])}</code> {escape(str(kind))}</div>"
        )
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        parts.append(f"<details><summary>Request body</summary>{_json(body['schema'])}</details>")
    for status, response in operation.get("responses", {}).items():
        for media_type, content in response.get("content", {}).items():
            label = f"{status} {media_type}"
            parts.append(
                f"<details><summary>{escape(label)}</summary>{_json(content.get('schema', {}))}</details>"
            )
    parts.append("</div>")
    return "\n".join(parts)


def _json(value: Any) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"
