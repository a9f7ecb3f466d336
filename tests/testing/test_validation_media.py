"""The fake's checks of images and documents (``_media.py``): media types against the bytes,
sizes, dimensions and counts; the real API's texts."""

from __future__ import annotations

import base64

import pytest

from .bodies import (
    assistant,
    bad,
    image_block,
    image_bytes,
    post,
    req,
    tool_use,
    user,
)

# -- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_images_of_every_format_pass(fmt: str, media_type: str) -> None:
    r = post(req(user([image_block(image_bytes(fmt), media_type), {"type": "text", "text": "?"}])))
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("fmt", "declared", "actual"),
    [
        ("PNG", "image/jpeg", "image/png"),
        ("JPEG", "image/png", "image/jpeg"),
        ("WEBP", "image/gif", "image/webp"),
        ("GIF", "image/webp", "image/gif"),
    ],
)
def test_image_media_type_must_match_the_bytes(fmt: str, declared: str, actual: str) -> None:
    msgs = [user([{"type": "text", "text": "look"}, image_block(image_bytes(fmt), declared)])]
    assert bad(req(*msgs)) == (
        f"messages.0.content.1.image.source.base64: The image was specified using the "
        f"{declared} media type, but the image appears to be a {actual} image"
    )


def test_unsupported_media_type() -> None:
    assert bad(req(user([image_block(image_bytes(), "image/bmp")]))) == (
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
        "'image/png', 'image/gif' or 'image/webp'"
    )


def test_bytes_that_are_no_image() -> None:
    assert bad(req(user([image_block(b"hello, not an image")]))) == (
        "messages.0.content.0.image.source.base64.data: Could not process image"
    )
    block = image_block(b"x")
    block["source"]["data"] = "data:image/png;base64,iVBOR"
    assert bad(req(user([block]))).startswith("messages.0.content.0.image.source.base64.data:")


def test_base64_over_the_limit() -> None:
    block = image_block(image_bytes())
    block["source"]["data"] = "A" * 5_242_881
    assert bad(req(user([{"type": "text", "text": "x"}, block]))) == (
        "messages.0.content.1.image.source.base64: image exceeds 5 MB maximum: 5242881 bytes > "
        "5242880 bytes"
    )


def test_dimensions_over_8000_px() -> None:
    assert bad(req(user([image_block(image_bytes(size=(8001, 2)))]))) == (
        "messages.0.content.0.image.source.base64.data: At least one of the image dimensions "
        "exceed max allowed size: 8000 pixels"
    )
    assert post(req(user([image_block(image_bytes(size=(8000, 2)))]))).status_code == 200


def test_dimensions_over_2000_px_with_more_than_20_images() -> None:
    small = image_block(image_bytes())
    wide = image_block(image_bytes(size=(2001, 2)))
    assert post(req(user([small] * 19 + [wide]))).status_code == 200  # 20 images: fine
    msgs = [user([small] * 10), assistant("ok"), user([small] * 10 + [wide])]
    assert bad(req(*msgs)) == (
        "messages.2.content.10.image.source.base64.data: At least one of the image dimensions "
        "exceed max allowed size for many-image requests: 2000 pixels"
    )


def test_more_than_100_images() -> None:
    small = image_block(image_bytes())
    assert post(req(user([small] * 100))).status_code == 200
    assert bad(req(user([small] * 101))) == "too many images and documents: 101 + 0 > 100"


def test_images_plus_document_pages_over_100() -> None:
    pdf = b"%PDF-1.4\n" + b"<< /Type /Page >>\n" * 11 + b"<< /Type /Pages >>\n%%EOF"
    doc = {
        "type": "document",
        "source": {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(pdf).decode(),
        },
    }
    small = image_block(image_bytes())
    assert (
        bad(req(user([doc] + [small] * 90)))
        == "Too much media: 11 document pages + 90 images > 100"
    )


def test_images_inside_tool_results_are_checked() -> None:
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_A",
        "content": [{"type": "text", "text": "chart"}, image_block(image_bytes(), "image/jpeg")],
    }
    msgs = [user("q"), assistant([tool_use()]), user([result])]
    assert bad(req(*msgs)).startswith(
        "messages.2.content.0.tool_result.content.1.image.source.base64: The image was specified "
        "using the image/jpeg media type"
    )


def test_url_images_are_accepted_unfetched() -> None:
    block = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    assert post(req(user([block, {"type": "text", "text": "?"}]))).status_code == 200
