"""Simulated embeddings: a deterministic unit vector per text, from a hash of the text.

A shortened vector (`dimensions`, Gemini's `outputDimensionality`) is the full one cut and scaled
back to unit length, as models trained for shortening (Matryoshka) give it.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct


def embedding_vector(text: str, full: int, dimensions: int | None = None) -> list[float]:
    """The unit vector of `text`: `full` long, or its first `dimensions` values renormalised."""
    rng = random.Random(hashlib.sha256(text.encode("utf-8")).digest())
    values = [rng.uniform(-1.0, 1.0) for _ in range(full)][: dimensions or full]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def encode_vector(values: list[float], as_base64: bool) -> list[float] | str:
    """As OpenAI's `encoding_format`: floats, or base64 of little-endian float32."""
    if as_base64:
        return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
    return values
