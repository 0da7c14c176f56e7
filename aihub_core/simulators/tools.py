"""What a simulated model does with tools, tool results and JSON mode, whatever the dialect.

- Tools offered and the last message a user's: it calls the tools the message names (in the
  order offered; only the first unless calls may go in parallel), or the first tool when the
  message says "call" or "use the tool"; `required` (Gemini's ANY) always calls, a named choice
  calls that one, `none` never does. Arguments: the schema's required properties, each with a
  plain value of its type.
- The conversation ends with tool results: a text that quotes them.
- JSON mode: a JSON object; with a schema, one with its required properties of their types.

Each simulator reads its own request shape into an `Asked` and writes the outcome in its own wire.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aihub_core.limits.tokens import estimate_text
from aihub_core.simulators.text import SimulatedAnswer

_CALL = re.compile(r"\bcall\b|\buse the tool\b", re.IGNORECASE)
_JSON_PIECE = 4  # characters of JSON text per simulated token


@dataclass(frozen=True)
class SimCall:
    """One call the simulated model makes."""

    name: str
    arguments: Mapping[str, Any]

    @property
    def text(self) -> str:
        """The arguments as JSON text, as OpenAI-style upstreams send them."""
        return json.dumps(self.arguments, ensure_ascii=False)

    @property
    def tokens(self) -> int:
        """What writing this call costs in completion tokens."""
        return estimate_text(self.name) + estimate_text(self.text)


@dataclass(frozen=True)
class Offer:
    """The tools a request offers (name, parameters schema), and how it lets the model use them."""

    tools: tuple[tuple[str, Mapping[str, Any]], ...]
    choice: str = "auto"  # auto, none or required
    only: str | None = None  # the one function the model must call
    parallel: bool = True


@dataclass(frozen=True)
class Asked:
    """What a request asks of the model beyond text, read from its dialect."""

    offer: Offer | None = None
    last_user_text: str | None = None  # the last message's text, when it is a user's
    tool_results: tuple[tuple[str, str], ...] = ()  # (function, result) when the conversation ends with them
    json_mode: bool = False
    schema: Mapping[str, Any] | None = None


def respond(
    asked: Asked, text: SimulatedAnswer, max_tokens: int | None
) -> tuple[SimulatedAnswer, tuple[SimCall, ...]]:
    """The answer to a request (`text`: its plain answer) and the tool calls it makes, if any."""
    if asked.tool_results:
        quoted = "; ".join(f"{name} returned {result}" for name, result in asked.tool_results)
        return words(f"The tool results are in: {quoted}.", max_tokens), ()
    calls = plan_calls(asked.offer, asked.last_user_text) if asked.offer else ()
    if calls:
        return SimulatedAnswer((), False), calls
    if asked.json_mode:
        return json_answer(asked.schema, text.text, max_tokens), ()
    return text, ()


def plan_calls(offer: Offer, last_user_text: str | None) -> tuple[SimCall, ...]:
    """The calls the model makes for this offer and prompt (see the module docstring)."""
    tools = dict(offer.tools)
    if offer.choice == "none" or not tools:
        return ()
    if offer.only is not None:
        names = [offer.only] if offer.only in tools else []
    else:
        text = last_user_text or ""
        names = [name for name in tools if name in text]
        if not names and (offer.choice == "required" or (last_user_text and _CALL.search(text))):
            names = [next(iter(tools))]
    if not offer.parallel:
        names = names[:1]
    return tuple(SimCall(name, arguments_for(tools[name])) for name in names)


def arguments_for(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An object with the schema's required properties, each a plain value of its type."""
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    names = [n for n in required if n in properties] if isinstance(required, list) else []
    return {name: value_for(properties[name], name) for name in names}


def value_for(schema: Any, name: str) -> Any:
    """A plain value that a simple schema accepts: its first enum value, or one of its type."""
    if not isinstance(schema, Mapping):
        return f"{name} value"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = schema.get("type")
    kind = (kind[0] if isinstance(kind, list) and kind else kind) or "string"
    kind = str(kind).lower()
    if kind == "object":
        return arguments_for(schema)
    if kind == "array":
        return [value_for(schema.get("items"), name)]
    return {"integer": 42, "number": 3.5, "boolean": True, "null": None}.get(kind, f"{name} value")


def json_answer(schema: Mapping[str, Any] | None, text: str, max_tokens: int | None) -> SimulatedAnswer:
    """JSON mode: `{"answer": text}`, or an object of the schema's required properties."""
    value = arguments_for(schema) if schema else {"answer": text}
    body = json.dumps(value, ensure_ascii=False)
    pieces = [body[i : i + _JSON_PIECE] for i in range(0, len(body), _JSON_PIECE)]
    return _cut(pieces, max_tokens)


def words(text: str, max_tokens: int | None) -> SimulatedAnswer:
    """A fixed text as simulated tokens: one word with its leading space each."""
    tokens = [("" if i == 0 else " ") + word for i, word in enumerate(text.split(" "))]
    return _cut(tokens, max_tokens)


def _cut(tokens: Sequence[str], max_tokens: int | None) -> SimulatedAnswer:
    if max_tokens is not None and max_tokens < len(tokens):
        return SimulatedAnswer(tuple(tokens[:max_tokens]), True)
    return SimulatedAnswer(tuple(tokens), False)
