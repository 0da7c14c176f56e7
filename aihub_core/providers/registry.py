"""The provider registry: every kind of upstream the gateway speaks to, one entry each.

A kind is a wire protocol and what goes with it. A built-in kind is also a service every gateway
has, named after it (`openrouter`, `gemini`): its entry names the environment variables of its key
and URL, its default URL, the simulator that answers while it has no key, and the parser of its
model list. Any other kind is one that AIHUB_CONFIG services may take (`kind =
"openai-compatible"`); the file gives their URL, key and models.

Settings (the environment), the composition root (adapters, simulators), AIHUB_CONFIG's checks
(kinds, reserved names) and `aihub models sync` (list parsers) all read this table. A new upstream
protocol is one module (its adapter, an `HTTPProvider`, with its list parser if it has one) plus one
entry in `KINDS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from aihub_core.providers._http import HTTPProvider
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.listings import ModelListParser, gemini_page, openrouter_page
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator, Simulator

# Simulators need a key-shaped value; it never leaves loopback.
SIMULATOR_KEY = "simulated-key"


@dataclass(frozen=True)
class Credentials:
    """Where a built-in service answers and the key it takes (None: no key, so it is simulated)."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Builtin:
    """What makes a kind a built-in service too: its environment, default URL, simulator, list parser."""

    api_key_env: str
    base_url_env: str
    default_base_url: str
    simulator: type[Simulator]
    parse_models: ModelListParser

    async def simulate(
        self, stack: AsyncExitStack, *, chunk_delay_ms: int, models: Iterable[str] | None = None
    ) -> tuple[Simulator, Credentials]:
        """Start this service's simulator (stopped when `stack` closes); its URL and a stand-in key
        take the place of the real ones. `models`: the ids it serves (default: its whole catalog)."""
        simulator = self.simulator(chunk_delay_ms=chunk_delay_ms, models=models)
        url = await simulator.start()
        stack.push_async_callback(simulator.stop)
        return simulator, Credentials(url, SIMULATOR_KEY)


@dataclass(frozen=True)
class ProviderKind:
    """One kind of upstream: the adapter that speaks its protocol; for a built-in service, the rest."""

    name: str
    # Built per service: adapter(name=, base_url=, api_key=, client=, timeouts=, simulated=).
    adapter: type[HTTPProvider]
    builtin: Builtin | None = None  # None: a kind AIHUB_CONFIG services may take


KINDS: tuple[ProviderKind, ...] = (
    # Built-in services first, in the order the start-up banner lists them.
    ProviderKind(
        "openrouter",
        OpenAICompatibleProvider,
        Builtin(
            api_key_env="OPENROUTER_API_KEY",
            base_url_env="OPENROUTER_BASE_URL",
            default_base_url="https://openrouter.ai/api/v1",
            simulator=OpenRouterSimulator,
            parse_models=openrouter_page,
        ),
    ),
    ProviderKind(
        "gemini",
        GeminiProvider,
        Builtin(
            api_key_env="GEMINI_API_KEY",
            base_url_env="GEMINI_BASE_URL",
            default_base_url="https://generativelanguage.googleapis.com/v1beta",
            simulator=GeminiSimulator,
            parse_models=gemini_page,
        ),
    ),
    ProviderKind("openai-compatible", OpenAICompatibleProvider),
)


def provider_kind(name: str) -> ProviderKind:
    """The entry called `name`; KeyError when there is none."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


def builtin_services() -> tuple[tuple[ProviderKind, Builtin], ...]:
    """The built-in services, each with its built-in parts."""
    return tuple((kind, kind.builtin) for kind in KINDS if kind.builtin is not None)


def configurable_kinds() -> tuple[str, ...]:
    """The kinds an AIHUB_CONFIG service may be."""
    return tuple(kind.name for kind in KINDS if kind.builtin is None)
