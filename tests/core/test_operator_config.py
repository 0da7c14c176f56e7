"""AIHUB_CONFIG parsing: what is accepted, and that every refusal names the file, table and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from aihub_core.catalog import load_builtin_catalog
from aihub_core.errors import ConfigError
from aihub_core.limits.plans import Plan
from aihub_core.operator_config import (
    OperatorConfig,
    apply_to_catalog,
    load_operator_config,
    parse_operator_config,
    resolve_fallbacks,
)

SOURCE = "/etc/aihub.toml"
SERVICE = """
[[services]]
name = "local"
kind = "openai-compatible"
base_url = "http://127.0.0.1:11434/v1/"
models = [{ id = "llama3.1", context_length = 131072, prompt_price = 0, completion_price = 0 }]
"""


def parse(text: str, environ: dict[str, str] | None = None) -> OperatorConfig:
    return parse_operator_config(tomllib.loads(text), SOURCE, environ or {})


def test_the_design_example_parses() -> None:
    text = (
        SERVICE.replace("models =", 'api_key_env = "LOCAL_API_KEY"\nmodels =')
        + """
[plans.internal]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""
    )
    config = parse_operator_config(tomllib.loads(text), SOURCE, {"LOCAL_API_KEY": "sk-secret"})
    (service,) = config.services
    assert (service.name, service.base_url, service.default_model) == (
        "local",
        "http://127.0.0.1:11434/v1",
        "llama3.1",
    )
    assert service.api_key == "sk-secret" and "sk-secret" not in repr(service)
    (model,) = service.models
    assert (model.name, model.max_output_tokens, model.capabilities, model.category) == (
        "llama3.1",
        131072,
        ("chat",),
        "chat",
    )
    assert config.plans == {"internal": Plan("internal", 0, 0, 0, 0)}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("colour = 1", "[top level] colour: unknown key"),
        (SERVICE.replace('kind = "openai-compatible"', 'kind = "grpc"'), "[services.local] kind:"),
        (SERVICE.replace("http://127.0.0.1:11434/v1/", "ftp://host/v1"), "[services.local] base_url:"),
        (SERVICE.replace("http://127.0.0.1:11434/v1/", "not a url"), "[services.local] base_url:"),
        (SERVICE.replace("http://127.0.0.1:11434/v1/", "http://h/v1?x=1"), "[services.local] base_url:"),
        (
            SERVICE.replace('name = "local"', 'name = "openrouter"'),
            "[services[0]] name: 'openrouter' is a built-in",
        ),
        (SERVICE.replace('name = "local"', 'name = "gemini"'), "[services[0]] name: 'gemini' is a built-in"),
        (SERVICE.replace('name = "local"', 'name = "Bad Name"'), "[services[0]] name:"),
        (SERVICE + SERVICE, "[services[1]] name: duplicate service name 'local'"),
        (
            SERVICE.replace("prompt_price = 0", "prompt_price = -0.1"),
            "[services.local.models[0]] prompt_price:",
        ),
        (SERVICE.replace("completion_price = 0", 'completion_price = "1"'), "completion_price:"),
        (SERVICE.replace("context_length = 131072, ", ""), "[services.local.models[0]] context_length:"),
        (SERVICE.replace('id = "llama3.1", ', ""), "[services.local.models[0]] id: is required"),
        (SERVICE.replace("prompt_price = 0,", "prompt_price = 0, colour = 1,"), "models[0]] colour: unknown"),
        (SERVICE.replace("prompt_price = 0,", 'prompt_price = 0, category = "vision",'), "category:"),
        (
            SERVICE.replace("models = [", 'default_model = "nope"\nmodels = ['),
            "[services.local] default_model:",
        ),
        (
            SERVICE.replace("models = [", 'api_key_env = "NOT_SET"\nmodels = ['),
            "[services.local] api_key_env:",
        ),
        (SERVICE.replace("models = [", "colour = 1\nmodels = ["), "[services[0]] colour: unknown key"),
        (SERVICE.split("models =")[0] + "models = []", "[services.local] models: list at least one"),
        ("[plans.internal]\nrequests_per_minute = 1", "[plans.internal] tokens_per_minute: is required"),
        (
            "[plans.x]\nrequests_per_minute = -1\ntokens_per_minute = 0\nconcurrent_requests = 0\n"
            "monthly_requests = 0",
            "[plans.x] requests_per_minute:",
        ),
        ("[plans.x]\nburst = 1", "[plans.x] burst: unknown key"),
        (
            "[plans.x]\nrequests_per_minute = 0\ntokens_per_minute = 0\nconcurrent_requests = 0\n"
            "monthly_requests = 0\nmax_input_chars = -5",
            "[plans.x] max_input_chars:",
        ),
        ('[fallbacks]\n"x-ai/grok-beta" = "openai/gpt-4o"', "[fallbacks] x-ai/grok-beta:"),
        ("[model_overrides.grok]\nprompt_price = 1", "[model_overrides] grok:"),
        ('[model_overrides."openrouter:x"]\nprice = 1', "price: unknown key"),
    ],
)
def test_errors_name_the_file_table_and_key(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert str(caught.value).startswith(SOURCE) and named in str(caught.value), str(caught.value)


def test_api_keys_never_appear_in_errors() -> None:
    text = SERVICE.replace("models = [", 'api_key_env = "K"\ndefault_model = "x"\nmodels = [')
    with pytest.raises(ConfigError) as caught:
        parse(text, {"K": "sk-very-secret"})
    assert "sk-very-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("fallbacks", "named"),
    [
        ('"x-ai/grok-beta" = ["no/such-model"]', "'no/such-model' is not in the catalog"),
        ('"no/such-model" = ["openai/gpt-4o"]', "[fallbacks] no/such-model:"),
        ('"x-ai/grok-beta" = ["openai/gpt-4o", "openrouter:openai/gpt-4o"]', "listed twice"),
        ('"x-ai/grok-beta" = ["gemini:text-embedding-004"]', "is not a chat model"),
        ('"x-ai/grok-beta" = ["local:llama3.1"]\n"openrouter:x-ai/grok-beta" = []', "already has"),
    ],
)
def test_fallbacks_must_name_catalog_models(fallbacks: str, named: str) -> None:
    config = parse_operator_config(tomllib.loads(SERVICE + "[fallbacks]\n" + fallbacks), SOURCE, {})
    catalog = apply_to_catalog(config, load_builtin_catalog())
    with pytest.raises(ConfigError, match=r"\[fallbacks\]") as caught:
        resolve_fallbacks(config, catalog)
    assert named in str(caught.value)


