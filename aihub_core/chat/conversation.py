"""Build the upstream conversation: system prompt, the session's history trimmed to the
model's context window, and the new user turn; and the call's token estimate, made while
trimming and carried from there to admission and the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aihub_core.catalog import CatalogModel
from aihub_core.errors import InvalidRequestError
from aihub_core.limits.tokens import estimate_message
from aihub_core.messages import Image, Message, ProviderRequest
from aihub_core.store.base import StoredMessage

# When the caller sets no max_tokens, keep this much of the window free for the answer.
DEFAULT_ANSWER_RESERVE = 1024


def image_to_data_uri(image: Image) -> str:
    """How an image is stored with its session turn."""
    return f"data:{image.mime_type};base64,{image.data_b64}"


def image_from_data_uri(uri: str) -> Image:
    """The inverse of image_to_data_uri (stored values were validated when first sent)."""
    head, _, data = uri.partition(",")
    return Image(mime_type=head.removeprefix("data:").removesuffix(";base64"), data_b64=data)


def _stored_to_message(stored: StoredMessage) -> Message:
    return Message.of(stored.role, stored.content, tuple(image_from_data_uri(i) for i in stored.images))


@dataclass(frozen=True)
class Conversation:
    """The request for one model, with the token estimate of its prompt (the messages as trimmed)
    and of its answer (max_tokens, or the reserve kept for an answer when it is unset)."""

    request: ProviderRequest
    prompt_tokens: int
    answer_tokens: int

    @property
    def tokens(self) -> int:
        """Tokens the call may use: what it is admitted with."""
        return self.prompt_tokens + self.answer_tokens


def build_conversation(
    model: CatalogModel,
    history: Sequence[StoredMessage],
    user_turn: Message,
    system_prompt: str,
    max_tokens: int | None,
    temperature: float | None,
) -> Conversation:
    """The conversation for this turn; the oldest history turns go first when it does not fit."""
    if max_tokens is not None and max_tokens > model.max_output_tokens:
        raise InvalidRequestError(
            f"max_tokens may be at most {model.max_output_tokens} for {model.id}, got {max_tokens}",
            param="max_tokens",
        )
    system = (Message.of("system", system_prompt),) if system_prompt else ()
    reserve = max_tokens if max_tokens is not None else min(DEFAULT_ANSWER_RESERVE, model.max_output_tokens)
    prompt = sum(estimate_message(m) for m in (*system, user_turn))
    budget = model.context_length - reserve - prompt
    if budget < 0:
        raise InvalidRequestError(
            f"The message, system prompt and max_tokens exceed the {model.context_length}-token context "
            f"window of {model.id}",
            code="context_length_exceeded",
            param="message",
        )
    kept: list[Message] = []
    # Walk back from the newest turn; drop whole user+assistant pairs so roles keep alternating.
    turns = [_stored_to_message(m) for m in history]
    for i in range(len(turns) - 1, 0, -2):
        pair = turns[i - 1 : i + 1]
        cost = sum(estimate_message(m) for m in pair)
        if cost > budget or pair[0].role != "user" or pair[1].role != "assistant":
            break
        budget -= cost
        prompt += cost
        kept[:0] = pair
    request = ProviderRequest(
        model=model.id,
        messages=(*system, *kept, user_turn),
        max_tokens=max_tokens,
        temperature=temperature,
    )
    return Conversation(request, prompt_tokens=prompt, answer_tokens=reserve)
