"""Validate the spec's `images`: strict base64, MIME type sniffed from the bytes, bounded size.

The declared type of a data URI is ignored: the bytes decide, so a mislabelled upload still
reaches the provider with the type the provider will detect.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from aihub_core.errors import InvalidRequestError
from aihub_core.messages import Image

MAX_TOTAL_IMAGE_BYTES = 20 * 1024 * 1024  # Gemini's inline request limit, applied to every provider
# Images larger than this in total are decoded or encoded off the event loop (tens of milliseconds).
OFF_LOOP_BYTES = 256 * 1024

_DATA_URI = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^,;]*)*),", re.ASCII)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, GIF or WebP image from its magic bytes, else None."""
    for magic, mime in _SIGNATURES:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_images(
    values: Sequence[str], *, max_total_bytes: int = MAX_TOTAL_IMAGE_BYTES
) -> tuple[Image, ...]:
    """Check each raw-base64 or `data:` URI image and return it ready to send inline."""
    images: list[Image] = []
    total = 0
    for index, value in enumerate(values):
        param = f"images[{index}]"
        payload = _base64_payload(value, param)
        # The decoded size is known from the text: refuse a huge upload before decoding it.
        total += len(payload) // 4 * 3 - payload[-2:].count("=")
        check_total(total, param, max_total_bytes)
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError(
                f"{param} is not valid base64", param=param, suggestion="Send the image bytes base64-encoded"
            ) from None
        if not data:
            raise InvalidRequestError(f"{param} is empty", param=param)
        images.append(Image(mime_type=_mime(data, param), data_b64=payload))
    return tuple(images)


def encode_image(data: bytes, param: str, detail: str = "") -> Image:
    """Image bytes ready to send inline: PNG, JPEG, GIF or WebP, as the bytes say, in base64."""
    return Image(mime_type=_mime(data, param), data_b64=base64.b64encode(data).decode("ascii"), detail=detail)


def _mime(data: bytes, param: str) -> str:
    mime = sniff_image_type(data)
    if mime is None:
        raise InvalidRequestError(
            f"{param} is not a PNG, JPEG, GIF or WebP image",
            param=param,
            suggestion="Supported image formats: PNG, JPEG, GIF, WebP",
        )
    return mime


def check_total(total: int, param: str, max_total_bytes: int = MAX_TOTAL_IMAGE_BYTES) -> None:
    """Refuse images larger than `max_total_bytes` together."""
    if total > max_total_bytes:
        raise _too_large(param, max_total_bytes)


def _base64_payload(value: str, param: str) -> str:
    """The base64 text of a raw or data-URI image, whitespace (line wrapping) removed."""
    text = value.strip()
    if text[:5].lower() == "data:":
        match = _DATA_URI.match(text)
        if match is None or ";base64" not in match["params"].lower():
            raise InvalidRequestError(
                f"{param} is a data URI without base64 data",
                param=param,
                suggestion="Use data:<mime>;base64,<data> or raw base64",
            )
        text = text[match.end() :]
    return "".join(text.split())  # 25x faster than a regex on a 27 MB string


def _too_large(param: str, limit: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"images exceed {limit // (1024 * 1024)} MB in total",
        param=param,
        suggestion="Send fewer or smaller images",
    )
