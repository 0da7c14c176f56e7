"""The AIHUB_CONFIG file: operator services, plans, fallbacks and model overrides, as frozen data."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aihub_core.alerts.webhook import WebhookConfig
from aihub_core.catalog import CATEGORIES, CatalogModel, CatalogService
from aihub_core.errors import ConfigError
from aihub_core.limits.plans import Plan
from aihub_core.operator_config._fields import Table
from aihub_core.pricing import PICO_PER_USD, printed
from aihub_core.providers.registry import builtin_services, configurable_kinds

# A service name appears in `service:model` ids and in URLs' query strings: keep it plain.
_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PLAN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_TOP = ("services", "plans", "fallbacks", "model_overrides", "alerts")
_ALERTS_KEYS = (
    "url",
    "secret_env",
    "retry_seconds",
    "max_retry_seconds",
    "timeout_seconds",
    "poll_seconds",
    "give_up_after_hours",
)
# At most a year: past that, "never" (the key left out) says it better.
_MAX_GIVE_UP_HOURS = 8_760
_SERVICE_KEYS = ("name", "kind", "base_url", "api_key_env", "models", "default_model")
_PLAN_KEYS = ("requests_per_minute", "tokens_per_minute", "concurrent_requests", "monthly_requests")
# Optional: left out, the operator's default input limits apply (AIHUB_MAX_INPUT_*).
_PLAN_INPUT_KEYS = ("max_input_chars", "max_input_image_bytes")
OVERRIDABLE = (
    "name",
    "description",
    "context_length",
    "max_output_tokens",
    "prompt_price",
    "completion_price",
    "capabilities",
    "category",
)
OPERATOR_CAPABILITIES: Mapping[str, bool] = {"text_generation": True, "streaming": True}


@dataclass(frozen=True)
class OperatorService:
    """A server the operator added, of a kind the provider registry lets AIHUB_CONFIG name;
    `api_key` was read from `api_key_env`."""

    name: str
    kind: str
    base_url: str
    models: tuple[CatalogModel, ...]
    default_model: str
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)

    @property
    def catalog_service(self) -> CatalogService:
        """How the catalog and `/services` show it."""
        return CatalogService(self.name, self.default_model, dict(OPERATOR_CAPABILITIES))


@dataclass(frozen=True)
class OperatorConfig:
    """Everything AIHUB_CONFIG says; the empty default is "no file"."""

    source: str = ""
    services: tuple[OperatorService, ...] = ()
    plans: Mapping[str, Plan] = field(default_factory=dict)
    # Model id (or `service:model`) -> ordered alternatives, exactly as written; checked against the catalog.
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # `service:model` -> the fields the operator pins; they win over built-in and synced data.
    model_overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    # `[alerts]`: the webhook usage alerts are POSTed to; None: crossings are only recorded.
    alerts: WebhookConfig | None = None


def load_operator_config(path: Path, environ: Mapping[str, str]) -> OperatorConfig:
    """Read and validate the file; API keys come from `environ` by the names it gives."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"AIHUB_CONFIG={path}: cannot read the file: {err.strerror or err}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except RecursionError:  # tomllib's parser recurses once per level of nesting
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    return parse_operator_config(data, str(path), environ)


def parse_operator_config(data: Mapping[str, Any], source: str, environ: Mapping[str, str]) -> OperatorConfig:
    """Validate parsed TOML; `source` names the file in every error."""
    top = Table(source, "top level", data, _TOP)
    services: list[OperatorService] = []
    for index, raw in enumerate(top.tables("services")):
        service = _service(source, index, raw, environ)
        if any(kind.name == service.name for kind, _ in builtin_services()):
            raise Table(source, f"services[{index}]", raw, _SERVICE_KEYS).error(
                "name", f"{service.name!r} is a built-in service; choose another name"
            )
        if any(s.name == service.name for s in services):
            raise Table(source, f"services[{index}]", raw, _SERVICE_KEYS).error(
                "name", f"duplicate service name {service.name!r}"
            )
        services.append(service)
    plans_table = Table(source, "plans", top.mapping("plans"), top.mapping("plans").keys())
    plans = {name: _plan(source, name, plans_table.data[name]) for name in plans_table.data}
    fallbacks_table = Table(source, "fallbacks", top.mapping("fallbacks"), top.mapping("fallbacks").keys())
    fallbacks = {model: fallbacks_table.strings(model) for model in fallbacks_table.data}
    overrides_raw = top.mapping("model_overrides")
    overrides: dict[str, Mapping[str, object]] = {}
    for key, raw in overrides_raw.items():
        if ":" not in key:
            raise Table(source, "model_overrides", overrides_raw, overrides_raw.keys()).error(
                key, "must be written `service:model-id`"
            )
        overrides[key] = _model_fields(Table(source, f"model_overrides.{key!r}", raw, OVERRIDABLE), False)
    alerts = _alerts(source, top.mapping("alerts"), environ) if top.has("alerts") else None
    return OperatorConfig(source, tuple(services), plans, fallbacks, overrides, alerts)


