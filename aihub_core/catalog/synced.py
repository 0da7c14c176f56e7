"""The synced catalog file (`aihub models sync` writes it beside the database) and how it merges.

Merge rule: a listed model's stated fields replace the built-in ones field by field; what the list
does not state (Gemini's prices, a null context length) keeps the built-in value. A model the list
no longer carries is dropped, except embedding models (the chat-model filters never list them) and
a service's default model. A model new to us without a context length cannot be validated: skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aihub_core import json_text
from aihub_core.catalog.catalog import Catalog, CatalogModel, CatalogService, builtin_entries
from aihub_core.errors import ConfigError
from aihub_core.providers.listings import Listed

FORMAT = 1


@dataclass(frozen=True)
class SyncedService:
    """One service's model list as last fetched: from where, and whether a simulator answered."""

    source: str
    simulated: bool
    models: tuple[Listed, ...]


@dataclass(frozen=True)
class SyncedCatalog:
    """Everything the last sync fetched, by service name."""

    synced_at: str
    services: Mapping[str, SyncedService]


def retained(model: CatalogModel, default_model: str) -> bool:
    """Whether a local model stays although its provider's list no longer carries it."""
    return model.category == "embedding" or model.id == default_model


def merge(
    services: Iterable[CatalogService], models: Iterable[CatalogModel], synced: SyncedCatalog | None
) -> Catalog:
    """The built-in entries with the synced lists applied (see the module docstring)."""
    services = list(services)
    merged = list(models)
    for service in services:
        listing = synced.services.get(service.name) if synced else None
        if listing is None:
            continue
        base = {m.id: m for m in merged if m.service == service.name}
        listed_ids = {entry.id for entry in listing.models}
        result = [m for m in base.values() if m.id not in listed_ids and retained(m, service.default_model)]
        for entry in listing.models:
            model = _apply(base.get(entry.id), service.name, entry)
            if model is not None:
                result.append(model)
        merged = [m for m in merged if m.service != service.name] + result
    return Catalog(services, merged)


def _apply(base: CatalogModel | None, service: str, entry: Listed) -> CatalogModel | None:
    if base is not None:
        return replace(base, **entry.known())  # type: ignore[arg-type]
    if entry.context_length is None:
        return None
    return CatalogModel(
        id=entry.id,
        service=service,
        name=entry.name or entry.id,
        description=entry.description or "",
        context_length=entry.context_length,
        max_output_tokens=entry.max_output_tokens or entry.context_length,
        # Gemini publishes no prices: a new model is free until the operator pins a price.
        prompt_price=entry.prompt_price or 0.0,
        completion_price=entry.completion_price or 0.0,
        capabilities=entry.capabilities or ("chat",),
    )


def load_catalog(path: Path | None) -> Catalog:
    """The built-in catalog merged with the synced file at `path`, if there is one."""
    return merge(*builtin_entries(), read_synced(path) if path is not None else None)


def read_synced(path: Path) -> SyncedCatalog | None:
    """The synced file, None when absent; a damaged file is a ConfigError naming it."""
    try:
        data = json_text.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"{path}: unreadable synced catalog ({err}); delete it or run `aihub models sync`"
        ) from None
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        services = {name: _service(raw) for name, raw in data["services"].items()}
        return SyncedCatalog(str(data["synced_at"]), services)
    except (AttributeError, KeyError, TypeError, ValueError) as err:
        raise ConfigError(
            f"{path}: not a synced catalog this version understands ({err!r}); "
            "delete it or run `aihub models sync`"
        ) from None


def _service(raw: Mapping[str, Any]) -> SyncedService:
    models = []
    for entry in raw["models"]:
        values = dict(entry)
        if "capabilities" in values:
            values["capabilities"] = tuple(str(c) for c in values["capabilities"])
        for price in ("prompt_price", "completion_price"):
            if price in values:
                values[price] = float(values[price])
        model = Listed(**values)
        if not isinstance(model.id, str):
            raise TypeError("model id must be a string")
        models.append(model)
    return SyncedService(str(raw["source"]), bool(raw["simulated"]), tuple(models))


def write_synced(path: Path, synced: SyncedCatalog) -> None:
    """Write the file atomically: a reader sees the old file or the new one, never half of one."""
    body = {
        "format": FORMAT,
        "synced_at": synced.synced_at,
        "services": {
            name: {
                "source": service.source,
                "simulated": service.simulated,
                "models": [{"id": m.id, **_plain(m.known())} for m in service.models],
            }
            for name, service in synced.services.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _plain(known: dict[str, object]) -> dict[str, object]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in known.items()}
