"""The admission script's semantics, from tables: every scenario runs through the in-process
`InProcessAdmitter` and through `RedisAdmitter` on Redis, and both must answer alike, to the letter of
each refusal (code, message, details, Retry-After, X-RateLimit-* figures); on one Redis and on a
Redis Cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.in_process import InProcessAdmitter
from aihub_core.limits.plans import BUILTIN_PLANS, Plan
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.rules import Demand, Grant
from tests.limits.redis.conftest import ON_BOTH, REQUEST, T0, Client, Clock, Ledger, StartAdmitter, chat, dump

FREE = BUILTIN_PLANS["free"]
UNLIMITED = Plan("internal", 0, 0, 0, 0)
TINY_QUOTA = Plan("tiny", 0, 0, 0, 3)


def key(limit: int | None = None, key_id: str = "k1", plan: Plan = FREE) -> Caller:
    return Caller("u1", plan, key_id=key_id, key_requests_per_minute=limit)


# A call that is not a model call (models, services, usage, quota, keys); a caller with a login token.
READ = Demand(read=True)
LOGIN = Caller("u1", FREE)


@dataclass(frozen=True)
class Admit:
    caller: Caller
    demand: Demand = REQUEST


@dataclass(frozen=True)
class Release:
    grant: int  # index among the admitted grants
    tokens_used: int | None = None


@dataclass(frozen=True)
class Tick:
    seconds: float


Step = Admit | Release | Tick
OK = "ok"

# (scenario, ledger count for the monthly quota, steps, what each Admit must answer)
SCENARIOS: list[tuple[str, int, list[Step], list[str]]] = [
    ("key limit", 0, [*[Admit(key(3))] * 4], [OK, OK, OK, "rate_limit_exceeded"]),
    (
        "plan limit shared by every key of the user",
        0,
        [*(Admit(key(key_id=f"k{i % 2}")) for i in range(20)), Admit(key(key_id="k3"))],
        [OK] * 20 + ["rate_limit_exceeded"],
    ),
    (
        "tokens held, then settled to what was used",
        0,
        [
            Admit(key(), chat(3000)),
            Admit(key(), chat(2500)),
            Release(0, tokens_used=500),
            Admit(key(), chat(4500)),
            Admit(key(), chat(1)),
        ],
        [OK, "tokens_rate_limit_exceeded", OK, "tokens_rate_limit_exceeded"],
    ),
    (
        "a refused demand consumes nothing",
        0,
        [Admit(key(), chat(5001)), Admit(key(), chat(5000))],
        ["tokens_rate_limit_exceeded", OK],
    ),
    (
        "concurrency slots held until release, once",
        0,
        [*[Admit(key(), chat())] * 4, Admit(key()), Release(0), Release(0), *[Admit(key(), chat())] * 2],
        [OK, OK, OK, "concurrency_limit_exceeded", OK, OK, "concurrency_limit_exceeded"],
    ),
    ("zero means no limit", 0, [*[Admit(key(plan=UNLIMITED), chat(10_000))] * 40], [OK] * 40),
    (
        "the next minute starts afresh",
        0,
        [Admit(key(1)), Admit(key(1)), Tick(60), Admit(key(1))],
        [OK, "rate_limit_exceeded", OK],
    ),
    (
        "monthly quota counted from the ledger, chat only",
        1,
        [*[Admit(key(plan=TINY_QUOTA), chat())] * 3, Admit(key(plan=TINY_QUOTA))],
        [OK, OK, "quota_exceeded", OK],
    ),
    (
        "a settlement after the minute lands in the new one",
        0,
        [Admit(key(), chat(4000)), Tick(60), Release(0, tokens_used=100), Admit(key(), chat(5000))],
        [OK, OK],
    ),
    (
        "reads count against neither the plan's nor the key's minute",
        0,
        [*[Admit(key(3), READ)] * 25, *[Admit(key(3))] * 4],
        [OK] * 28 + ["rate_limit_exceeded"],
    ),
    (
        "reads count against no quota",
        1,
        [
            *[Admit(key(plan=TINY_QUOTA), chat())] * 2,
            *[Admit(key(plan=TINY_QUOTA), READ)] * 5,
            Admit(key(plan=TINY_QUOTA), chat()),
        ],
        [OK] * 7 + ["quota_exceeded"],
    ),
    (
        "the read limit, per key and per login",
        0,
        [
            *[Admit(key(), READ)] * 601,
            Admit(key(key_id="k2"), READ),
            Admit(LOGIN, READ),
            Tick(60),
            Admit(key(), READ),
        ],
        [OK] * 600 + ["rate_limit_exceeded", OK, OK, OK],
    ),
    (
        "a settlement above the estimate takes from the minute",
        0,
        [Admit(key(), chat(1000)), Release(0, tokens_used=4500), Admit(key(), chat(600))],
        [OK, "tokens_rate_limit_exceeded"],
    ),
]


def describe(outcome: Grant | RateLimitError) -> tuple[object, ...]:
    if isinstance(outcome, Grant):
        return (OK, outcome.state)
    return (
        outcome.code,
        type(outcome).__name__,
        outcome.message,
        outcome.details,
        outcome.retry_after,
        outcome.response_metadata,
    )


async def play(
    admitter: InProcessAdmitter | RedisAdmitter, admitter_clock: Clock, steps: list[Step]
) -> list[tuple[object, ...]]:
    admitter_clock.now = T0
    grants: list[Grant] = []
    answers: list[tuple[object, ...]] = []
    for step in steps:
        if isinstance(step, Tick):
            admitter_clock.now += step.seconds
        elif isinstance(step, Release):
            admitter.release(grants[step.grant], step.tokens_used)
            if isinstance(admitter, RedisAdmitter):
                await admitter.flush()
        else:
            try:
                grant = await admitter.admit(step.caller, step.demand)
            except RateLimitError as err:
                answers.append(describe(err))
            else:
                grants.append(grant)
                answers.append(describe(grant))
    return answers


@ON_BOTH
@pytest.mark.parametrize(
    ("count", "steps", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
async def test_shared_admission_answers_as_one_process_does(
    start_admitter: StartAdmitter,
    admitter_clock: Clock,
    ledger: Ledger,
    count: int,
    steps: list[Step],
    expected: list[str],
) -> None:
    ledger.count = count
    local = await play(InProcessAdmitter(ledger, admitter_clock), admitter_clock, steps)
    shared = await play(await start_admitter(), admitter_clock, steps)
    assert [answer[0] for answer in local] == expected
    assert shared == local


@ON_BOTH
async def test_refusal_figures_and_retry_after(start_admitter: StartAdmitter, admitter_clock: Clock) -> None:
    admitter = await start_admitter()
    states = [(await admitter.admit(key(3), REQUEST)).state for _ in range(3)]
    reset = int(T0) // 60 * 60 + 60
    assert [(s.limit, s.remaining, s.reset_epoch) for s in states] == [
        (3, 2, reset),
        (3, 1, reset),
        (3, 0, reset),
    ]
    with pytest.raises(RateLimitError) as info:
        await admitter.admit(key(3), REQUEST)
    assert info.value.retry_after == reset - T0 == 55
    assert info.value.details["scope"] == "key"
    assert ("x-ratelimit-remaining", "0") in info.value.response_metadata
    assert (await admitter.peek(key(3))).remaining == 0
    admitter_clock.now += 60
    assert (await admitter.peek(key(3))).remaining == 3


@ON_BOTH
@pytest.mark.parametrize(
    ("caller", "demand", "code"),
    [
        (key(2), REQUEST, "rate_limit_exceeded"),
        (Caller("u1", Plan("p", 2, 0, 0, 0)), REQUEST, "rate_limit_exceeded"),
        (key(plan=Plan("p", 0, 100, 0, 0)), chat(40), "tokens_rate_limit_exceeded"),
        (key(plan=Plan("p", 0, 0, 2, 0)), chat(), "concurrency_limit_exceeded"),
        (key(plan=Plan("p", 0, 0, 0, 2)), chat(), "quota_exceeded"),
    ],
)
async def test_a_refusal_changes_nothing_in_redis(
    start_admitter: StartAdmitter,
    redis: Client,
    prefix: str,
    caller: Caller,
    demand: Demand,
    code: str,
) -> None:
    admitter = await start_admitter()
    for _ in range(2):
        await admitter.admit(caller, demand)
    before = await dump(redis, prefix)
    assert before  # the admissions were counted
    with pytest.raises(RateLimitError) as info:
        await admitter.admit(caller, demand)
    assert info.value.code == code
    assert await dump(redis, prefix) == before
