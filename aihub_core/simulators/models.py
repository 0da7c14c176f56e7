"""What the simulated upstreams offer: model ids with the metadata their model lists publish.

The ids match the built-in catalog, so the embedded default answers every catalog model.
Prices are strings in USD per token, as OpenRouter publishes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SimModel:
    """One model of a simulated upstream."""

    id: str
    name: str
    context_length: int = 131072
    max_output_tokens: int = 8192
    prompt_price: str = "0.000001"
    completion_price: str = "0.000002"
    images: bool = False
    chat: bool = True
    dimensions: int = 768  # an embedding model's vector length

    @property
    def thinks(self) -> bool:
        """Whether it spends thinking tokens before answering (Gemini 2.5 does)."""
        return "2.5" in self.id and self.id.startswith("gemini")


OPENROUTER_MODELS = (
    SimModel("x-ai/grok-beta", "xAI: Grok Beta", 131072, 16384, "0.000002", "0.000002", True),
    SimModel("x-ai/grok-vision-beta", "xAI: Grok Vision Beta", 8192, 4096, "0.000005", "0.000015", True),
    SimModel(
        "anthropic/claude-3-sonnet", "Anthropic: Claude 3 Sonnet", 200000, 4096, "0.000003", "0.000015", True
    ),
    SimModel(
        "anthropic/claude-3.5-sonnet",
        "Anthropic: Claude 3.5 Sonnet",
        200000,
        8192,
        "0.000003",
        "0.000015",
        True,
    ),
    SimModel(
        "anthropic/claude-3-haiku",
        "Anthropic: Claude 3 Haiku",
        200000,
        4096,
        "0.00000025",
        "0.00000125",
        True,
    ),
    SimModel(
        "anthropic/claude-3-opus", "Anthropic: Claude 3 Opus", 200000, 4096, "0.000015", "0.000075", True
    ),
    SimModel("openai/gpt-4o", "OpenAI: GPT-4o", 128000, 16384, "0.0000025", "0.00001", True),
    SimModel("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", 128000, 16384, "0.00000015", "0.0000006", True),
    SimModel("openai/gpt-4-turbo", "OpenAI: GPT-4 Turbo", 128000, 4096, "0.00001", "0.00003", True),
    SimModel("openai/gpt-3.5-turbo", "OpenAI: GPT-3.5 Turbo", 16385, 4096, "0.0000005", "0.0000015"),
    SimModel(
        "openai/gpt-3.5-turbo-instruct", "OpenAI: GPT-3.5 Turbo Instruct", 4095, 4096, "0.0000015", "0.000002"
    ),
    SimModel(
        "meta-llama/llama-3.1-405b-instruct",
        "Meta: Llama 3.1 405B Instruct",
        131072,
        16384,
        "0.0000008",
        "0.0000008",
    ),
    SimModel(
        "meta-llama/llama-3.1-70b-instruct",
        "Meta: Llama 3.1 70B Instruct",
        131072,
        16384,
        "0.00000012",
        "0.0000003",
    ),
    SimModel(
        "meta-llama/llama-3.1-8b-instruct",
        "Meta: Llama 3.1 8B Instruct",
        131072,
        16384,
        "0.00000002",
        "0.00000005",
    ),
    SimModel("mistralai/mistral-large", "Mistral Large", 128000, 8192, "0.000002", "0.000006"),
    SimModel(
        "mistralai/mixtral-8x7b-instruct",
        "Mistral: Mixtral 8x7B Instruct",
        32768,
        8192,
        "0.00000024",
        "0.00000024",
    ),
    SimModel(
        "google/gemini-pro-1.5", "Google: Gemini Pro 1.5", 2000000, 8192, "0.00000125", "0.000005", True
    ),
    SimModel("deepseek/deepseek-chat", "DeepSeek: DeepSeek V3", 64000, 8192, "0.00000014", "0.00000028"),
    SimModel("qwen/qwen-2.5-72b-instruct", "Qwen2.5 72B Instruct", 32768, 8192, "0.00000035", "0.0000004"),
    SimModel("cohere/command-r-plus", "Cohere: Command R+", 128000, 4000, "0.0000025", "0.00001"),
    SimModel(
        "openai/text-embedding-3-small",
        "OpenAI: Text Embedding 3 Small",
        8192,
        0,
        "0.00000002",
        "0",
        chat=False,
        dimensions=1536,
    ),
)

GEMINI_MODELS = (
    SimModel("gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536, images=True),
    SimModel("gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536, images=True),
    SimModel("gemini-2.0-flash", "Gemini 2.0 Flash", 1048576, 8192, images=True),
    SimModel("gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite", 1048576, 8192, images=True),
    SimModel("gemini-1.5-pro", "Gemini 1.5 Pro", 2097152, 8192, images=True),
    SimModel("gemini-1.5-flash", "Gemini 1.5 Flash", 1048576, 8192, images=True),
    SimModel("text-embedding-004", "Text Embedding 004", 2048, 1, chat=False),
    SimModel("gemini-embedding-001", "Gemini Embedding 001", 2048, 1, chat=False, dimensions=3072),
)


def select(table: Iterable[SimModel], ids: Iterable[str] | None) -> dict[str, SimModel]:
    """The models a simulator serves: the whole table, or the given ids (unknown ones get defaults)."""
    known = {model.id: model for model in table}
    if ids is None:
        return known
    return {i: known.get(i) or SimModel(i, i.rsplit("/", 1)[-1]) for i in ids}
