"""What every simulated upstream shares: its loopback server, the record of requests, scenarios, pacing."""

from __future__ import annotations

import abc
import asyncio
import itertools
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

from aihub_core import json_text
from aihub_core.simulators.models import SimModel, select
from aihub_core.simulators.scenarios import SCENARIO_HEADER, Scenario, UnknownScenarioError, choose
from aihub_core.simulators.server import HTTPRequest, HTTPServer, Responder

_NOT_JSON = object()


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator received it; `client_gone` is set if the client hung up mid-answer."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    client_gone: asyncio.Event


class Simulator(abc.ABC):
    """A provider's wire protocol on 127.0.0.1 and an ephemeral port; `start` gives the base URL."""

    base_path: ClassVar[str]
    catalog: ClassVar[tuple[SimModel, ...]]

    def __init__(
        self,
        chunk_delay_ms: int = 20,
        models: Iterable[str] | None = None,
        *,
        scenario: str | None = None,
        api_key: str | None = None,
        record_limit: int = 32,
    ) -> None:
        self.chunk_delay = chunk_delay_ms / 1000
        self.models = select(self.catalog, models)
        self.scenario = scenario  # applies to every request that names none; tests may change it live
        self.api_key = api_key  # when set, requests must carry exactly this key
        self.requests: deque[RecordedRequest] = deque(maxlen=record_limit)  # bounded: the embedded default
        self._server = HTTPServer(self._handle)
        self._base_url: str | None = None
        self._released = asyncio.Event()

    @property
    def base_url(self) -> str:
        """The URL to configure as the provider's base URL (after `start`)."""
        if self._base_url is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._base_url

    async def start(self) -> str:
        """Listen on an ephemeral loopback port and return the base URL."""
        port = await self._server.start()
        self._base_url = f"http://127.0.0.1:{port}{self.base_path}"
        return self._base_url

    async def stop(self) -> None:
        """Stop listening and cut every connection."""
        await self._server.stop()
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def pick(self, request: HTTPRequest, suffix: str | None) -> Scenario:
        """This request's scenario (raises UnknownScenarioError, answered as a 400)."""
        return choose(request.headers.get(SCENARIO_HEADER), suffix, self.scenario)

    def release(self) -> None:
        """Let the requests held by the `held` scenario answer, and those that come later too."""
        self._released.set()

    async def first_byte(self, scenario: Scenario) -> None:
        """The scenario's silence before the response starts."""
        await self.pace(scenario.first_byte_delay)
        if scenario.held:
            await self._released.wait()

    async def pace(self, seconds: float | None = None) -> None:
        """Wait between two chunks as a model would (`chunk_delay_ms`), or as long as told."""
        delay = self.chunk_delay if seconds is None else seconds
        if delay > 0:
            await asyncio.sleep(delay)

    async def write(self, responder: Responder, data: bytes, scenario: Scenario) -> None:
        """Send one event; under `unicode`, in fragments cut inside characters and line ends,
        and cut wherever one of the scenario's absolute `fragment_offsets` falls inside it."""
        start = responder.written
        cuts = set(_cuts(data)) if scenario.unicode else set()
        cuts.update(offset - start for offset in scenario.fragment_offsets if 0 < offset - start < len(data))
        edges = [0, *sorted(cuts), len(data)]
        for a, b in itertools.pairwise(edges):
            await responder.write(data[a:b])

    @staticmethod
    def event_end(scenario: Scenario, crlf: bool) -> bytes:
        """The blank line that ends an event: the provider's own framing unless the scenario forces one."""
        return b"\r\n\r\n" if (crlf if scenario.crlf is None else scenario.crlf) else b"\n\n"

    async def send_json(
        self, responder: Responder, status: int, body: object, headers: dict[str, str] | None = None
    ) -> None:
        """A whole JSON response."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        await responder.send(status, {"content-type": "application/json", **(headers or {})}, data)

    @abc.abstractmethod
    async def route(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        """Answer one request; `body` is its JSON, or None when it had none."""

    @abc.abstractmethod
    async def reject(self, responder: Responder, status: int, message: str) -> None:
        """Answer with an error in the provider's own shape."""

    async def _handle(self, request: HTTPRequest, responder: Responder) -> None:
        try:
            body = json_text.loads(request.body) if request.body else None
        except ValueError:
            body = _NOT_JSON
        recorded = None if body is _NOT_JSON else body
        self.requests.append(
            RecordedRequest(
                request.method, request.path, request.query, request.headers, recorded, request.client_gone
            )
        )
        if body is _NOT_JSON:
            await self.reject(responder, 400, "the request body is not valid JSON")
            return
        try:
            await self.route(request, body, responder)
        except UnknownScenarioError as exc:
            await self.reject(responder, 400, str(exc))


def fragments(data: bytes) -> list[bytes]:
    """`data` cut right after every UTF-8 lead byte and every CR, and in the middle."""
    edges = [0, *_cuts(data), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _cuts(data: bytes) -> list[int]:
    cuts = {len(data) // 2}
    for i in range(1, len(data)):
        if data[i - 1] >= 0xC0 or data[i - 1] == 0x0D:
            cuts.add(i)
    return sorted(c for c in cuts if 0 < c < len(data))
