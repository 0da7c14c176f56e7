"""A chat request as validated plain data, before any model is called."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from aihub_core.errors import InvalidRequestError

SESSION_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
MAX_MESSAGE_CHARS = 2_000_000
MAX_SYSTEM_PROMPT_CHARS = 200_000
MAX_IMAGES = 16


@dataclass(frozen=True)
class ChatParams:
    """The fields of the REST body / ChatRequest, checked against the spec's ranges."""

    message: str
    model: str = ""
    service: str = ""
    max_tokens: int | None = None
    temperature: float | None = None
    session_id: str = ""
    images: tuple[str, ...] = ()
    system_prompt: str = ""

    def __post_init__(self) -> None:
        if not self.message.strip():
            raise InvalidRequestError(
                "message is required and must not be empty", code="missing_parameter", param="message"
            )
        if len(self.message) > MAX_MESSAGE_CHARS:
            raise InvalidRequestError(
                f"message may be at most {MAX_MESSAGE_CHARS} characters",
                code="message_too_long",
                param="message",
            )
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InvalidRequestError(
                f"max_tokens must be at least 1, got {self.max_tokens}", param="max_tokens"
            )
        if self.temperature is not None and not (
            math.isfinite(self.temperature) and 0.0 <= self.temperature <= 1.0
        ):
            raise InvalidRequestError(
                f"temperature must be between 0 and 1, got {self.temperature}", param="temperature"
            )
        if self.session_id and not SESSION_ID.match(self.session_id):
            raise InvalidRequestError(
                "session_id may hold 1 to 128 letters, digits and _ . : - characters",
                code="invalid_session_id",
                param="session_id",
            )
        if len(self.images) > MAX_IMAGES:
            raise InvalidRequestError(f"At most {MAX_IMAGES} images per message", param="images")
        if len(self.system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
            raise InvalidRequestError(
                f"system_prompt may be at most {MAX_SYSTEM_PROMPT_CHARS} characters",
                param="context.system_prompt",
            )
