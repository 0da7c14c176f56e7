"""The message-array form of a chat: the caller's whole conversation, sent as it is (nothing is
trimmed: it is theirs), with its images encoded and its token estimate made, per model."""

from __future__ import annotations

import asyncio

from aihub_core.catalog import CatalogModel
from aihub_core.chat.completion_params import CompletionParams, ImageBytes, InputMessage
from aihub_core.chat.conversation import DEFAULT_ANSWER_RESERVE, Conversation
from aihub_core.errors import InvalidRequestError
from aihub_core.limits.tokens import estimate_prompt
from aihub_core.messages import ContentPart, Message, ProviderRequest
from aihub_core.providers.images import OFF_LOOP_BYTES, check_total, encode_image


async def encode_messages(messages: tuple[InputMessage, ...]) -> tuple[Message, ...]:
    """The messages ready to send: image bytes checked (type, 20 MB in all) and base64-encoded,
    off the event loop when they are large."""
    total = sum(len(p.data) for m in messages for p in m.parts if isinstance(p, ImageBytes))
    check_total(total, "messages")
    if total > OFF_LOOP_BYTES:
        return await asyncio.to_thread(_encode, messages)
    return _encode(messages)


def _encode(messages: tuple[InputMessage, ...]) -> tuple[Message, ...]:
    out: list[Message] = []
    for index, message in enumerate(messages):
        parts: list[ContentPart] = []
        for position, part in enumerate(message.parts):
            if isinstance(part, ImageBytes):
                param = f"messages[{index}].content[{position}].image.data"
                parts.append(encode_image(part.data, param, part.detail))
            else:
                parts.append(part)
        out.append(
            Message(message.role, tuple(parts), message.tool_calls, message.tool_call_id, message.name)
        )
    return tuple(out)


def has_images(messages: tuple[Message, ...]) -> bool:
    """Whether any message carries an image."""
    return any(m.images for m in messages)


def completion_conversation(
    model: CatalogModel, params: CompletionParams, messages: tuple[Message, ...]
) -> Conversation:
    """The request for `model`, with the estimate of its prompt (every message, tool schema and
    image) and of its answer (max_tokens, or the reserve kept for an answer when it is unset)."""
    if params.max_tokens is not None and params.max_tokens > model.max_output_tokens:
        raise InvalidRequestError(
            f"generation.max_tokens may be at most {model.max_output_tokens} for {model.id}, "
            f"got {params.max_tokens}",
            param="generation.max_tokens",
        )
    request = ProviderRequest(
        model=model.id,
        messages=messages,
        max_tokens=params.max_tokens,
        temperature=params.temperature,
        top_p=params.top_p,
        stop=params.stop,
        seed=params.seed,
        presence_penalty=params.presence_penalty,
        frequency_penalty=params.frequency_penalty,
        user=params.user,
        tools=params.tools,
        tool_choice=params.tool_choice,
        parallel_tool_calls=params.parallel_tool_calls,
        response_format=params.response_format,
    )
    prompt = estimate_prompt(request)
    reserve = (
        params.max_tokens
        if params.max_tokens is not None
        else min(DEFAULT_ANSWER_RESERVE, model.max_output_tokens)
    )
    if prompt + reserve > model.context_length:
        raise InvalidRequestError(
            f"The messages, tools and max_tokens (about {prompt + reserve} tokens) exceed the "
            f"{model.context_length}-token context window of {model.id}",
            code="context_length_exceeded",
            param="messages",
        )
    return Conversation(request, prompt_tokens=prompt, answer_tokens=reserve)
