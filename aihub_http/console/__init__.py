"""The web console: a single page of plain ES modules and CSS served at `/`, one more client of
the REST API. Every asset is a file of this package (no CDN, no build step); the page holds the
login token in memory only, so its policy forbids everything but its own origin."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

_KINDS = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript",
        ".css": "text/css",
        ".svg": "image/svg+xml",
    }
)
# Scripts and styles of this origin only; images may be pasted (data:) or picked (blob:) in the
# playground; no frame may embed the console (clickjacking).
SECURITY_HEADERS = MappingProxyType(
    {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
)


def console_assets() -> dict[str, bytes]:
    """Every file under `static/`, by its path relative to it (`pages/keys.js`)."""
    found: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for item in folder.iterdir():
            if item.is_dir():
                walk(item, f"{prefix}{item.name}/")
            elif any(item.name.endswith(suffix) for suffix in _KINDS):
                found[prefix + item.name] = item.read_bytes()

    walk(resources.files(__name__).joinpath("static"), "")
    return found


def console_routes() -> list[BaseRoute]:
    """`GET /` (the page) and `GET /console/{path}` (its modules, styles and icons)."""
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    files = console_assets()
    assets = {name: Response(body, media_type=_kind(name), headers=headers) for name, body in files.items()}
    page = assets["index.html"]

    async def index(request: Request) -> Response:
        return page

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["path"])
        if found is None:
            raise HTTPException(404)
        return found

    return [Route("/", index, methods=["GET"]), Route("/console/{path:path}", asset, methods=["GET"])]


def _kind(name: str) -> str:
    return next(kind for suffix, kind in _KINDS.items() if name.endswith(suffix))
