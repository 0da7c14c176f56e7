"""Tool calls as they arrive from any dialect, turned into one form: our `ToolCallDelta` pieces
(calls numbered from 0 in the order they first appear, `id` and `name` on a call's first piece
only) and, at the end, the whole calls.

OpenAI-style streams send a call in pieces keyed by `index`, `id` and `name` first, then fragments
of the arguments' JSON text; some servers leave out `index`, repeat `id` and `name` on every piece,
or reuse one index for several calls with different ids. Gemini sends each call whole, with no id
(or its own). A call without an id gets one here (`call_...`), as OpenAI's look.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aihub_core.messages import ToolCall
from aihub_core.providers.base import ToolCallDelta


def new_call_id() -> str:
    """An id for a tool call the upstream gave none."""
    return f"call_{secrets.token_hex(12)}"


@dataclass
class _Call:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    named_by_upstream: bool = True  # False: the id is ours, and an id arriving later is not a new call


class ToolCallAssembler:
    """Collects the tool calls of one answer and numbers them."""

    def __init__(self) -> None:
        self._calls: list[_Call] = []
        self._by_key: dict[int, int] = {}  # the upstream's index -> ours
        self._last: int | None = None  # the call an unkeyed piece continues

    def __bool__(self) -> bool:
        return bool(self._calls)

    def piece(self, key: int | None, call_id: str, name: str, arguments: str) -> ToolCallDelta | None:
        """One streamed piece (`key`: the upstream's index, if it sent one); the delta to pass on,
        or None when the piece adds nothing (a repeated id or name without arguments)."""
        ours = self._by_key.get(key) if key is not None else self._last
        if (
            ours is not None
            and call_id
            and self._calls[ours].named_by_upstream
            and call_id != self._calls[ours].id
        ):
            ours = None  # the same index (or none) with another id: the next call of a parallel set
        if ours is None:
            return self._start(key, call_id, name, arguments)
        call = self._calls[ours]
        self._last = ours
        delta_name = ""
        if name and not call.name:
            call.name = delta_name = name  # a name that comes after the id (it should not)
        if not arguments and not delta_name:
            return None
        call.arguments.append(arguments)
        return ToolCallDelta(ours, name=delta_name, arguments=arguments)

    def whole(self, call_id: str, name: str, arguments: str) -> ToolCallDelta:
        """A call that arrived whole (Gemini): one delta with everything."""
        delta = self._start(None, call_id, name, arguments)
        self._last = None  # a whole call is never continued
        return delta

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """The whole calls, in order."""
        return tuple(ToolCall(c.id, c.name, "".join(c.arguments)) for c in self._calls)

    def _start(self, key: int | None, call_id: str, name: str, arguments: str) -> ToolCallDelta:
        index = len(self._calls)
        call = _Call(call_id or new_call_id(), name, [arguments], named_by_upstream=bool(call_id))
        self._calls.append(call)
        if key is not None:
            self._by_key[key] = index
        self._last = index
        return ToolCallDelta(index, call.id, name, arguments)