def _alerts(source: str, raw: Mapping[str, Any], environ: Mapping[str, str]) -> WebhookConfig:
    """`[alerts]`: the webhook's URL and the variable holding its signing secret (both required),
    optional delivery timings in seconds, and when to give up on an event (default never)."""
    table = Table(source, "alerts", raw, _ALERTS_KEYS)
    url = table.webhook_url("url")
    secret_env = table.text("secret_env")
    secret = environ.get(secret_env, "").strip()
    if not secret:
        raise table.error(
            "secret_env", f"the environment variable {secret_env} is not set (the webhook's signing secret)"
        )
    if len(secret) < 16:
        raise table.error(
            "secret_env", f"the secret in {secret_env} is too short: use at least 16 characters"
        )
    timings: dict[str, float] = {}
    for key in ("retry_seconds", "max_retry_seconds", "timeout_seconds", "poll_seconds"):
        if table.has(key):
            value = table.data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86_400:
                raise table.error(key, f"must be a number of seconds above 0, at most 86400, got {value!r}")
            timings[key] = float(value)
    give_up: float | None = None
    if table.has("give_up_after_hours"):
        value = table.data["give_up_after_hours"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= _MAX_GIVE_UP_HOURS
        ):
            raise table.error(
                "give_up_after_hours",
                f"must be a number of hours above 0, at most {_MAX_GIVE_UP_HOURS}, got {value!r}"
                " (leave it out to retry without end)",
            )
        give_up = float(value)
    config = WebhookConfig(url, secret, secret_env, **timings, give_up_after_hours=give_up)
    if config.max_retry_seconds < config.retry_seconds:
        raise table.error("max_retry_seconds", "must not be below retry_seconds")
    return config


def _service(source: str, index: int, raw: object, environ: Mapping[str, str]) -> OperatorService:
    table = Table(source, f"services[{index}]", raw, _SERVICE_KEYS)
    name = table.text("name")
    if not _SERVICE_NAME.fullmatch(name):
        raise table.error("name", f"use lower-case letters, digits, '-' and '_' (got {name!r})")
    table = Table(source, f"services.{name}", raw, _SERVICE_KEYS)
    kind = table.text("kind")
    if kind not in configurable_kinds():
        raise table.error("kind", f"must be one of {', '.join(configurable_kinds())}, got {kind!r}")
    base_url = table.url("base_url")
    api_key_env, api_key = None, None
    if table.has("api_key_env"):
        api_key_env = table.text("api_key_env")
        api_key = environ.get(api_key_env, "").strip() or None
        if api_key is None:
            raise table.error("api_key_env", f"the environment variable {api_key_env} is not set")
    entries = table.tables("models") if table.has("models") else None
    if not entries:
        raise table.error("models", "list at least one model")
    models: list[CatalogModel] = []
    for position, entry in enumerate(entries):
        fields = _model_fields(Table(source, f"services.{name}.models[{position}]", entry, _MODEL_KEYS), True)
        model_id = str(fields.pop("id"))
        if any(m.id == model_id for m in models):
            raise table.error("models", f"duplicate model id {model_id!r}")
        fields.setdefault("name", model_id)
        fields.setdefault("description", "")
        fields.setdefault("capabilities", ("chat",))
        fields.setdefault("max_output_tokens", fields["context_length"])
        models.append(CatalogModel(id=model_id, service=name, **fields))  # type: ignore[arg-type]
    default_model = table.text("default_model") if table.has("default_model") else models[0].id
    if all(m.id != default_model for m in models):
        raise table.error("default_model", f"{default_model!r} is not one of this service's models")
    return OperatorService(name, kind, base_url, tuple(models), default_model, api_key_env, api_key)


_MODEL_KEYS = ("id", *OVERRIDABLE)
_REQUIRED_MODEL_KEYS = ("id", "context_length", "prompt_price", "completion_price")


def _model_fields(table: Table, complete: bool) -> dict[str, object]:
    """The model fields present (all required ones when `complete`), validated."""
    fields: dict[str, object] = {}
    for key in table.data.keys() | (set(_REQUIRED_MODEL_KEYS) if complete else set()):
        if key in ("id", "name", "description"):
            fields[key] = table.text(key) if key != "description" else table.string(key)
        elif key in ("context_length", "max_output_tokens"):
            fields[key] = table.integer(key, minimum=1)
        elif key in ("prompt_price", "completion_price"):
            fields[key] = table.price(key)
        elif key == "capabilities":
            fields[key] = table.strings(key)
        elif key == "category":
            category = table.text(key)
            if category not in CATEGORIES:
                raise table.error(key, f"must be one of {', '.join(CATEGORIES)}, got {category!r}")
            fields[key] = category
    return fields


def _plan(source: str, name: str, raw: object) -> Plan:
    if not _PLAN_NAME.fullmatch(name):
        raise ConfigError(f"{source}: [plans] {name}: plan names use letters, digits, '-' and '_'")
    table = Table(source, f"plans.{name}", raw, (*_PLAN_KEYS, *_PLAN_INPUT_KEYS, "monthly_budget_usd"))
    limits = [table.integer(key) for key in _PLAN_KEYS]
    inputs = [table.integer(key) if table.has(key) else None for key in _PLAN_INPUT_KEYS]
    budget = None
    if table.has("monthly_budget_usd"):
        usd = table.price("monthly_budget_usd")
        if usd <= 0:
            raise table.error("monthly_budget_usd", f"must be more than 0 USD, got {usd!r}")
        budget = int(printed(usd) * PICO_PER_USD)
    rpm, tpm, concurrent, monthly = limits
    chars, image_bytes = inputs
    return Plan(name, rpm, tpm, concurrent, monthly, chars, image_bytes, monthly_budget=budget)