def test_fallbacks_are_keyed_and_listed_by_qualified_id() -> None:
    text = (
        SERVICE
        + '[fallbacks]\n"x-ai/grok-beta" = ["openai/gpt-4o-mini", "gemini:gemini-2.5-flash", "llama3.1"]'
    )
    config = parse_operator_config(tomllib.loads(text), SOURCE, {})
    catalog = apply_to_catalog(config, load_builtin_catalog())
    assert resolve_fallbacks(config, catalog) == {
        "openrouter:x-ai/grok-beta": (
            "openrouter:openai/gpt-4o-mini",
            "gemini:gemini-2.5-flash",
            "local:llama3.1",
        )
    }


def test_overrides_pin_fields_and_must_name_catalog_models() -> None:
    text = '[model_overrides."gemini:gemini-2.5-pro"]\nprompt_price = 0.5\nname = "Pro"'
    catalog = apply_to_catalog(parse(text), load_builtin_catalog())
    pro = catalog.resolve("gemini-2.5-pro", "gemini")
    assert (pro.prompt_price, pro.name) == (0.5, "Pro")
    assert pro.completion_price == load_builtin_catalog().resolve("gemini-2.5-pro", "gemini").completion_price
    missing = parse('[model_overrides."gemini:gemini-9"]\nprompt_price = 0.5')
    with pytest.raises(ConfigError, match=r"\[model_overrides\] 'gemini:gemini-9'"):
        apply_to_catalog(missing, load_builtin_catalog())


def test_unreadable_and_invalid_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_operator_config(tmp_path / "missing.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text("[[services]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{broken}: not valid TOML"):
        load_operator_config(broken, {})
    broken.write_text("x = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{broken}: not valid TOML: arrays or tables nested too deeply"):
        load_operator_config(broken, {})


def test_a_plans_input_limits_are_optional() -> None:
    base = "requests_per_minute = 1\ntokens_per_minute = 2\nconcurrent_requests = 3\nmonthly_requests = 4\n"
    config = parse(
        f"[plans.plain]\n{base}\n[plans.bounded]\n{base}max_input_chars = 0\nmax_input_image_bytes = 9\n"
    )
    assert config.plans["plain"] == Plan("plain", 1, 2, 3, 4)
    assert config.plans["plain"].max_input_chars is None  # the operator's default applies
    assert config.plans["bounded"] == Plan("bounded", 1, 2, 3, 4, max_input_chars=0, max_input_image_bytes=9)


def test_a_plans_monthly_budget_in_usd() -> None:
    base = "requests_per_minute = 1\ntokens_per_minute = 2\nconcurrent_requests = 3\nmonthly_requests = 4\n"
    config = parse(
        f"[plans.capped]\n{base}monthly_budget_usd = 0.1\n[plans.whole]\n{base}monthly_budget_usd = 25\n"
    )
    assert config.plans["capped"] == Plan("capped", 1, 2, 3, 4, monthly_budget=100_000_000_000)
    assert config.plans["whole"].monthly_budget == 25 * 10**12
    assert parse(f"[plans.plain]\n{base}").plans["plain"].monthly_budget is None
    for bad in ("0", "-1", '"5"'):
        with pytest.raises(ConfigError, match="monthly_budget_usd"):
            parse(f"[plans.capped]\n{base}monthly_budget_usd = {bad}\n")
