"""Named misbehaviours a simulator can put on for one request, as data.

A request picks one by the `x-aihub-sim-scenario` header, else by a model-name suffix
(`x-ai/grok-beta@error-500`, the only way through the gateway, which forwards no user header),
else the simulator's own `scenario` attribute applies. Each simulator reads the fields and
speaks them in its provider's dialect; adding a scenario is adding a row below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

SCENARIO_HEADER = "x-aihub-sim-scenario"


@dataclass(frozen=True)
class Scenario:
    """How to answer: every field at its default is a healthy answer."""

    name: str
    summary: str
    status: int | None = None  # fail before the first byte with this HTTP status, in the provider's shape
    first_byte_delay: float = 0.0  # seconds of silence before the response starts
    stall: float = 0.0  # seconds of silence after the first piece of text
    midstream_error: bool = False  # fail in-band after the first piece (non-stream: a 200 error / a 500)
    unicode: bool = False  # raw CJK, emoji and U+2028 in the text; writes split inside characters and CRLF
    usage: bool = True  # report token usage
    finish: bool = True  # end with a finish reason; without one a stream just stops
    blocked: bool = False  # the prompt is refused by a safety filter
    thoughts: bool = False  # thought parts (Gemini) / reasoning deltas (OpenRouter) before the text


HEALTHY = Scenario("healthy", "a normal answer")

SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        scenario.name: scenario
        for scenario in (
            HEALTHY,
            Scenario(
                "error-400", "400 before the first byte: the prompt is too long for the model", status=400
            ),
            Scenario("error-401", "the provider refuses the key (Gemini: 400 API_KEY_INVALID)", status=401),
            Scenario("error-429", "429 rate limit with the provider's retry hint", status=429),
            Scenario("error-500", "500 internal error before the first byte", status=500),
            Scenario("error-503", "503 provider overloaded before the first byte", status=503),
            Scenario(
                "midstream-error", "an in-band error after the first piece of text", midstream_error=True
            ),
            Scenario("unicode", "CJK, emoji and U+2028 sent raw, writes split inside them", unicode=True),
            Scenario("slow-first-byte", "2 s of silence before the response starts", first_byte_delay=2.0),
            Scenario("stall", "silence after the first piece, until the client gives up", stall=3600.0),
            Scenario("no-usage", "no usage reported (the client has to estimate)", usage=False),
            Scenario("no-finish", "the stream stops without a finish reason", finish=False),
            Scenario("blocked", "the prompt is blocked by a safety filter", blocked=True),
            Scenario("thoughts", "thinking output before the answer, to be left out of it", thoughts=True),
        )
    }
)


class UnknownScenarioError(LookupError):
    """A request asked for a scenario that is not in the table."""


def split_model(model: str) -> tuple[str, str | None]:
    """`id@scenario` -> (id, scenario); a plain id -> (id, None)."""
    base, at, name = model.rpartition("@")
    return (base, name) if at and base else (model, None)


def choose(header: str | None, suffix: str | None, default: str | None) -> Scenario:
    """The scenario for one request: header, then model suffix, then the simulator's default."""
    name = header or suffix or default
    if not name:
        return HEALTHY
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownScenarioError(
            f"unknown simulator scenario {name!r}; known: {', '.join(SCENARIOS)}"
        ) from None
