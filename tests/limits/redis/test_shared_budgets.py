"""Budgets in USD, from tables: every scenario runs through `InProcessAdmitter` and `RedisAdmitter`
on Redis, and both must answer alike, to the letter of each refusal (code, message, details with
`limit_usd`, `spent_usd`, `reserved_usd`, `resets_at`, Retry-After, X-RateLimit-* figures), and
report the same figures; on one Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.in_process import InProcessAdmitter
from aihub_core.limits.plans import BUILTIN_PLANS, Plan
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.rules import Demand, Grant
from aihub_core.limits.spend import BudgetAsk, SpendLimit
from tests.limits.redis.conftest import ON_BOTH, T0, Client, Clock, Ledger, StartAdmitter, dump

USD = 10**12
CALLER = Caller("u1", BUILTIN_PLANS["enterprise"], key_id="k1")
DAY = SpendLimit(5 * USD, "day")
MONTH = SpendLimit(5 * USD, "month")
# 2026-03-10 12:00:05 UTC: the day resets 11 h 59 min 55 s later, the month on April 1st.
DAY_LEFT = 12 * 3600 - 5


def chat(cost: int, budget: SpendLimit = DAY, plan: int | None = None) -> Demand:
    """A chat asking `cost` of the key's budget, and (`plan`) of a plan's monthly budget too."""
    asks = [BudgetAsk("key:k1", budget, cost)]
    if plan is not None:
        asks.append(BudgetAsk("plan:u1", SpendLimit(plan, "month"), cost))
    return Demand(10, concurrent=True, counts_quota=True, budgets=tuple(asks))


@dataclass(frozen=True)
class Admit:
    demand: Demand
    caller: Caller = CALLER


@dataclass(frozen=True)
class Release:
    grant: int
    cost: int | None


@dataclass(frozen=True)
class Tick:
    seconds: float


Step = Admit | Release | Tick
OK = "ok"
NO = "budget_exceeded"

# (scenario, the ledger's spend at the period's start, steps, what each Admit answers)
SCENARIOS: list[tuple[str, int, list[Step], list[str]]] = [
    ("worst cases held up to the budget", 0, [Admit(chat(2 * USD))] * 3, [OK, OK, NO]),
    (
        "settlement replaces the reservation with the real cost",
        0,
        [
            Admit(chat(2 * USD)),
            Admit(chat(2 * USD)),
            Release(0, USD // 2),
            Admit(chat(2 * USD)),
            Admit(chat(USD)),
        ],
        [OK, OK, OK, NO],
    ),
    ("the period's spend starts from the ledger", 4 * USD, [Admit(chat(USD)), Admit(chat(1))], [OK, NO]),
    (
        "a release without a known cost spends the worst case",
        0,
        [Admit(chat(3 * USD)), Release(0, None), Admit(chat(2 * USD)), Admit(chat(1))],
        [OK, OK, NO],
    ),
    (
        "a refusal consumes nothing",
        0,
        [Admit(chat(4 * USD)), Admit(chat(2 * USD)), Admit(chat(USD))],
        [OK, NO, OK],
    ),
    (
        "a new day starts afresh, from the ledger",
        0,
        [Admit(chat(5 * USD)), Admit(chat(1)), Tick(DAY_LEFT), Admit(chat(5 * USD))],
        [OK, NO, OK],
    ),
    (
        "a key's budget and its plan's, the tighter one refusing",
        0,
        [
            Admit(chat(USD, DAY, plan=3 * USD)),
            Admit(chat(USD, DAY, plan=3 * USD)),
            Admit(chat(2 * USD, DAY, plan=3 * USD)),
            Admit(chat(USD, DAY, plan=3 * USD)),
            Admit(chat(USD, DAY, plan=3 * USD)),
        ],
        [OK, OK, NO, OK, NO],
    ),
    (
        "the quota refuses before the budget",
        0,
        [Admit(chat(5 * USD), Caller("u1", Plan("tiny", 0, 0, 0, 1), key_id="k1"))] * 2,
        [OK, "quota_exceeded"],
    ),
    (
        "a monthly budget with costs beyond Lua's 14 printed digits",
        0,
        [
            Admit(chat(1_234_567_890_123_457, SpendLimit(2_469_135_780_246_914, "month"))),
            Admit(chat(1_234_567_890_123_457, SpendLimit(2_469_135_780_246_914, "month"))),
            Release(0, 1_000_000_000_000_001),
            Admit(chat(234_567_890_123_456, SpendLimit(2_469_135_780_246_914, "month"))),
            Admit(chat(1, SpendLimit(2_469_135_780_246_914, "month"))),
        ],
        [OK, OK, OK, NO],
    ),
]


def describe(outcome: Grant | RateLimitError) -> tuple[object, ...]:
    if isinstance(outcome, Grant):
        return (OK, outcome.state, outcome.spend)
    return (
        outcome.code,
        outcome.message,
        outcome.details,
        outcome.retry_after,
        outcome.response_metadata,
    )


async def play(admitter: InProcessAdmitter | RedisAdmitter, clock: Clock, steps: list[Step]) -> list[object]:
    clock.now = T0
    grants: list[Grant] = []
    answers: list[object] = []
    for step in steps:
        if isinstance(step, Tick):
            clock.now += step.seconds
        elif isinstance(step, Release):
            admitter.release(grants[step.grant], 10, step.cost)
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
    asks = tuple(ask for step in steps if isinstance(step, Admit) for ask in step.demand.budgets)[:1]
    answers.append(await admitter.budgets(CALLER, asks))
    return answers


@ON_BOTH
@pytest.mark.parametrize(
    ("spent", "steps", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
async def test_budgets_answer_alike_in_one_process_and_through_redis(
    start_admitter: StartAdmitter,
    admitter_clock: Clock,
    ledger: Ledger,
    spent: int,
    steps: list[Step],
    expected: list[str],
) -> None:
    ledger.spent = spent
    local = await play(InProcessAdmitter(ledger, admitter_clock), admitter_clock, steps)
    shared = await play(await start_admitter(), admitter_clock, steps)
    assert [answer[0] for answer in local[:-1]] == expected  # type: ignore[index]
    assert shared == local


async def test_refusal_details_name_the_budget_and_its_reset(admitter_clock: Clock, ledger: Ledger) -> None:
    ledger.spent = 3 * USD
    admitter = InProcessAdmitter(ledger, admitter_clock)
    await admitter.admit(CALLER, chat(USD + USD // 2))
    with pytest.raises(RateLimitError) as info:
        await admitter.admit(CALLER, chat(USD))
    assert info.value.code == "budget_exceeded"
    assert {k: v for k, v in info.value.details.items() if k != "suggestion"} == {
        "limit_usd": "5.0",
        "spent_usd": "3.0",
        "reserved_usd": "1.5",
        "resets_at": "2026-03-11T00:00:00Z",
        "scope": "key",
        "period": "day",
    }
    assert info.value.retry_after == DAY_LEFT
    assert ledger.spent_asked == [("k1", datetime(2026, 3, 10, tzinfo=UTC))]
    [figures] = await admitter.budgets(CALLER, (BudgetAsk("key:k1", MONTH, 0),))
    assert (figures.spent, figures.reserved, figures.resets_at) == (
        3 * USD,
        0,
        datetime(2026, 4, 1, tzinfo=UTC),
    )


@ON_BOTH
async def test_a_budget_refusal_changes_nothing_in_redis(
    start_admitter: StartAdmitter, redis: Client, prefix: str
) -> None:
    admitter = await start_admitter()
    await admitter.admit(CALLER, chat(4 * USD))
    before = await dump(redis, prefix)
    with pytest.raises(RateLimitError):
        await admitter.admit(CALLER, chat(2 * USD))
    assert await dump(redis, prefix) == before


async def test_two_processes_never_hold_more_than_the_budget(
    start_admitter: StartAdmitter, ledger: Ledger
) -> None:
    ledger.spent = USD
    first, second = await start_admitter(), await start_admitter()
    demands = [(first if i % 2 else second).admit(CALLER, chat(USD // 3)) for i in range(40)]
    outcomes = await asyncio.gather(*demands, return_exceptions=True)
    grants = [o for o in outcomes if isinstance(o, Grant)]
    assert len(grants) == 12  # 4 USD left, a third of a dollar each
    assert all(isinstance(o, RateLimitError) and o.code == NO for o in outcomes if not isinstance(o, Grant))
    for i, grant in enumerate(grants):
        (first if i % 2 else second).release(grant, 10, USD // 4)
    await first.flush()
    await second.flush()
    [figures] = await first.budgets(CALLER, (BudgetAsk("key:k1", DAY, 0),))
    assert (figures.spent, figures.reserved) == (USD + 12 * (USD // 4), 0)
