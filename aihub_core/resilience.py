"""Retry and circuit-breaker rules for upstream calls, as pure logic over an injected clock.

Nothing here sleeps or calls anything: `RetryPolicy` says how long to wait before the next
attempt (or that there should be none), `CircuitBreaker` says whether a model of a service may be called.
`aihub_core.chat.routing` applies them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError

# Codes whose failure says nothing about the request itself, so the same call may succeed later.
_RETRYABLE_CODES = frozenset({"upstream_error", "upstream_rate_limited", "circuit_open"})
# Upstream statuses that blame the request (bad input, bad key, no such model): retrying cannot help.
# 408, 409 and 429 are the 4xx that openai-python retries too.
_RETRYABLE_4XX = frozenset({408, 409, 429})


def is_retryable(err: BaseException) -> bool:
    """Whether the same call may succeed if sent again: the provider's verdict first, then the kind."""
    if not isinstance(err, UpstreamError):
        return False  # our own bugs and the caller's cancellation are never retried
    verdict = err.details.get("retryable")
    if verdict is not None:
        return verdict == "true"
    if isinstance(err, UpstreamAuthError):
        return False
    if isinstance(err, UpstreamTimeoutError):
        return True
    status = err.details.get("upstream_status", "")
    if status.isdigit() and 400 <= int(status) < 500 and int(status) not in _RETRYABLE_4XX:
        return False
    return err.code in _RETRYABLE_CODES


def is_back_pressure(err: BaseException) -> bool:
    """A provider's 429 that names a wait: it is busy, not broken, and the wait is honoured, so a
    circuit breaker does not count it as a failure (a 429 without a wait still counts)."""
    return (
        isinstance(err, UpstreamError)
        and err.details.get("upstream_status") == "429"
        and is_retryable(err)
        and retry_after(err) is not None
    )


def retry_after(err: BaseException) -> float | None:
    """The wait the provider asked for, in seconds, if it named one."""
    if not isinstance(err, UpstreamError):
        return None
    try:
        wait = float(err.details["retry_after"])
    except (KeyError, ValueError):
        return None
    return max(0.0, wait) if wait == wait else None  # NaN is no answer


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one upstream before the first byte.

    Backoff is "full jitter": a uniform wait in [0, min(max_delay, base_delay * 2**n)), which
    spreads a crowd of retrying callers instead of sending them back in lockstep.
    """

    max_retries: int = 2
    base_delay: float = 0.25
    max_delay: float = 4.0
    # A provider asking for a longer wait than this is better left for a fallback model.
    max_retry_after: float = 10.0

    def backoff_ceiling(self, retry: int) -> float:
        """The upper bound of the wait before retry number `retry` (0 is the first retry)."""
        return min(self.max_delay, self.base_delay * 2.0**retry)

    def backoff(self, retry: int, random: Callable[[], float]) -> float:
        """A jittered wait before retry number `retry`; `random` gives values in [0, 1)."""
        return random() * self.backoff_ceiling(retry)

    def delay(self, err: BaseException, retry: int, random: Callable[[], float]) -> float | None:
        """The wait before retry number `retry` after `err`, or None when it must not be retried."""
        if retry >= self.max_retries or not is_retryable(err):
            return None
        asked = retry_after(err)
        if asked is None:
            return self.backoff(retry, random)
        return asked if asked <= self.max_retry_after else None


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    """When a model's breaker opens, and for how long."""

    failure_threshold: int = 5
    # Consecutive failures count only if they all fall within this many seconds.
    window: float = 60.0
    cooldown: float = 30.0


class CircuitBreaker:
    """One model's breaker: closed → open after repeated failures → half-open probe → closed.

    While open, calls fail fast instead of adding load to a struggling upstream and latency to
    every caller. After the cool-down exactly one call (the probe) goes through; its success
    closes the breaker and its failure re-opens it for another cool-down.
    """

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self._failures: deque[float] = deque(maxlen=policy.failure_threshold)
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self._policy.cooldown - self._clock())

    def allow(self) -> bool:
        """Whether a call may go out now; a True in half-open makes that call the probe."""
        if self._state is BreakerState.OPEN:
            if self.retry_in() > 0:
                return False
            self._state = BreakerState.HALF_OPEN
        if self._state is BreakerState.HALF_OPEN:
            if self._probing:
                return False
            self._probing = True
        return True

    def record_success(self) -> None:
        """The service answered: close and forget past failures."""
        self._state = BreakerState.CLOSED
        self._failures.clear()
        self._probing = False

    def record_failure(self) -> None:
        """The service failed in a way that says it is unhealthy."""
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            self._open(now)
            return
        self._failures.append(now)
        if (
            len(self._failures) == self._policy.failure_threshold
            and now - self._failures[0] <= self._policy.window
        ):
            self._open(now)

    def abandon(self) -> None:
        """The call ended without a verdict (cancelled, or our own bug): free the probe slot."""
        self._probing = False

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._failures.clear()
        self._probing = False
