from pathlib import Path

import pytest

from aihub_core.catalog import CATEGORIES, Catalog, CatalogModel, CatalogService, load_builtin_catalog
from aihub_core.catalog.synced import read_synced
from aihub_core.errors import ConfigError, InvalidRequestError, NotFoundError
from aihub_core.pricing import cost_pico_usd


def test_catalog_has_twenty_models_over_both_services_with_spec_prices() -> None:
    catalog = load_builtin_catalog()
    models = catalog.models()
    assert len(models) >= 20
    assert {m.service for m in models} == {"openrouter", "gemini"}
    grok = catalog.resolve("x-ai/grok-beta", "")
    assert (grok.prompt_price, grok.completion_price, grok.context_length) == (0.000002, 0.000002, 131072)
    claude = catalog.resolve("anthropic/claude-3-sonnet", "openrouter")
    assert (claude.prompt_price, claude.completion_price) == (0.000003, 0.000015)
    assert all(m.category in CATEGORIES and m.context_length > 0 for m in models)


def test_defaults_follow_the_spec() -> None:
    catalog = load_builtin_catalog()
    assert catalog.default_service.name == "openrouter"
    assert catalog.resolve("", "").id == "x-ai/grok-beta"
    assert catalog.resolve("", "gemini").id == "gemini-2.5-flash"


def test_filters() -> None:
    catalog = load_builtin_catalog()
    assert {m.service for m in catalog.models(service="gemini")} == {"gemini"}
    assert [m.id for m in catalog.models(category="embedding")] == [
        "openai/text-embedding-3-small",
        "gemini-embedding-001",
        "text-embedding-004",
    ]
    assert catalog.models(service="gemini", category="completion") == []


@pytest.mark.parametrize(
    ("model", "service", "error", "param"),
    [
        ("no/such-model", "", NotFoundError, "model"),
        ("x-ai/grok-beta", "gemini", InvalidRequestError, "service"),
        ("", "azure", InvalidRequestError, "service"),
    ],
)
def test_resolve_errors(model: str, service: str, error: type[Exception], param: str) -> None:
    with pytest.raises(error) as info:
        load_builtin_catalog().resolve(model, service)
    assert info.value.details["parameter"] == param  # type: ignore[attr-defined]


def test_bad_category_names_the_parameter() -> None:
    with pytest.raises(InvalidRequestError) as info:
        load_builtin_catalog().models(category="vision")
    assert info.value.details["parameter"] == "category"


@pytest.mark.parametrize(
    ("model", "prompt", "completion", "expected"),
    [
        ("x-ai/grok-beta", 25, 150, 350_000_000),  # 175 x 0.000002 USD, in pico-USD
        ("anthropic/claude-3-sonnet", 1000, 1000, 18_000_000_000),  # 0.003 + 0.015
        ("text-embedding-004", 10, 0, 0),
    ],
)
def test_cost_is_prompt_times_price_plus_completion_times_price(
    model: str, prompt: int, completion: int, expected: int
) -> None:
    assert cost_pico_usd(prompt, completion, load_builtin_catalog().resolve(model, "")) == expected


def test_a_synced_file_nested_too_deep_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "aihub-catalog.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="unreadable synced catalog"):
        read_synced(path)


def _with_models(*ids: tuple[str, str]) -> Catalog:
    base = load_builtin_catalog()
    extra = [CatalogModel(i, service, i, "", 1000, 100, 0.0, 0.0, ("chat",)) for service, i in ids]
    services = [*base.services, CatalogService("local", extra[0].id)] if extra else base.services
    return Catalog(services, [*base.models(), *extra])


def test_a_short_alias_names_its_one_model_everywhere() -> None:
    catalog = load_builtin_catalog()
    grok = catalog.resolve("x-ai/grok-beta", "")
    assert catalog.resolve("grok-beta", "") == grok
    assert catalog.resolve("grok-beta", "openrouter") == grok
    assert catalog.resolve("openrouter:grok-beta", "") == grok
    assert catalog.aliases_of(grok) == ("grok-beta",)
    assert catalog.aliases_of(catalog.resolve("gemini-2.5-flash", "")) == ()  # its id is short already
    with pytest.raises(InvalidRequestError) as mismatch:
        catalog.resolve("grok-beta", "gemini")
    assert mismatch.value.code == "model_service_mismatch"


def test_an_ambiguous_alias_lists_the_candidates() -> None:
    catalog = _with_models(("local", "acme/grok-beta"))
    with pytest.raises(InvalidRequestError) as ambiguous:
        catalog.resolve("grok-beta", "")
    error = ambiguous.value
    assert (error.code, error.http_status, error.details["parameter"]) == ("ambiguous_model", 400, "model")
    assert error.details["candidates"] == "x-ai/grok-beta, acme/grok-beta"
    assert catalog.aliases_of(catalog.resolve("x-ai/grok-beta", "")) == ()
    assert catalog.resolve("grok-beta", "local").id == "acme/grok-beta"  # one within the service


def test_an_exact_id_wins_over_an_alias() -> None:
    catalog = _with_models(("local", "gpt-4o-mini"))
    assert catalog.resolve("gpt-4o-mini", "").service == "local"
    assert catalog.resolve("gpt-4o-mini", "openrouter").id == "openai/gpt-4o-mini"
    assert catalog.aliases_of(catalog.resolve("openai/gpt-4o-mini", "")) == ()
