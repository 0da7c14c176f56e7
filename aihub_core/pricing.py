"""Cost arithmetic: pure functions over catalog prices, never rounded."""

from __future__ import annotations

from typing import Protocol


class Priced(Protocol):
    """Anything with per-token prices (a catalog model)."""

    @property
    def prompt_price(self) -> float: ...

    @property
    def completion_price(self) -> float: ...


def cost_usd(prompt_tokens: int, completion_tokens: int, prices: Priced) -> float:
    """prompt x prompt price + completion x completion price, in USD, unrounded."""
    return prompt_tokens * prices.prompt_price + completion_tokens * prices.completion_price
