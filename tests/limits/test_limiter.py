import pytest

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.in_process import Limiter
from aihub_core.limits.plans import BUILTIN_PLANS, Plan
from aihub_core.limits.rules import Demand, effective_limit

FREE = BUILTIN_PLANS["free"]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("plan", "key", "expected"), [(20, None, 20), (20, 5, 5), (0, 7, 7), (0, None, 0)])
def test_effective_limit_is_the_lower_one(plan: int, key: int | None, expected: int) -> None:
    assert effective_limit(plan, key) == expected


def test_key_limit_refuses_the_request_past_it_and_resets_next_minute() -> None:
    clock = Clock(1_000_020.0)
    limiter = Limiter(clock)
    caller = Caller("u1", FREE, key_id="k1", key_requests_per_minute=3)
    states = [limiter.take(caller, Demand()).state for _ in range(3)]
    assert [s.remaining for s in states] == [2, 1, 0]
    assert {s.limit for s in states} == {3}
    assert {s.reset_epoch for s in states} == {1_000_020 // 60 * 60 + 60}
    with pytest.raises(RateLimitError) as info:
        limiter.take(caller, Demand())
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.retry_after == 1_000_020 // 60 * 60 + 60 - 1_000_020
    assert ("x-ratelimit-remaining", "0") in info.value.response_metadata
    clock.now += 60
    assert limiter.take(caller, Demand()).state.remaining == 2


def test_plan_limit_is_shared_by_all_keys_of_a_user() -> None:
    limiter = Limiter(Clock(0.0))
    for i in range(FREE.requests_per_minute):
        limiter.take(Caller("u1", FREE, key_id=f"k{i % 2}"), Demand())
    with pytest.raises(RateLimitError):
        limiter.take(Caller("u1", FREE, key_id="k3"), Demand())
    assert (
        limiter.take(Caller("u2", FREE, key_id="k9"), Demand()).state.remaining
        == FREE.requests_per_minute - 1
    )


def test_tokens_are_reserved_then_settled_to_what_was_used() -> None:
    limiter = Limiter(Clock(0.0))
    caller = Caller("u1", FREE)
    first = limiter.take(caller, Demand(tokens=3000))
    with pytest.raises(RateLimitError) as info:
        limiter.take(caller, Demand(tokens=2500))
    assert info.value.code == "tokens_rate_limit_exceeded"
    limiter.release(first, tokens_used=500)  # the estimate was generous
    limiter.take(caller, Demand(tokens=4500))
    with pytest.raises(RateLimitError):
        limiter.take(caller, Demand(tokens=1))


def test_a_refused_demand_consumes_nothing() -> None:
    limiter = Limiter(Clock(0.0))
    caller = Caller("u1", FREE)
    with pytest.raises(RateLimitError):
        limiter.take(caller, Demand(tokens=FREE.tokens_per_minute + 1))
    assert limiter.peek(caller).remaining == FREE.requests_per_minute
    assert limiter.take(caller, Demand(tokens=FREE.tokens_per_minute)).state.remaining == 19


def test_concurrency_slots_are_held_until_release() -> None:
    limiter = Limiter(Clock(0.0))
    caller = Caller("u1", FREE)
    grants = [limiter.take(caller, Demand(concurrent=True)) for _ in range(FREE.concurrent_requests)]
    with pytest.raises(RateLimitError) as info:
        limiter.take(caller, Demand(concurrent=True))
    assert info.value.code == "concurrency_limit_exceeded" and info.value.retry_after == 1
    limiter.take(caller, Demand())  # calls that hold no slot still pass
    limiter.release(grants[0])
    limiter.release(grants[0])  # releasing twice frees one slot only
    limiter.take(caller, Demand(concurrent=True))
    assert limiter.in_flight("u1") == FREE.concurrent_requests


def test_zero_means_no_limit() -> None:
    limiter = Limiter(Clock(0.0))
    caller = Caller("u1", Plan("internal", 0, 0, 0, 0))
    for _ in range(500):
        limiter.take(caller, Demand(tokens=10_000, concurrent=True))
    assert limiter.in_flight("u1") == 500
