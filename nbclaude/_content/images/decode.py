"""Decoding with Pillow, safely: opening, pixel limits, corrupt data, EXIF orientation, modes.

Shared by the pipeline (:mod:`nbclaude._content.images.pipeline`) and the thumbnails
(:mod:`nbclaude._content.images.block`). Every failure becomes an :class:`ImageError` naming the
source; decompression bombs are refused by the decoded size (after a JPEG ``draft``), so a
huge JPEG that is decoded at 1/8 scale is still accepted.

Pillow is imported inside the functions, never at module level.
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import TYPE_CHECKING

from .bytes import HeaderTooShortError, header_size, sniff_media_type
from .sources import TIMES, source_error

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = [
    "check_pixels",
    "exif_orientation",
    "load_pixels",
    "normalize_mode",
    "open_image",
    "upright",
]

# EXIF orientation (2-8) -> the ``PIL.Image.Transpose`` member that shows it upright.
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
             6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip


def open_image(data: bytes, origin: str) -> PILImage:
    """``Image.open`` with every failure (and a decompression bomb) turned into ImageError."""
    from PIL import Image, UnidentifiedImageError

    try:
        if _small_enough(data):
            img = Image.open(io.BytesIO(data))
        else:
            # Image.open warns above MAX_IMAGE_PIXELS; we check the decoded size ourselves
            # (after draft), because a huge JPEG decoded at 1/8 scale is harmless. (Only
            # here: catch_warnings touches process-wide state, which threads share.)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise source_error(
            origin, "too many pixels (refused as a possible decompression bomb)"
        ) from None
    except UnidentifiedImageError:
        kind = sniff_media_type(data)
        if kind is not None:
            raise source_error(
                origin, f"corrupt image (it starts like {kind} but cannot be read)"
            ) from None
        raise source_error(
            origin,
            "not an image Pillow can read",
            hint="Send a JPEG, PNG, GIF or WEBP (or another format Pillow opens).",
        ) from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as e:
        raise source_error(origin, f"corrupt image ({type(e).__name__})") from None
    if img.size[0] < 1 or img.size[1] < 1:
        raise source_error(origin, "the image has zero width or height")
    return img


def _small_enough(data: bytes) -> bool:
    """True when the header shows the image is under PIL's MAX_IMAGE_PIXELS (no warning)."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        size = header_size(data[:65536])
    except HeaderTooShortError:
        return False
    return limit is None or (size is not None and size[0] * size[1] <= limit)


def check_pixels(img: PILImage, origin: str) -> None:
    """Refuse to decode more than ``PIL.Image.MAX_IMAGE_PIXELS`` (a decompression bomb)."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and img.size[0] * img.size[1] > limit:
        raise source_error(
            origin,
            f"too many pixels to decode ({img.size[0]}{TIMES}{img.size[1]}, limit {limit:,}; "
            "refused as a possible decompression bomb)",
            hint="Shrink it first, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust it.",
        )


def exif_orientation(img: PILImage) -> int:
    """The EXIF orientation (1-8); 1 when absent. Never forces a full PNG decode."""
    try:
        if img.format == "PNG" and "exif" not in img.info:
            return 1
        value = img.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright(img: PILImage, orientation: int) -> PILImage:
    """The image turned the way its EXIF ``orientation`` says it is shown (1: as it is)."""
    if orientation == 1:
        return img
    from PIL import Image

    return img.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))


def _has_alpha(img: PILImage) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def normalize_mode(img: PILImage) -> tuple[PILImage, bool]:
    """Convert to L, LA, RGB or RGBA (8-bit); returns (image, has alpha)."""
    mode = img.mode
    if mode in ("L", "RGB"):
        if "transparency" in img.info:
            return img.convert("LA" if mode == "L" else "RGBA"), True
        return img, False
    if mode in ("LA", "RGBA"):
        return img, True
    if mode in ("P", "PA"):
        alpha = _has_alpha(img)
        return img.convert("RGBA" if alpha else "RGB"), alpha
    if mode == "1":
        return img.convert("L"), False
    if mode in ("La", "RGBa"):
        return img.convert(mode.upper()[:-1] + "A"), True
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _to_8bit(img), False
    return img.convert("RGB"), False  # CMYK, YCbCr, LAB, HSV, RGBX, ...


def _to_8bit(img: PILImage) -> PILImage:
    """16-bit, 32-bit integer and float grayscale -> L, scaled (not clipped)."""
    if img.mode.startswith("I;16"):
        scale, offset = 1 / 257, 0.0  # the full 16-bit range
        work = img.convert("I")
    else:
        work = img if img.mode in ("I", "F") else img.convert("I")
        lo, hi = work.getextrema()
        lo_f, hi_f = float(lo), float(hi)  # type: ignore[arg-type]
        if work.mode == "F" and lo_f >= 0.0 and hi_f <= 1.0:
            scale, offset = 255.0, 0.0
        elif lo_f >= 0.0 and hi_f <= 255.0:
            scale, offset = 1.0, 0.0
        elif hi_f > lo_f:
            scale, offset = 255.0 / (hi_f - lo_f), -lo_f * 255.0 / (hi_f - lo_f)
        else:
            scale, offset = 0.0, 0.0
    return work.point(lambda v: v * scale + offset).convert("L")


def load_pixels(img: PILImage, origin: str) -> None:
    """``img.load()``, with corrupt or truncated data turned into an ImageError."""
    try:
        img.load()
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as e:
        text = str(e)
        reason = "truncated" if "truncated" in text else type(e).__name__
        raise source_error(origin, f"corrupt image data ({reason})") from None
