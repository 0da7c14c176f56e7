"""Catalog lookups over data shipped in the package (`models.toml`)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from aihub_core.errors import InvalidRequestError, NotFoundError

CATEGORIES = ("chat", "completion", "embedding")


@dataclass(frozen=True)
class CatalogModel:
    """One model as offered by one service."""

    id: str
    service: str
    name: str
    description: str
    context_length: int
    max_output_tokens: int
    prompt_price: float
    completion_price: float
    capabilities: tuple[str, ...]
    category: str = "chat"
    # An embedding model's vector length, the most `dimensions` may ask for (0: not known).
    dimensions: int = 0

    @property
    def qualified_id(self) -> str:
        """`service:model-id`, as the chat response's `model` field shows it."""
        return f"{self.service}:{self.id}"

    @property
    def multimodal(self) -> bool:
        return "multimodal" in self.capabilities


@dataclass(frozen=True)
class CatalogService:
    """A service and what it claims to support."""

    name: str
    default_model: str
    capabilities: Mapping[str, bool] = field(default_factory=dict)


class Catalog:
    """Immutable view of the models and services the gateway offers."""

    def __init__(self, services: Iterable[CatalogService], models: Iterable[CatalogModel]) -> None:
        self._services = {s.name: s for s in services}
        self._models = sorted(models, key=lambda m: (list(self._services).index(m.service), m.id))
        self._by_key = {(m.service, m.id): m for m in self._models}
        self._ids = frozenset(m.id for m in self._models)
        # Short alias -> the models it may mean (an exact id always wins over an alias).
        self._aliases: dict[str, list[CatalogModel]] = {}
        for m in self._models:
            alias = short_alias(m.id)
            if alias:
                self._aliases.setdefault(alias, []).append(m)
        for service in self._services.values():
            if (service.name, service.default_model) not in self._by_key:
                raise ValueError(f"default model {service.default_model!r} of {service.name!r} is not listed")

    @property
    def services(self) -> list[CatalogService]:
        """Services in configured order; the first is the default."""
        return list(self._services.values())

    @property
    def default_service(self) -> CatalogService:
        return next(iter(self._services.values()))

    def service(self, name: str) -> CatalogService:
        """The named service, or a 400 naming `service`."""
        try:
            return self._services[name]
        except KeyError:
            known = ", ".join(self._services)
            raise InvalidRequestError(
                f"Unknown service {name!r}; available: {known}", code="unknown_service", param="service"
            ) from None

    def models(self, service: str = "", category: str = "") -> list[CatalogModel]:
        """Models filtered by service and category (empty means any)."""
        if service:
            self.service(service)
        if category and category not in CATEGORIES:
            raise InvalidRequestError(
                f"Unknown category {category!r}; use one of {', '.join(CATEGORIES)}",
                code="invalid_category",
                param="category",
            )
        return [
            m
            for m in self._models
            if (not service or m.service == service) and (not category or m.category == category)
        ]

    def aliases_of(self, model: CatalogModel) -> tuple[str, ...]:
        """The short names that select `model` alone (without naming its service)."""
        alias = short_alias(model.id)
        unique = alias and alias not in self._ids and self._aliases.get(alias) == [model]
        return (alias,) if unique else ()

    def resolve(self, model: str, service: str) -> CatalogModel:
        """The model a request names: explicit model and/or service, else the default.

        `service:model-id` (the form a chat response's `model` field shows) is accepted too, and
        so is a short alias (`grok-beta` for `x-ai/grok-beta`) that names one model only.
        """
        prefix, colon, rest = model.partition(":")
        if colon and prefix in self._services and (not service or service == prefix):
            model, service = rest, prefix
        if service:
            svc = self.service(service)
            model_id = model or svc.default_model
            found = self._by_key.get((svc.name, model_id))
            if found is None:
                found = self._by_alias(model_id, svc.name)
            if found is None:
                owners = [m.service for m in self._models if m.id == model_id]
                owners += [m.service for m in self._aliases.get(model_id, ()) if m.service not in owners]
                if owners:
                    raise InvalidRequestError(
                        f"Model {model_id!r} is offered by {', '.join(owners)}, not {service!r}",
                        code="model_service_mismatch",
                        param="service",
                    )
                raise self._unknown(model_id)
            return found
        if not model:
            svc = self.default_service
            return self._by_key[(svc.name, svc.default_model)]
        for candidate in self._models:
            if candidate.id == model:
                return candidate
        found = self._by_alias(model, "")
        if found is None:
            raise self._unknown(model)
        return found

    def _by_alias(self, alias: str, service: str) -> CatalogModel | None:
        """The one model `alias` means (within `service`, if given), None for none; a 400
        naming the candidates when it could mean several."""
        candidates = [m for m in self._aliases.get(alias, ()) if not service or m.service == service]
        if len(candidates) > 1:
            ids = [m.id for m in candidates]
            # Each candidate as a name that selects it: its id, or `service:id` if several share it.
            names = [m.id if ids.count(m.id) == 1 else m.qualified_id for m in candidates]
            raise InvalidRequestError(
                f"Model {alias!r} is ambiguous: it may mean {', '.join(names)}; name one of them",
                code="ambiguous_model",
                param="model",
                details={"candidates": ", ".join(names)},
            )
        return candidates[0] if candidates else None

    @staticmethod
    def _unknown(model_id: str) -> NotFoundError:
        return NotFoundError(
            f"Model {model_id!r} does not exist",
            code="model_not_found",
            param="model",
            suggestion="List the available models with GET /v1/developer/models",
        )


def short_alias(model_id: str) -> str:
    """The part of a model id after its last `/` (`grok-beta` for `x-ai/grok-beta`); empty for an
    id without one."""
    head, slash, tail = model_id.rpartition("/")
    return tail if slash and head else ""


def _model(raw: Mapping[str, Any]) -> CatalogModel:
    return CatalogModel(
        id=str(raw["id"]),
        service=str(raw["service"]),
        name=str(raw["name"]),
        description=str(raw.get("description", "")),
        context_length=int(raw["context_length"]),
        max_output_tokens=int(raw["max_output_tokens"]),
        prompt_price=float(raw["prompt_price"]),
        completion_price=float(raw["completion_price"]),
        capabilities=tuple(str(c) for c in raw.get("capabilities", ["chat"])),
        category=str(raw.get("category", "chat")),
        dimensions=int(raw.get("dimensions", 0)),
    )


def builtin_entries() -> tuple[list[CatalogService], list[CatalogModel]]:
    """The services and models shipped with the package (`models.toml`)."""
    text = resources.files("aihub_core.catalog").joinpath("models.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    services = [
        CatalogService(name=name, default_model=str(s["default_model"]), capabilities=dict(s["capabilities"]))
        for name, s in data["services"].items()
    ]
    return services, [_model(m) for m in data["models"]]


def load_builtin_catalog() -> Catalog:
    """The catalog shipped with the package."""
    return Catalog(*builtin_entries())
