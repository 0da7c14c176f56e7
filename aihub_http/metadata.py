"""What crosses the gRPC boundary besides messages: request metadata out, response headers back."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping

REQUEST_ID_HEADER = "X-Request-ID"
# The proxies' list of the addresses a request came through (lower case, as headers and metadata are read).
FORWARDED_FOR = "x-forwarded-for"

# HTTP header -> gRPC metadata key, forwarded verbatim when the client sent it.
FORWARDED_REQUEST_HEADERS = (("authorization", "authorization"), ("idempotency-key", "idempotency-key"))

# gRPC metadata key -> HTTP header, copied from the core's initial and trailing metadata.
COPIED_RESPONSE_METADATA = (
    ("x-ratelimit-limit", "X-RateLimit-Limit"),
    ("x-ratelimit-remaining", "X-RateLimit-Remaining"),
    ("x-ratelimit-reset", "X-RateLimit-Reset"),
)

# gRPC refuses (and logs loudly) any ASCII metadata value outside printable ASCII; catching it
# here lets the shim answer 400/401 instead of an opaque INTERNAL.
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")

MetadataPairs = Iterable[tuple[str, str | bytes]]


class BadHeaderError(ValueError):
    """A request header that cannot travel as gRPC metadata; `header` names it."""

    def __init__(self, header: str) -> None:
        super().__init__(f"The {header} header may only contain printable ASCII characters")
        self.header = header


def new_request_id() -> str:
    """A fresh request id: `req_` and 24 lowercase hex digits."""
    return "req_" + secrets.token_hex(12)


def outgoing_metadata(headers: Mapping[str, str], peer: str | None = None) -> tuple[tuple[str, str], ...]:
    """The metadata for a core call made on behalf of an HTTP request with these headers, from
    `peer`, the address the request came from (no request id: the core mints the call's own).

    Like any proxy, the shim appends `peer` to the request's X-Forwarded-For; the core decides
    which of the addresses to believe (`grpc_api.client_address`)."""
    pairs: list[tuple[str, str]] = []
    for header, key in FORWARDED_REQUEST_HEADERS:
        value = headers.get(header)
        if value is None:
            continue
        if not _PRINTABLE_ASCII.fullmatch(value):
            raise BadHeaderError(_display_name(header))
        pairs.append((key, value))
    if peer:
        forwarded = headers.get(FORWARDED_FOR, "")
        if forwarded and _PRINTABLE_ASCII.fullmatch(forwarded):  # unreadable: only the peer counts
            pairs.append((FORWARDED_FOR, f"{forwarded}, {peer}"))
        else:
            pairs.append((FORWARDED_FOR, peer))
    return tuple(pairs)


def response_headers(*metadata: MetadataPairs | None) -> dict[str, str]:
    """HTTP headers copied from core metadata; later metadata (the trailers) wins."""
    wanted = dict(COPIED_RESPONSE_METADATA)
    headers: dict[str, str] = {}
    for pairs in metadata:
        for key, value in pairs or ():
            header = wanted.get(key)
            if header is not None and isinstance(value, str):
                headers[header] = value
    return headers


def core_request_id(*metadata: MetadataPairs | None) -> str | None:
    """The request id the core gave the call (it mints its own: it keys the usage ledger)."""
    for pairs in metadata:
        for key, value in pairs or ():
            if key == "x-request-id" and isinstance(value, str):
                return value
    return None


def _display_name(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))
