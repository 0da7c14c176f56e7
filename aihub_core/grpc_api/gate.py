"""The per-call gate: request id, authentication, admission per the RPC's access rule, and the
metadata that goes back."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

import grpc

from aihub_core.auth import credentials
from aihub_core.errors import AIHubError, AuthenticationError, PermissionDeniedError
from aihub_core.grpc_api.access import Access
from aihub_core.grpc_api.errors import error_trailers
from aihub_core.identity import Caller
from aihub_core.inprocess.context import LocalContext
from aihub_core.limits.admitter import Admitter
from aihub_core.limits.rules import RateState


class Authenticator(Protocol):
    """Turns a bearer credential into a Caller, or raises AuthenticationError."""

    async def from_api_key(self, secret: str) -> Caller: ...

    async def from_jwt(self, token: str) -> Caller: ...

    def is_api_key(self, secret: str) -> bool: ...


@dataclass
class Call:
    """One RPC in flight, as the servicers see it."""

    request_id: str
    context: grpc.aio.ServicerContext[object, object]
    authorization: str = ""
    idempotency_key: str | None = None
    caller: Caller | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    sent_metadata: bool = field(default=False)
    # For the access log: whether the call came over the network (not the shim's in-process
    # channel), when it started, and the model and Usage message its answer named.
    remote: bool = False
    started: float = 0.0
    usage: tuple[str, Any] | None = None

    @property
    def user(self) -> Caller:
        """The authenticated caller (every non-public RPC has one)."""
        if self.caller is None:
            raise AuthenticationError("This call requires credentials")
        return self.caller


def _incoming(context: grpc.aio.ServicerContext[object, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, str):
            out[key.lower()] = value
    return out


def _bearer(authorization: str, expected: credentials.Expected) -> str:
    raw = authorization.strip()
    if not raw:
        raise credentials.missing(expected)
    scheme, _, value = raw.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise credentials.not_bearer(expected)
    return value.strip()


def _lacks(permission: str, held: frozenset[str]) -> PermissionDeniedError:
    has = ", ".join(sorted(held)) or "none"
    return PermissionDeniedError(
        f"This API key lacks the '{permission}' permission (it has: {has})",
        details={"required_permission": permission},
        suggestion=f'Create a key with "permissions": ["{permission}", ...] with POST /v1/developer/api-keys '
        "(without `permissions` a key gets all three)",
    )


class Gate:
    """Opens, admits and fails calls; one instance per server."""

    def __init__(self, authenticator: Authenticator, admitter: Admitter) -> None:
        self._auth = authenticator
        self._admitter = admitter

    def open(self, context: grpc.aio.ServicerContext[object, object]) -> Call:
        """Start a call under a request id minted here, never the caller's: it keys the usage
        ledger, and a caller-chosen id could collide with (and so erase) another call's record."""
        headers = _incoming(context)
        return Call(
            f"req_{secrets.token_hex(12)}",
            context,
            authorization=headers.get("authorization", ""),
            idempotency_key=headers.get("idempotency-key") or None,
            remote=not isinstance(context, LocalContext),
            started=time.perf_counter(),
        )

    async def recheck(self, call: Call) -> Caller:
        """Check a long call's credential again: a key deleted or expired, or a login token logged
        out, since the call began ends it with the error a new call would get (each check is the
        auth cache's, as a new call's is); the caller as it stands now."""
        secret = _bearer(call.authorization, "api_key")
        if credentials.looks_like_jwt(secret):
            return await self._auth.from_jwt(secret)
        return await self._auth.from_api_key(secret)

    async def admit(self, call: Call, access: Access) -> None:
        """Authenticate and admit per the RPC's access rule, then send the initial metadata."""
        if access.credential == "jwt":
            call.caller = await self._auth.from_jwt(_bearer(call.authorization, "jwt"))
        elif access.credential in ("api_key", "api_key_or_jwt"):
            secret = _bearer(call.authorization, "api_key")
            if access.credential == "api_key_or_jwt" and credentials.looks_like_jwt(secret):
                # The account's own reports read with the login token (the web console): a read
                # of the user's, never of the minute an application's keys share.
                call.caller = await self._auth.from_jwt(secret)
            else:
                if not self._auth.is_api_key(secret):
                    raise credentials.not_an_api_key(secret)
                caller = await self._auth.from_api_key(secret)
                call.caller = caller
                if access.permission and access.permission not in caller.permissions:
                    raise _lacks(access.permission, caller.permissions)
                if access.demand is None:
                    return  # the use case admits, and reports its figures (send_limits)
        if call.caller is not None and access.demand is not None:
            grant = await self._admitter.admit(call.caller, access.demand)
            call.metadata = grant.state.metadata()
        await self.send_metadata(call)

    async def send_limits(self, call: Call, state: RateState) -> None:
        """Send the metadata of a call its use case admitted (or answered uncounted, as a replay)
        with these rate-limit figures."""
        call.metadata = state.metadata()
        await self.send_metadata(call)

    async def send_metadata(self, call: Call) -> None:
        """Send x-request-id (and any rate-limit figures) once, before the first message."""
        if not call.sent_metadata:
            call.sent_metadata = True
            await call.context.send_initial_metadata((("x-request-id", call.request_id), *call.metadata))

    async def fail(self, call: Call, err: AIHubError) -> NoReturn:
        """End the call with the error's rich status; the error's metadata goes out as well."""
        if not call.metadata:
            if err.response_metadata:
                call.metadata = err.response_metadata
            elif call.caller is not None and call.caller.key_id is not None:
                # Every key-authenticated answer carries the figures, refusals included; when
                # the limiter itself is down there are none to send.
                with contextlib.suppress(AIHubError):
                    call.metadata = (await self._admitter.peek(call.caller)).metadata()
        await self.send_metadata(call)
        trailers = error_trailers(err, call.request_id)
        await call.context.abort(err.grpc_code, err.message, trailing_metadata=(*trailers, *call.metadata))
        raise AssertionError("abort returned")  # pragma: no cover - abort always raises
