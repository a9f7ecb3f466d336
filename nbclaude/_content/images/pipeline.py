"""The pipeline behind :func:`nbclaude.image`: decode, orient, resize, convert, encode, fit.

:func:`process_image` takes an opened (or user-given) PIL image and its encoded bytes, and
returns an :class:`ImageBlock` within ``max_edge``, ``max_pixels`` and the API's base64 limit;
:func:`image_from_bytes` opens encoded bytes and runs it. The module docstring of
:mod:`nbclaude._content.images.image` says what it does and why (draft-to-target for JPEGs, the
fast path that sends the original bytes, the order in which it re-encodes).

Pillow is imported inside the functions, never at module level.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbclaude._api.limits import LIMITS

from .block import ImageBlock
from .bytes import (
    MAX_BASE64,
    base64_length,
    fit,
    sniff_media_type,
    strip_metadata,
    webp_is_lossless,
)
from .decode import (
    check_pixels,
    exif_orientation,
    load_pixels,
    normalize_mode,
    open_image,
    upright,
)
from .sources import source_error

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = ["image_from_bytes", "process_image"]

#: Pillow format name -> the media type the API accepts.
_API_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG from cameras: a valid JPEG for everyone else
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# Modes whose original bytes every decoder handles; anything else is converted.
_SAFE_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA"})
# Formats usually holding photos: converted to JPEG (PNG when there is alpha).
_PHOTO_FORMATS = frozenset({"TIFF", "PSD", "JPEG2000", "HEIF", "AVIF", "DDS", "SGI"})
_JPEG_QUALITY = 85


def image_from_bytes(
    data: bytes | bytearray | memoryview,
    *,
    origin: str = "bytes",
    max_edge: int = LIMITS["native_edge"],
    max_pixels: int = LIMITS["native_pixels"],
    extra: Mapping[str, Any] | None = None,
) -> ImageBlock:
    """Encoded image bytes -> an image block; ``origin`` names them in error messages."""
    raw = bytes(data)
    if not raw:
        raise source_error(origin, "no data (0 bytes)")
    img = open_image(raw, origin)
    try:
        return process_image(
            img, data=raw, origin=origin, max_edge=max_edge, max_pixels=max_pixels, extra=extra
        )
    finally:
        img.close()


def process_image(
    img: PILImage,
    *,
    data: bytes | None,
    origin: str,
    max_edge: int,
    max_pixels: int,
    extra: Mapping[str, Any] | None = None,
) -> ImageBlock:
    """The pipeline for an opened (or user-given) PIL image; ``data`` = its encoded bytes."""
    from PIL import Image

    src_format, src_mode = img.format, img.mode
    jpeg = data is not None and src_format in ("JPEG", "MPO")
    if not jpeg:
        # Nothing to draft: decode now. Some plugins apply the orientation themselves while
        # loading (Pillow >= 11 for TIFF: the size is swapped and the tag dropped), so the
        # orientation is read after the load.
        if data is not None:
            check_pixels(img, origin)
        load_pixels(img, origin)
    orientation = exif_orientation(img)
    swap = orientation in (5, 6, 7, 8)
    w0, h0 = img.size
    rw, rh = (h0, w0) if swap else (w0, h0)  # as displayed
    tw, th = fit(rw, rh, max_edge, max_pixels)
    stored_target = (th, tw) if swap else (tw, th)
    media_type = _API_FORMATS.get(src_format or "")

    if (
        data is not None
        and media_type is not None
        and sniff_media_type(data) == media_type
        and orientation == 1
        and src_mode in _SAFE_MODES
        and (tw, th) == (rw, rh)
        and base64_length(len(data)) <= MAX_BASE64
    ):
        # Fast path: send the bytes as they are, after checking that they decode, minus
        # their metadata (a phone photo's EXIF holds where it was taken).
        if jpeg:
            img.draft(None, (max(1, w0 // 8), max(1, h0 // 8)))
            check_pixels(img, origin)
            load_pixels(img, origin)
        block = {"type": "image", "source": _b64_source(media_type, strip_metadata(data))}
        return _finish(block, extra, tw, th, origin, (rw, rh))

    if jpeg:
        if (tw, th) != (rw, rh):
            img.draft(None, stored_target)  # decode at 1/2, 1/4 or 1/8 scale: >= target
        check_pixels(img, origin)
        load_pixels(img, origin)
    img, alpha = normalize_mode(img)
    if img.size != stored_target:
        # After a JPEG draft the remaining reduction is under 2x: BICUBIC (Pillow's thumbnail
        # filter) is as good there and twice as fast; LANCZOS elsewhere (sharper text).
        drafted = img.size[0] < w0
        resample = Image.Resampling.BICUBIC if drafted else Image.Resampling.LANCZOS
        img = img.resize(stored_target, resample, reducing_gap=3.0)
    img = upright(img, orientation)
    fmt = _output_format(src_format, src_mode, alpha, data)
    encoded, fmt, img = _shrink_until_fits(img, fmt, alpha)
    media_type = {"JPEG": "image/jpeg", "WEBP": "image/webp"}.get(fmt, "image/png")
    block = {"type": "image", "source": _b64_source(media_type, encoded)}
    return _finish(block, extra, img.size[0], img.size[1], origin, (rw, rh))


def _b64_source(media_type: str, data: bytes) -> dict[str, Any]:
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}


def _finish(
    block: dict[str, Any],
    extra: Mapping[str, Any] | None,
    w: int,
    h: int,
    origin: str,
    original: tuple[int, int],
) -> ImageBlock:
    if extra:
        block.update((k, v) for k, v in extra.items() if k not in ("type", "source"))
    return ImageBlock(block, width=w, height=h, origin=origin, original_size=original)


def _output_format(src_format: str | None, src_mode: str, alpha: bool, data: bytes | None) -> str:
    if src_mode == "CMYK" and not alpha:
        return "JPEG"
    if src_format in ("JPEG", "MPO"):
        return "JPEG"
    if src_format == "WEBP":
        return "PNG" if data is not None and webp_is_lossless(data) else "WEBP"
    if src_format in ("PNG", "GIF") or src_format is None or alpha:
        return "PNG"
    if src_format in _PHOTO_FORMATS and src_mode not in ("1", "L", "P", "I;16", "I", "F"):
        return "JPEG"
    return "PNG"


def _shrink_until_fits(img: PILImage, fmt: str, alpha: bool) -> tuple[bytes, str, PILImage]:
    """Encode, then lower quality / switch format / downscale until the base64 fits."""
    from PIL import Image

    quality = _JPEG_QUALITY
    optimized = False
    data = _encode(img, fmt, quality)
    while base64_length(len(data)) > MAX_BASE64:
        if fmt in ("JPEG", "WEBP") and quality > 45:
            quality -= 15
        elif fmt == "PNG" and not optimized:
            optimized = True
            data = _encode(img, fmt, quality, optimize=True)
            continue
        elif fmt == "PNG" and (not alpha or _opaque(img)):
            fmt, quality = "JPEG", _JPEG_QUALITY
        else:
            w, h = img.size
            if w <= 16 and h <= 16:  # pragma: no cover - cannot happen within 5 MB
                raise source_error("image", "cannot be made small enough")
            img = img.resize((max(1, w * 3 // 4), max(1, h * 3 // 4)), Image.Resampling.LANCZOS)
        data = _encode(img, fmt, quality)
    return data, fmt, img


def _encode(img: PILImage, fmt: str, quality: int, *, optimize: bool = False) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(out, "JPEG", quality=quality, optimize=optimize)
    elif fmt == "WEBP":
        img.save(out, "WEBP", quality=quality, method=4)
    elif optimize:
        img.save(out, "PNG", optimize=True)
    else:
        # zlib level 3: 2x faster than Pillow's default 6 on photos (same size) and within
        # about 20 % of its size on charts and screenshots
        img.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _opaque(img: PILImage) -> bool:
    """True when an image with an alpha channel is in fact fully opaque."""
    return img.getchannel("A").getextrema() == (255, 255)
