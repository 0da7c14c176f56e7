"""The operator's webhook: each recorded crossing POSTed, signed, at least once.

The store's events are the outbox. Every core process runs a `WebhookDelivery` loop: it claims due
events with a lease (one left by a process that died is sent again once its lease ends), POSTs
each, and marks it delivered on a 2xx;
otherwise it is due again after a backoff that doubles from `retry_seconds` up to
`max_retry_seconds`, for as long as it takes. Undelivered events survive restarts. A receiver may
see an event twice (the POST succeeded but the gateway stopped before recording it): it
de-duplicates by the event id.

What the lease holds: an attempt POSTs only if its claim has at least `timeout_seconds` left
(an event whose claim waited too long in the store is left to lapse and be claimed again), and
the POST is cut at `timeout_seconds`, so while the clocks of the replicas agree, an attempt's
POST ends before its lease does and no other process sends the event meanwhile. A failed
attempt's outcome is recorded only while its own claim still holds the event (a late failure
never clears another process's claim); a delivery is recorded whatever claim holds it. A
receiver may still see an event twice (at least once), never from two claims at once unless a
clock is skewed by more than the lease's margin.

The signature (`X-AIHub-Signature: v1=<hex>`) is HMAC-SHA256 with the secret over
`<X-AIHub-Timestamp>.<body>`, Stripe's scheme: a receiver recomputes it and refuses old
timestamps, so a captured request cannot be replayed later (README, "Usage alerts").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from yarl import URL

from aihub_core.alerts.metrics import AlertMetrics
from aihub_core.providers._http import env_proxy
from aihub_core.store.base import AlertDelivery, Store

log = logging.getLogger("aihub.alerts")
SIGNATURE_VERSION = "v1"


@dataclass(frozen=True)
class WebhookConfig:
    """`[alerts]` in AIHUB_CONFIG: where crossings go and the secret they are signed with (read
    from the environment variable `secret_env` at start), and the delivery's timings."""

    url: str
    secret: str = field(repr=False)
    secret_env: str = ""
    retry_seconds: float = 5.0
    max_retry_seconds: float = 3600.0
    timeout_seconds: float = 10.0
    poll_seconds: float = 2.0
    give_up_after_hours: float | None = None
    """Stop retrying an event this long after it was recorded (None: never); an operator may
    still retry it (`aihub alerts retry`)."""

    @property
    def origin(self) -> str:
        """The URL's scheme://host[:port], what may be logged: its path or query may hold a
        secret (Slack- and Discord-style hooks), and its user:password@ one."""
        parsed = URL(self.url)
        port = "" if parsed.explicit_port is None else f":{parsed.explicit_port}"
        host = f"[{parsed.raw_host}]" if ":" in (parsed.raw_host or "") else parsed.raw_host
        return f"{parsed.scheme}://{host}{port}"

    @property
    def lease_seconds(self) -> float:
        """How long one claim holds its event against the other replicas: its timeout and a 5 s
        margin (an attempt POSTs only with `timeout_seconds` of it left); an attempt cut by a
        crash is taken again that long after it was claimed."""
        return self.timeout_seconds + 5.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-AIHub-Signature` header of a body sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(secret: str, headers: dict[str, str], body: bytes, now: float, tolerance: float = 300) -> bool:
    """Whether a received request is signed with the secret and recent (what a receiver does)."""
    try:
        timestamp = int(headers["x-aihub-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), headers.get("x-aihub-signature", ""))


def backoff(config: WebhookConfig, attempts: int) -> float:
    """Seconds until the next try after `attempts` failed ones: doubling, capped."""
    return float(min(config.max_retry_seconds, config.retry_seconds * 2 ** min(attempts - 1, 40)))


class WebhookDelivery:
    """The delivery loop of one process."""

    def __init__(
        self,
        store: Store,
        config: WebhookConfig,
        client: aiohttp.ClientSession,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch: int = 20,
        metrics: AlertMetrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics or AlertMetrics(store)
        self._config = config
        self._client = client
        # HTTP(S)_PROXY / NO_PROXY, read once at start as the providers read them.
        self._proxy, self._proxy_auth = env_proxy(config.url)
        self._now = now
        self._batch = batch
        self._due = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the loop in the background."""
        self._task = asyncio.create_task(self._loop(), name="aihub-alerts-webhook")

    async def stop(self) -> None:
        """Stop the loop; an attempt under way is abandoned (its lease lapses, it is sent again)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Something was recorded here: look for due events now rather than at the next poll."""
        self._due.set()

    async def _loop(self) -> None:
        while True:
            self._due.clear()
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("delivering usage alerts failed; retrying")
                sent = 0
            if sent < self._batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), timeout=self._config.poll_seconds)

    async def run_once(self) -> int:
        """Claim the due events and try each once; how many were tried."""
        now = self._now()
        lease = now + timedelta(seconds=self._config.lease_seconds)
        claimed = await self._store.claim_alert_deliveries(now, lease, self._batch)
        await asyncio.gather(*(self._attempt(d, lease) for d in claimed))
        return len(claimed)

    async def _attempt(self, delivery: AlertDelivery, lease: datetime) -> None:
        left = (lease - self._now()).total_seconds()
        if left < self._config.timeout_seconds:
            # The claim waited (a busy store): a POST now could outlive it and overlap another
            # process's. Leave it to lapse; it is claimed again then.
            log.warning(
                "usage alert %s left for later: its claim has %.1f s left, less than the timeout",
                delivery.event_id,
                left,
            )
            return
        body = delivery.payload.encode()
        timestamp = int(self._now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "AIHub-Webhook/1",
            "X-AIHub-Event-Id": delivery.event_id,
            "X-AIHub-Timestamp": str(timestamp),
            "X-AIHub-Signature": signature(self._config.secret, timestamp, body),
        }
        error = ""
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_seconds)
        try:
            # Never follow a redirect: a 301/302 would turn the POST into a GET without the body
            # (answered 200, the event marked delivered though it never arrived) and carry the
            # signed headers to wherever the Location points. A 3xx is a failed attempt.
            async with self._client.post(
                self._config.url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            ) as response:
                if 300 <= response.status < 400:
                    where = response.headers.get("Location", "")
                    error = f"HTTP {response.status} (redirect to {where or 'nowhere'}, not followed)"
                elif not 200 <= response.status < 300:
                    error = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as err:
            error = f"{type(err).__name__}: {err}"
        now = self._now()
        attempts = delivery.attempts + 1
        self._metrics.attempted(delivered=not error)
        if not error:
            await self._store.finish_alert_delivery(delivery.event_id, now, now, "")
            return
        give_up = self._config.give_up_after_hours
        if give_up is not None and await self._store.give_up_alert_delivery(
            delivery.event_id, now - timedelta(hours=give_up), error, claimed=lease
        ):
            self._metrics.gave_up()
            log.error(
                "usage alert %s not delivered (attempt %d: %s); giving up after %g hours",
                delivery.event_id,
                attempts,
                error,
                give_up,
            )
            return
        delay = backoff(self._config, attempts)
        log.warning(
            "usage alert %s not delivered (attempt %d: %s); retrying in %.1f s",
            delivery.event_id,
            attempts,
            error,
            delay,
        )
        await self._store.finish_alert_delivery(
            delivery.event_id, None, now + timedelta(seconds=delay), error, claimed=lease
        )
