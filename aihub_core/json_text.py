"""JSON text from outside the process (upstream answers, files), decoded without surprises."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes | bytearray) -> Any:
    """`json.loads`, except that a document nested too deep for the decoder is a ValueError like
    any other malformed one (the decoder raises RecursionError, which no `except ValueError`
    around a decode expects)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
