"""Cost arithmetic: pure functions over catalog prices, exact.

A price is taken as the catalog prints it (the shortest decimal of its float: 0.000002, not the
binary double nearest it), a cost is tokens x price computed in decimal and held as an integer
number of pico-USD (1e-12 USD), and it becomes a float only once, at the edge: the double nearest
the exact decimal, so an answer shows 5e-05, never 4.9999999999999996e-05. Sums are sums of
integers, so a report's total is exactly the sum of its calls' costs.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Protocol

PICO_PER_USD = 10**12
# int64 holds 9.2e18 pico-USD: 9.2 million USD in one sum, far beyond any user's year.
MAX_PICO_USD = 2**63 - 1


class Priced(Protocol):
    """Anything with per-token prices (a catalog model)."""

    @property
    def prompt_price(self) -> float: ...

    @property
    def completion_price(self) -> float: ...


def printed(price: float) -> Decimal:
    """The price as the catalog prints it: the shortest decimal that reads back as this float."""
    return Decimal(repr(float(price)))


def cost_pico_usd(prompt_tokens: int, completion_tokens: int, prices: Priced) -> int:
    """prompt x prompt price + completion x completion price, in pico-USD: exact for any price
    with at most 12 decimals per token (every price the catalogs list), else rounded to the
    nearest pico-USD, half to even."""
    with localcontext() as ctx:
        ctx.prec = 60  # exact for any token count and price a float can print
        exact = prompt_tokens * printed(prices.prompt_price) + completion_tokens * printed(
            prices.completion_price
        )
        return int((exact * PICO_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def usd(pico_usd: int) -> float:
    """A pico-USD amount as the double nearest its exact value (what JSON and the proto carry)."""
    # int / int is correctly rounded in Python: the nearest double to the exact quotient.
    return pico_usd / PICO_PER_USD


def pico_of_usd(amount: float) -> int:
    """The pico-USD nearest a double's exact binary value, half to even (a legacy REAL cost)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((Decimal(amount) * PICO_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))
