"""What the operator file changes in a catalog: pinned model fields, extra services, fallbacks."""

from __future__ import annotations

from dataclasses import replace

from aihub_core.catalog import Catalog, CatalogModel
from aihub_core.errors import AIHubError, ConfigError
from aihub_core.operator_config.schema import OperatorConfig


def apply_to_catalog(config: OperatorConfig, base: Catalog) -> Catalog:
    """`base` (built-in plus synced) with the operator's overrides applied and services appended."""
    models = {(m.service, m.id): m for m in base.models()}
    for key, fields in config.model_overrides.items():
        service, _, model_id = key.partition(":")
        found = models.get((service, model_id))
        if found is None:
            raise ConfigError(
                f"{config.source}: [model_overrides] {key!r}: no such model in the catalog "
                "(see GET /v1/developer/models, or `aihub models sync` may have removed it)"
            )
        models[(service, model_id)] = replace(found, **fields)  # type: ignore[arg-type]
    services = [*base.services, *(s.catalog_service for s in config.services)]
    extra = [m for s in config.services for m in s.models]
    return Catalog(services, [*models.values(), *extra])


def resolve_fallbacks(config: OperatorConfig, catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Fallback chains keyed and listed by qualified id (`service:model`), each target a chat model."""
    chains: dict[str, tuple[str, ...]] = {}
    for key, alternatives in config.fallbacks.items():
        primary = _chat_model(config, catalog, key, key).qualified_id
        if primary in chains:
            raise ConfigError(f"{config.source}: [fallbacks] {key}: {primary} already has a fallback list")
        chain: list[str] = []
        for alternative in alternatives:
            target = _chat_model(config, catalog, key, alternative).qualified_id
            if target == primary or target in chain:
                raise ConfigError(f"{config.source}: [fallbacks] {key}: {alternative!r} is listed twice")
            chain.append(target)
        chains[primary] = tuple(chain)
    return chains


def _chat_model(config: OperatorConfig, catalog: Catalog, key: str, model_id: str) -> CatalogModel:
    try:
        model = catalog.resolve(model_id, "")
    except AIHubError:
        raise ConfigError(
            f"{config.source}: [fallbacks] {key}: {model_id!r} is not in the catalog "
            "(use a model id from GET /v1/developer/models, or `service:model-id`)"
        ) from None
    if model.category != "chat":
        raise ConfigError(f"{config.source}: [fallbacks] {key}: {model_id!r} is not a chat model")
    return model
