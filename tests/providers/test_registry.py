"""The provider registry's contract: every entry has every part, the parts fit together, and nothing
outside the registry names a provider (so a new kind is one module plus one entry)."""

from __future__ import annotations

import ast
import inspect
import re
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from aihub_core.catalog import load_builtin_catalog
from aihub_core.providers._http import HTTPProvider, upstream_session
from aihub_core.providers.registry import (
    KINDS,
    Builtin,
    ProviderKind,
    builtin_services,
    configurable_kinds,
    provider_kind,
)
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators import Simulator

ROOT = Path(__file__).resolve().parents[2]
# Where providers used to be named in tables of their own; they read the registry now.
READERS = [
    ROOT / "aihub_core" / "app.py",
    ROOT / "aihub_core" / "settings.py",
    ROOT / "aihub_core" / "catalog" / "sync.py",
    *sorted((ROOT / "aihub_core" / "operator_config").glob("*.py")),
    *sorted((ROOT / "aihub_cli").glob("*.py")),
]


def test_every_kind_has_a_plain_unique_name_and_an_adapter() -> None:
    names = [kind.name for kind in KINDS]
    # A built-in's name is a service name: it appears in `service:model` ids and in query strings.
    assert len(names) == len(set(names)) and all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", n) for n in names)
    for kind in KINDS:
        assert inspect.isclass(kind.adapter) and issubclass(kind.adapter, HTTPProvider), kind.name
        assert not inspect.isabstract(kind.adapter), kind.name
        assert provider_kind(kind.name) is kind
    with pytest.raises(KeyError):
        provider_kind("no-such-kind")


def test_kinds_are_built_in_services_or_open_to_aihub_config() -> None:
    assert [kind.name for kind, _ in builtin_services()] == ["openrouter", "gemini"]  # banner order
    assert configurable_kinds() == ("openai-compatible",)
    assert {kind.name for kind, _ in builtin_services()}.isdisjoint(configurable_kinds())


@pytest.mark.parametrize(("kind", "builtin"), builtin_services(), ids=lambda part: getattr(part, "name", ""))
def test_every_built_in_service_has_every_part(kind: ProviderKind, builtin: Builtin) -> None:
    variable = re.compile(r"[A-Z][A-Z0-9_]*")
    assert variable.fullmatch(builtin.api_key_env) and variable.fullmatch(builtin.base_url_env)
    assert builtin.default_base_url.startswith("https://") and not builtin.default_base_url.endswith("/")
    assert issubclass(builtin.simulator, Simulator) and not inspect.isabstract(builtin.simulator)
    assert callable(builtin.parse_models)
    assert load_builtin_catalog().service(kind.name).default_model  # models.toml lists the service


@pytest.mark.parametrize(("kind", "builtin"), builtin_services(), ids=lambda part: getattr(part, "name", ""))
async def test_the_adapter_reads_its_simulators_model_list_with_its_parser(
    kind: ProviderKind, builtin: Builtin
) -> None:
    async with AsyncExitStack() as stack, upstream_session() as client:
        simulator, credentials = await builtin.simulate(stack, chunk_delay_ms=0)
        adapter = kind.adapter(
            name=kind.name,
            base_url=credentials.base_url,
            api_key=credentials.api_key,
            client=client,
            timeouts=UpstreamTimeouts(),
            simulated=True,
        )
        listing = await adapter.list_models(builtin.parse_models)
        served = {m.id for m in simulator.models.values() if m.chat}
    assert served and served <= {m.id for m in listing.models}
    assert (adapter.name, adapter.simulated) == (kind.name, True)


def _constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


@pytest.mark.parametrize("path", READERS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_provider_is_named_outside_the_registry(path: Path) -> None:
    named = {kind.name for kind in KINDS}
    for _, builtin in builtin_services():
        named |= {builtin.api_key_env, builtin.base_url_env, builtin.default_base_url}
    assert not _constants(path) & named
