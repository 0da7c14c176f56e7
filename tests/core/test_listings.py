"""Reading providers' model lists: OpenRouter's string prices and sentinels, Gemini's names and methods."""

from __future__ import annotations

from typing import Any

import pytest

from aihub_core.catalog.listings import Listed, ListingError, gemini_page, openrouter_page


def router(
    model_id: str, prompt: Any = "0.000001", completion: Any = "0.000002", **extra: Any
) -> dict[str, Any]:
    return {"id": model_id, "pricing": {"prompt": prompt, "completion": completion}, **extra}


def test_openrouter_prices_are_decimal_strings_per_token() -> None:
    page = openrouter_page(
        {
            "data": [
                router(
                    "acme/widget",
                    "0.0000002",
                    "0.0000006",
                    name="Acme: Widget",
                    context_length=131072,
                    architecture={"input_modalities": ["text", "image"]},
                    top_provider={"max_completion_tokens": 16384},
                )
            ]
        }
    )
    assert page.models == [
        Listed(
            "acme/widget", "Acme: Widget", None, 131072, 16384, 0.0000002, 0.0000006, ("chat", "multimodal")
        )
    ]
    assert page.next is None and page.skipped == []


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (router("openrouter/auto", "-1", "-1"), "router pseudo-model (price -1)"),
        (router("a/b", "0.1", "-1"), "router pseudo-model (price -1)"),
        (router("a/b", "free", "0"), "no usable price"),
        (router("a/b", None, "0"), "no usable price"),
        ({"id": "a/b"}, "no usable price"),
    ],
)
def test_openrouter_skips_pseudo_models_and_unpriced_entries(entry: dict[str, Any], reason: str) -> None:
    page = openrouter_page({"data": [entry]})
    assert page.models == [] and page.skipped == [(entry["id"], reason)]


def test_openrouter_null_context_length_says_nothing() -> None:
    (model,) = openrouter_page({"data": [router("a/b", context_length=None, top_provider=None)]}).models
    assert model.context_length is None and model.max_output_tokens is None
    assert "context_length" not in model.known()
    (sized,) = openrouter_page(
        {"data": [router("a/b", context_length=None, top_provider={"context_length": 8})]}
    ).models
    assert sized.context_length == 8


def test_openrouter_follows_links_next() -> None:
    assert openrouter_page({"data": [], "links": {"next": "/api/v1/models?offset=500"}}).next == (
        "/api/v1/models?offset=500"
    )


def test_gemini_keeps_generate_content_models_without_the_prefix() -> None:
    page = gemini_page(
        {
            "models": [
                {
                    "name": "models/gemini-2.5-flash",
                    "displayName": "Gemini 2.5 Flash",
                    "inputTokenLimit": 1048576,
                    "outputTokenLimit": 65536,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                },
                {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
            ],
            "nextPageToken": "abc",
        }
    )
    assert page.models == [Listed("gemini-2.5-flash", "Gemini 2.5 Flash", None, 1048576, 65536)]
    assert page.models[0].prompt_price is None  # Gemini's list has no prices
    assert page.next == "abc"


@pytest.mark.parametrize("body", [[], {"data": "x"}, "text", None])
def test_bodies_that_are_not_lists_are_refused(body: object) -> None:
    with pytest.raises(ListingError):
        openrouter_page(body)
