"""The model catalogue and the upstream services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._common import raw_field


@dataclass(frozen=True)
class ModelPricing:
    """US dollars per prompt and per completion token."""

    prompt: float = 0.0
    completion: float = 0.0


@dataclass(frozen=True)
class Model:
    """One model of the catalog."""

    id: str
    name: str
    description: str = ""
    context_length: int | None = None
    pricing: ModelPricing = field(default_factory=ModelPricing)
    capabilities: tuple[str, ...] = ()
    service: str | None = None
    category: str | None = None
    aliases: tuple[str, ...] = ()
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class ModelList:
    """The answer of `GET /v1/developer/models`; iterating it yields the models."""

    models: tuple[Model, ...]
    total_count: int
    service: str | None = None
    next_page_token: str = ""
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)


@dataclass(frozen=True)
class ServiceList:
    """The answer of `GET /v1/developer/services`."""

    services: tuple[str, ...]
    default: str | None
    capabilities: Mapping[str, Mapping[str, Any]]
    simulated: Mapping[str, bool] = field(default_factory=dict)
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()
