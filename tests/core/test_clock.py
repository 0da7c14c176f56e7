import asyncio
import time
from datetime import UTC

from aihub_core.clock import Clock, SystemClock
from tests.fake_clock import FakeClock


async def test_the_system_clock_reads_the_real_time() -> None:
    clock: Clock = SystemClock()
    before = time.time()
    now = clock.now()
    assert now.tzinfo is UTC and before - 1 < now.timestamp() < time.time() + 1
    assert before - 1 < clock.time() < time.time() + 1
    started = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() - started >= 0.01


async def test_the_fake_clock_skips_and_records_its_waits() -> None:
    fake = FakeClock()
    clock: Clock = fake
    started, wall = clock.monotonic(), clock.time()
    await asyncio.wait_for(clock.sleep(3600), timeout=1)
    assert fake.slept == [3600]
    assert clock.monotonic() - started >= 3600 and clock.time() - wall >= 3600
    fake.clear_of_minute_boundary(margin=60)  # any moment is within 60 s of the boundary
    assert clock.time() % 60 < 1
