"""Bursts of calls against upstreams that hold every admitted call in flight (the simulators'
`held` scenario) until the burst is decided: no guessed delay keeps them there."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from aihub_core.simulators import Simulator
from tests.waiting import eventually

T = TypeVar("T")


async def burst_while_held(upstreams: Sequence[Simulator], calls: Sequence[Awaitable[T]]) -> list[T]:
    """Make `calls` at once while `upstreams` (on `held`) keep every admitted one in flight;
    release them once each call has been refused or has reached an upstream."""

    # The requests already recorded, kept alive so that their ids stay theirs; the record is
    # bounded, so new arrivals are told apart by identity, not by its length.
    earlier = [request for upstream in upstreams for request in upstream.requests]
    known = {id(request) for request in earlier}
    tasks = [asyncio.ensure_future(call) for call in calls]

    def decided() -> bool:
        arrived = sum(id(r) not in known for upstream in upstreams for r in upstream.requests)
        return sum(task.done() for task in tasks) + arrived == len(tasks)

    await eventually(decided, "every call refused or in flight")
    for upstream in upstreams:
        upstream.release()
    return list(await asyncio.gather(*tasks))
