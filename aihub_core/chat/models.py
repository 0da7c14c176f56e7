"""The model a call names, checked to be of the kind the call needs, and the provider serving it."""

from __future__ import annotations

from collections.abc import Mapping

from aihub_core.catalog import Catalog, CatalogModel
from aihub_core.errors import InvalidRequestError
from aihub_core.providers.base import Provider

# What a call does with a model of each category, and the code of a call to a model of another.
_USES = {"chat": ("chat", "model_not_chat"), "embedding": ("embed", "model_not_embedding")}


def resolve_model(
    catalog: Catalog, providers: Mapping[str, Provider], model: str, service: str, category: str
) -> tuple[CatalogModel, Provider]:
    """The catalog model `model`/`service` name (a 404 if none), a 400 unless it is a `category`
    model served by a configured provider."""
    found = catalog.resolve(model, service)
    verb, code = _USES[category]
    if found.category != category:
        raise InvalidRequestError(
            f"{found.id} is a {found.category} model and cannot {verb}; choose a {category} model",
            code=code,
            param="model",
        )
    provider = providers.get(found.service)
    if provider is None:
        raise InvalidRequestError(f"Service {found.service!r} is not configured", param="service")
    return found, provider
