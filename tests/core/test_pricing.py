"""Costs are exact: tokens x price as the catalog prints it, in integer pico-USD, shown as the
double nearest that decimal, and summed as integers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest

from aihub_core.catalog import load_builtin_catalog
from aihub_core.pricing import MAX_PICO_USD, cost_pico_usd, pico_of_usd, printed, usd


@dataclass(frozen=True)
class Prices:
    prompt_price: float
    completion_price: float


@pytest.mark.parametrize(
    ("model", "prompt", "completion", "shown"),
    [
        # The examples: float arithmetic gave 4.9999999999999996e-05 and 0.0016750000000000003.
        ("x-ai/grok-beta", 25, 0, "5e-05"),
        ("x-ai/grok-vision-beta", 209, 42, "0.001675"),
        ("anthropic/claude-3-haiku", 15, 1337, "0.001675"),
        ("gemini-2.5-flash", 100, 658, "0.001675"),
    ],
)
def test_an_answers_cost_shows_exactly_tokens_times_the_printed_prices(
    model: str, prompt: int, completion: int, shown: str
) -> None:
    prices = load_builtin_catalog().resolve(model, "")
    cost = cost_pico_usd(prompt, completion, prices)
    exact = prompt * Decimal(repr(prices.prompt_price)) + completion * Decimal(repr(prices.completion_price))
    assert Decimal(cost) / 10**12 == exact
    assert json.dumps(usd(cost)) == shown


def test_a_sum_of_costs_is_the_sum_of_the_integers_converted_once() -> None:
    prices = Prices(0.000002, 0.000002)
    costs = [cost_pico_usd(25, 0, prices)] * 3 + [cost_pico_usd(1, 0, Prices(0.1, 0))] * 10
    assert usd(sum(costs)) == 1.00015
    assert sum(usd(c) for c in costs) != 1.00015  # what adding the doubles would have shown


def test_a_price_finer_than_a_pico_usd_rounds_half_to_even() -> None:
    assert cost_pico_usd(1, 0, Prices(2.5e-12, 0)) == 2
    assert cost_pico_usd(1, 0, Prices(3.5e-12, 0)) == 4
    assert cost_pico_usd(3, 0, Prices(2.5e-12, 0)) == 8  # 7.5 of the exact product, not 3 x 2
    assert printed(0.1) == Decimal("0.1")


def test_a_legacy_double_becomes_the_nearest_pico_usd_of_its_exact_value() -> None:
    assert pico_of_usd(4.9999999999999996e-05) == 50_000_000
    assert pico_of_usd(0.1) == 100_000_000_000
    assert pico_of_usd(0.0) == 0
    assert MAX_PICO_USD // 10**12 > 9_000_000  # a 64-bit sum holds over 9 million USD
