from __future__ import annotations

import base64

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.messages import Image
from aihub_core.providers.images import decode_images, sniff_image_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
GIF = b"GIF89a" + b"\x00" * 24
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 16


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a..", "image/gif"),
        (WEBP, "image/webp"),
    ],
)
def test_types_are_sniffed_from_magic_bytes(data: bytes, mime: str) -> None:
    assert sniff_image_type(data) == mime
    assert decode_images([b64(data)]) == (Image(mime, b64(data)),)


def test_a_data_uri_is_accepted_and_its_declared_type_ignored() -> None:
    (image,) = decode_images([f"data:image/gif;base64,{b64(PNG)}"])
    assert image == Image("image/png", b64(PNG))


def test_wrapped_base64_has_its_whitespace_removed() -> None:
    text = b64(PNG * 4)
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert decode_images([wrapped]) == (Image("image/png", text),)


@pytest.mark.parametrize(
    ("values", "param", "fragment"),
    [
        ([b64(PNG), "not base64!"], "images[1]", "not valid base64"),
        ([b64(PNG)[:-1]], "images[0]", "not valid base64"),  # bad padding
        ([b64(b"%PDF-1.7 hello")], "images[0]", "PNG, JPEG, GIF or WebP"),
        ([""], "images[0]", "empty"),
        (["data:image/png,rawtext"], "images[0]", "data URI"),
    ],
)
def test_bad_images_name_their_index(values: list[str], param: str, fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        decode_images(values)
    assert raised.value.details["parameter"] == param
    assert fragment in raised.value.message
    assert raised.value.http_status == 400


def test_the_total_decoded_size_is_limited() -> None:
    image = b64(PNG + b"\x00" * 68)  # 100 bytes decoded
    assert len(decode_images([image, image], max_total_bytes=200)) == 2
    with pytest.raises(InvalidRequestError) as raised:
        decode_images([image, image, image], max_total_bytes=200)
    assert raised.value.details["parameter"] == "images[2]"


def test_the_default_limit_is_20_mb() -> None:
    big = "iVBORw0K" + "A" * (28 * 1024 * 1024)  # refused by its length, before any decoding
    with pytest.raises(InvalidRequestError, match="20 MB"):
        decode_images([big])
