"""OpenAI's wire format over the core's RPCs: `POST /v1/chat/completions` (answers and chunks),
`GET /v1/models`, `GET /v1/models/{model}`, `POST /v1/embeddings`, and errors in OpenAI's shape,
so the official SDKs work unchanged.

    values.py        JSON values read with type checks that name the parameter
    chat_request.py  a chat completion body -> Create/StreamChatCompletionRequest
    embeddings.py    an embeddings body -> CreateEmbeddingsRequest, and the answer's list
    answers.py       replies -> `chat.completion`, `chat.completion.chunk` frames, models
    errors.py        the shim's ApiError -> OpenAI's error object (param names OpenAI's)
    endpoints.py     the endpoints: the same machinery as the developer API's routes
    openapi.py       the routes' operations and schemas in the OpenAPI document
"""

from __future__ import annotations

from aihub_http.openai.endpoints import openai_endpoint

__all__ = ["openai_endpoint"]
