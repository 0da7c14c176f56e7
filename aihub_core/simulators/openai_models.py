"""What OpenAI-compatible servers (as opposed to OpenRouter) say about models and accept as
images (upstream-protocols §1.8, §1.9)."""

from __future__ import annotations

import re
from typing import Any

from aihub_core.simulators.models import SimModel
from aihub_core.simulators.scenarios import Dialect

_OWNER: dict[str, str] = {"openai": "system", "vllm": "vllm", "vllm-legacy": "vllm", "ollama": "library"}
# Ollama takes only base64 data URLs of these types, or a typeless `data:;base64,`.
_OLLAMA_IMAGE = re.compile(r"^data:(image/(jpeg|jpg|png|webp))?;base64,")


def openai_listing(model: SimModel, dialect: Dialect) -> dict[str, Any]:
    """One entry of `GET /v1/models`: an id and an owner, no prices and (but for vLLM) no context."""
    entry: dict[str, Any] = {
        "id": model.id,
        "object": "model",
        "created": 1735689600,
        "owned_by": _OWNER.get(dialect, "llamacpp"),
    }
    if dialect.startswith("vllm"):
        entry.update(root=model.id, parent=None, max_model_len=model.context_length, permission=[])
    return entry


def ollama_images_ok(messages: list[Any]) -> bool:
    """Whether every image part is a data URL Ollama accepts (anything else is its 400)."""
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                if not isinstance(url, str) or not _OLLAMA_IMAGE.match(url):
                    return False
    return True
