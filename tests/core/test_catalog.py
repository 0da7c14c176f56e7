import pytest

from aihub_core.catalog import CATEGORIES, load_builtin_catalog
from aihub_core.errors import InvalidRequestError, NotFoundError
from aihub_core.pricing import cost_usd


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
        ("x-ai/grok-beta", 25, 150, 25 * 0.000002 + 150 * 0.000002),
        ("anthropic/claude-3-sonnet", 1000, 1000, 1000 * 0.000003 + 1000 * 0.000015),
        ("text-embedding-004", 10, 0, 0.0),
    ],
)
def test_cost_is_prompt_times_price_plus_completion_times_price(
    model: str, prompt: int, completion: int, expected: float
) -> None:
    assert cost_usd(prompt, completion, load_builtin_catalog().resolve(model, "")) == expected
