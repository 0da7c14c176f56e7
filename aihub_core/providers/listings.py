"""Providers' model lists (upstream-protocols §2.6, §3.9) read into what they say about each model.

Pure functions over decoded JSON (`ModelListParser`s, one per list format, named in the provider
registry): what a list does not say stays None, so the local catalog's value is kept for it. The
adapters fetch the pages (`HTTPProvider.list_models`); `aihub models sync` stores what they read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol


class ListingError(ValueError):
    """The body is not a model list of the expected shape."""


@dataclass(frozen=True)
class Listed:
    """One model as a provider lists it; None means the list does not say."""

    id: str
    name: str | None = None
    description: str | None = None
    context_length: int | None = None
    max_output_tokens: int | None = None
    prompt_price: float | None = None
    completion_price: float | None = None
    capabilities: tuple[str, ...] | None = None

    def known(self) -> dict[str, object]:
        """The fields the list states (all but `id`)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "id" and getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class Page:
    """One page of a model list: usable models, skipped ids with the reason, the next page's cursor."""

    models: list[Listed]
    skipped: list[tuple[str, str]]
    next: str | None = None


ModelListParser = Callable[[object], Page]


class ModelLister(Protocol):
    """What lists a service's models: an adapter (`HTTPProvider`)."""

    async def list_models(self, parse: ModelListParser, *, page_size: int | None = None) -> Page:
        """Every page of the service's model list, each read by `parse`, gathered into one page."""
        ...


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _price(value: object) -> Decimal | None:
    """OpenRouter prices are decimal strings per token; numbers are tolerated."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


def _entries(payload: object, key: str) -> list[Any]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get(key, []), list):
        raise ListingError(f"expected a JSON object with a {key!r} list")
    return list(payload.get(key, []))


def openrouter_page(payload: object) -> Page:
    """`GET {base}/models`: prices as strings, `"-1"` on router pseudo-models, `context_length` maybe null."""
    listed: list[Listed] = []
    skipped: list[tuple[str, str]] = []
    for entry in _entries(payload, "data"):
        model_id = _text(entry.get("id")) if isinstance(entry, Mapping) else None
        if not model_id:
            skipped.append(("?", "entry without an id"))
            continue
        pricing = entry.get("pricing")
        pricing = pricing if isinstance(pricing, Mapping) else {}
        prompt, completion = _price(pricing.get("prompt")), _price(pricing.get("completion"))
        if prompt is None or completion is None:
            skipped.append((model_id, "no usable price"))
            continue
        if prompt < 0 or completion < 0:
            skipped.append((model_id, "router pseudo-model (price -1)"))
            continue
        top = entry.get("top_provider")
        top = top if isinstance(top, Mapping) else {}
        architecture = entry.get("architecture")
        inputs = architecture.get("input_modalities") if isinstance(architecture, Mapping) else None
        images = isinstance(inputs, list) and "image" in inputs
        listed.append(
            Listed(
                id=model_id,
                name=_text(entry.get("name")),
                description=_text(entry.get("description")),
                context_length=_positive(entry.get("context_length")) or _positive(top.get("context_length")),
                max_output_tokens=_positive(top.get("max_completion_tokens")),
                prompt_price=float(prompt),
                completion_price=float(completion),
                capabilities=("chat", "multimodal") if images else ("chat",),
            )
        )
    links = payload.get("links") if isinstance(payload, Mapping) else None
    following = _text(links.get("next")) if isinstance(links, Mapping) else None
    return Page(listed, skipped, following or None)


def gemini_page(payload: object) -> Page:
    """`GET {base}/models`: `models/` prefixed names, chat models are those with `generateContent`."""
    listed: list[Listed] = []
    skipped: list[tuple[str, str]] = []
    for entry in _entries(payload, "models"):
        name = _text(entry.get("name")) if isinstance(entry, Mapping) else None
        if not name:
            skipped.append(("?", "entry without a name"))
            continue
        methods = entry.get("supportedGenerationMethods")
        if not isinstance(methods, list) or "generateContent" not in methods:
            continue  # embedding and other non-chat models share the list; they are not ours to sync
        listed.append(
            Listed(
                id=name.removeprefix("models/"),
                name=_text(entry.get("displayName")),
                description=_text(entry.get("description")),
                context_length=_positive(entry.get("inputTokenLimit")),
                max_output_tokens=_positive(entry.get("outputTokenLimit")),
            )
        )
    token = _text(payload.get("nextPageToken")) if isinstance(payload, Mapping) else None
    return Page(listed, skipped, token or None)
