"""The shared upstream client: the connect bound, and the proxy settings it takes from the environment."""

from __future__ import annotations

import json
import socket
import time

import pytest

from aihub_core.errors import UpstreamTimeoutError
from aihub_core.messages import Message, ProviderRequest
from aihub_core.providers._http import upstream_session
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators.server import HTTPRequest, HTTPServer, Responder

ANSWER = {"choices": [{"message": {"content": "answered"}, "finish_reason": "stop"}]}


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
async def test_an_upstream_is_reached_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    seen: list[HTTPRequest] = []

    async def proxy(request: HTTPRequest, responder: Responder) -> None:
        seen.append(request)
        await responder.send(200, {"content-type": "application/json"}, json.dumps(ANSWER).encode())

    server = HTTPServer(proxy)
    port = await server.start()
    monkeypatch.setenv(variable, f"http://127.0.0.1:{port}")
    try:
        async with upstream_session() as client:
            provider = OpenAICompatibleProvider(
                "up", "http://upstream.invalid/v1", "k", client, UpstreamTimeouts()
            )
            done = await provider.complete(ProviderRequest("m", (Message.of("user", "Hi"),)))
    finally:
        await server.stop()
    assert done.text == "answered"
    assert (seen[0].path, seen[0].headers["host"]) == ("/v1/chat/completions", "upstream.invalid")


async def test_no_proxy_exempts_an_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    async def upstream(request: HTTPRequest, responder: Responder) -> None:
        await responder.send(200, {"content-type": "application/json"}, json.dumps(ANSWER).encode())

    server = HTTPServer(upstream)
    port = await server.start()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        async with upstream_session() as client:
            provider = OpenAICompatibleProvider(
                "up", f"http://127.0.0.1:{port}/v1", "k", client, UpstreamTimeouts()
            )
            done = await provider.complete(ProviderRequest("m", (Message.of("user", "Hi"),)))
    finally:
        await server.stop()
    assert done.text == "answered"


async def test_a_connect_that_is_never_accepted_times_out_after_the_connect_bound() -> None:
    # A listener whose accept queue is full: the kernel drops further SYNs, so connects hang.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        try:
            async with upstream_session() as client:
                timeouts = UpstreamTimeouts(connect=0.2, first_byte=5)
                provider = OpenAICompatibleProvider(
                    "up", f"http://127.0.0.1:{port}/v1", "k", client, timeouts
                )
                started = time.monotonic()
                with pytest.raises(
                    UpstreamTimeoutError, match=r"did not accept a connection within 0\.2s"
                ) as raised:
                    await provider.complete(ProviderRequest("m", (Message.of("user", "Hi"),)))
        finally:
            for filler in fillers:
                filler.close()
    assert time.monotonic() - started < 1
    assert raised.value.details["retryable"] == "true"
