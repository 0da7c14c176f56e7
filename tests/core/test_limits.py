import pytest

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits import MinuteLimiter, effective_limit
from aihub_core.plans import BUILTIN_PLANS


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
    limiter = MinuteLimiter(clock)
    caller = Caller("u1", BUILTIN_PLANS["free"], key_id="k1", key_requests_per_minute=3)
    states = [limiter.admit(caller) for _ in range(3)]
    assert [s.remaining for s in states] == [2, 1, 0]
    assert {s.limit for s in states} == {3}
    assert {s.reset_epoch for s in states} == {1_000_020 // 60 * 60 + 60}
    with pytest.raises(RateLimitError) as info:
        limiter.admit(caller)
    assert info.value.retry_after == 1_000_020 // 60 * 60 + 60 - 1_000_020
    assert ("x-ratelimit-remaining", "0") in info.value.response_metadata
    clock.now += 60
    assert limiter.admit(caller).remaining == 2


def test_plan_limit_is_shared_by_all_keys_of_a_user() -> None:
    limiter = MinuteLimiter(Clock(0.0))
    plan = BUILTIN_PLANS["free"]
    for i in range(plan.requests_per_minute):
        limiter.admit(Caller("u1", plan, key_id=f"k{i % 2}"))
    with pytest.raises(RateLimitError):
        limiter.admit(Caller("u1", plan, key_id="k3"))
    assert limiter.admit(Caller("u2", plan, key_id="k9")).remaining == plan.requests_per_minute - 1
