"""Retry classification, backoff and the circuit breaker, from tables with an injected clock."""

from __future__ import annotations

import pytest

from aihub_core.errors import (
    InvalidRequestError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeoutError,
)
from aihub_core.resilience import (
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    RetryPolicy,
    is_retryable,
    retry_after,
)


def _recoded(err: UpstreamError, code: str) -> UpstreamError:
    err.code = code
    return err


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (UpstreamError("503"), True),
        (UpstreamError("429", code="upstream_rate_limited"), True),
        (UpstreamTimeoutError("slow"), True),
        (UpstreamAuthError("bad key"), False),
        (UpstreamError("400", details={"upstream_status": "400"}), False),
        (UpstreamError("404", details={"upstream_status": "404"}), False),
        (UpstreamError("408", details={"upstream_status": "408"}), True),
        (UpstreamError("502", details={"upstream_status": "502"}), True),
        # A code outside the retryable few is not retried. Every contract code a plain
        # UpstreamError may carry is one of them, so the odd code is set after construction.
        (_recoded(UpstreamError("odd"), "upstream_blocked"), False),
        # The provider's own verdict wins over the class and the code.
        (UpstreamError("per-day quota", code="upstream_rate_limited", details={"retryable": "false"}), False),
        (UpstreamAuthError("flaky auth proxy", details={"retryable": "true"}), True),
        (InvalidRequestError("ours"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_is_retryable(error: BaseException, retryable: bool) -> None:
    assert is_retryable(error) is retryable


@pytest.mark.parametrize(
    ("details", "wait"),
    [
        ({"retry_after": "12"}, 12.0),
        ({"retry_after": "0.42"}, 0.42),
        ({"retry_after": "-3"}, 0.0),
        ({"retry_after": "soon"}, None),
        ({"retry_after": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_the_details(details: dict[str, str], wait: float | None) -> None:
    assert retry_after(UpstreamError("429", code="upstream_rate_limited", details=details)) == wait


@pytest.mark.parametrize(("retry", "ceiling"), [(0, 0.25), (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)])
def test_backoff_doubles_up_to_the_cap_with_full_jitter(retry: int, ceiling: float) -> None:
    policy = RetryPolicy(max_retries=10)
    assert policy.backoff_ceiling(retry) == ceiling
    assert policy.backoff(retry, lambda: 0.0) == 0.0
    assert policy.backoff(retry, lambda: 0.5) == ceiling / 2
    assert ceiling * 0.99 <= policy.backoff(retry, lambda: 0.999999) < ceiling


def test_retries_stop_after_max_retries() -> None:
    policy = RetryPolicy()  # the defaults: 2 retries, base 0.25 s, cap 4 s
    err = UpstreamError("503")
    assert [policy.delay(err, retry, lambda: 1.0) for retry in range(4)] == [0.25, 0.5, None, None]


def test_a_non_retryable_error_gets_no_retry() -> None:
    assert RetryPolicy().delay(UpstreamAuthError("bad key"), 0, lambda: 0.5) is None


@pytest.mark.parametrize(("asked", "wait"), [("0", 0.0), ("3.5", 3.5), ("10", 10.0), ("10.5", None)])
def test_the_providers_wait_is_honoured_up_to_the_cap(asked: str, wait: float | None) -> None:
    err = UpstreamError("429", code="upstream_rate_limited", details={"retry_after": asked})
    assert RetryPolicy(max_retry_after=10.0).delay(err, 0, lambda: 0.5) == wait


def state(b: CircuitBreaker) -> BreakerState:
    """Read through a call: mypy would otherwise narrow `b.state` across transitions."""
    return b.state


def breaker(clock: Clock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(BreakerPolicy(failure_threshold=threshold, window=60.0, cooldown=30.0), clock)


def test_the_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert state(b) is BreakerState.CLOSED
    b.record_failure()
    assert state(b) is BreakerState.OPEN and not b.allow()
    clock.now += 29.9
    assert not b.allow() and b.retry_in() == pytest.approx(0.1)


def test_a_success_resets_the_count() -> None:
    b = breaker(Clock())
    for failed in [True, True, False, True, True]:
        if failed:
            b.record_failure()
        else:
            b.record_success()
    assert state(b) is BreakerState.CLOSED


def test_failures_spread_wider_than_the_window_do_not_open_it() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(5):
        b.record_failure()
        clock.now += 31.0  # any three consecutive failures span 62 s > the 60 s window
    assert state(b) is BreakerState.CLOSED
    b.record_failure()
    clock.now += 1.0
    b.record_failure()
    assert state(b) is BreakerState.OPEN  # the last three span 32 s


@pytest.mark.parametrize(("probe_ok", "after"), [(True, BreakerState.CLOSED), (False, BreakerState.OPEN)])
def test_after_the_cooldown_one_probe_decides(probe_ok: bool, after: BreakerState) -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.record_failure()
    clock.now += 30.0
    assert b.allow()  # the probe
    assert state(b) is BreakerState.HALF_OPEN
    assert not b.allow()  # everyone else waits for its verdict
    if probe_ok:
        b.record_success()
    else:
        b.record_failure()
    assert state(b) is after
    assert b.allow() is (after is BreakerState.CLOSED)
    if after is BreakerState.OPEN:
        assert b.retry_in() == 30.0  # a fresh cool-down from the failed probe


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    b = breaker(clock, threshold=1)
    b.record_failure()
    clock.now += 30.0
    assert b.allow()
    b.abandon()
    assert state(b) is BreakerState.HALF_OPEN and b.allow()
