"""The event loop `aihub serve` runs on: uvloop unless the environment asks for asyncio's."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from aihub_cli.loop import loop_factory, run_fast


def test_uvloop_is_the_default() -> None:
    assert loop_factory({}) is uvloop.new_event_loop
    assert loop_factory({"AIHUB_EVENT_LOOP": "uvloop"}) is uvloop.new_event_loop


def test_the_environment_can_ask_for_asyncios_own_loop() -> None:
    assert loop_factory({"AIHUB_EVENT_LOOP": "asyncio"}) is asyncio.new_event_loop


def test_an_unknown_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="AIHUB_EVENT_LOOP"):
        loop_factory({"AIHUB_EVENT_LOOP": "trio"})


def test_run_fast_runs_on_uvloop() -> None:
    async def which() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    assert run_fast(which()) is uvloop.Loop
