"""A real gateway (core + shim over HTTP on a free port) and Debian's chromium driven by
Playwright, shared by the console's browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_http.app import create_app
from tests.conftest import isolated_settings
from tests.console.browser import chromium
from tests.fake_clock import FakeClock


@pytest.fixture
async def console_gateway(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[str, Core]]:
    """The console's address and the core behind it (whose store makes an admin)."""
    # A few milliseconds between stream chunks, so the answer visibly arrives in pieces.
    core = await Core.start(isolated_settings(tmp_path, simulator_chunk_delay_ms=5), clock=clock)
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.port}", core
    finally:
        await server.stop()
        await core.stop(grace=0)


@pytest.fixture
def console_url(console_gateway: tuple[str, Core]) -> str:
    return console_gateway[0]


# Room for a loaded CI machine; a passing run waits for none of it.
expect.set_options(timeout=15_000)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


class Problems:
    """Errors the page reported: console errors, uncaught exceptions, failed requests."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.seen.append(f"console: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.seen.append(f"pageerror: {error}"))
        return page
