"""Almost anything that holds a picture -> an API image block: :func:`image`.

Everything heavy (PIL, numpy, matplotlib, httpx) is imported inside the functions that need it,
so ``import nbclaude._content.images.image`` costs only the standard library.

What :func:`image` does (docs/api.md §6):

* fits the picture inside ``max_edge`` on its long side and ``max_pixels`` in total, never
  upscaling; JPEGs are decoded with ``Image.draft`` straight to (a power of two above) the
  target size, then resized with BICUBIC (the rest is under 2x), which takes less than half
  the time of a naive full decode + LANCZOS; other images are resized with LANCZOS;
* applies the EXIF orientation, converts what the API cannot take (BMP, TIFF, ICO, PSD, CMYK,
  16-bit, ...) and keeps JPEG/PNG/WEBP as they are; a GIF that must change becomes a PNG of its
  first frame (the API only looks at the first frame anyway);
* re-encodes (lower JPEG/WEBP quality, a too-big PNG optimised, then as JPEG when it has no
  alpha, then smaller) until the base64 text is at most 5,242,880 characters;
* sends the original bytes when nothing needs to change (the fast path), minus their metadata:
  EXIF (a phone photo's GPS position), XMP, IPTC, comments and PNG text chunks are dropped at
  the byte level, pixels untouched; re-encoded images carry no metadata either.

The result is an :class:`ImageBlock`: a plain ``dict`` of exactly the API's shape that also shows
a thumbnail in notebooks.

This module holds :func:`image`: which source goes where. The rest of the image family has a
module per concept, mapped in :mod:`nbclaude._content.images`, which re-exports the family's
entry points.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Any

from nbclaude._api.limits import LIMITS
from nbclaude._exceptions import ImageError

from .block import ImageBlock
from .bytes import MAX_BASE64
from .pipeline import image_from_bytes, process_image
from .sources import decode_data_url, fetch_url, read_file, short_source, source_error, split_source
from .values import array_to_pil, describe_value, figure_png, value_kind

__all__ = ["image"]

_ACCEPTED = (
    "a PIL image, a numpy array, a matplotlib figure, IPython.display.Image, bytes, "
    "a path (str or pathlib.Path), an http(s) URL or an image block dict"
)


def _check_options(max_edge: int, max_pixels: int) -> None:
    hard = LIMITS["max_image_edge"]
    if not isinstance(max_edge, int) or not 1 <= max_edge <= hard:
        raise ImageError(f"max_edge must be an int between 1 and {hard} (the API's limit)")
    if not isinstance(max_pixels, int) or max_pixels < 1:
        raise ImageError("max_pixels must be a positive int")


def image(
    src: Any,
    *,
    max_edge: int = LIMITS["native_edge"],
    max_pixels: int = LIMITS["native_pixels"],
    fetch: bool = False,
    timeout: float = 10.0,
    max_bytes: int = 20_000_000,
) -> ImageBlock:
    """Make an API image block from almost anything that holds a picture.

    Parameters
    ----------
    src : Any
        A PIL image; a numpy array (HxW gray, HxWx1, HxWx3 RGB, HxWx4 RGBA; ``uint8`` as is,
        floats clipped to [0, 1], ``bool`` as black/white, ``uint16`` over its full range,
        other integers as is when in 0..255 and stretched otherwise); a matplotlib ``Figure``
        (or ``Axes``: its figure), rendered to PNG at the figure's dpi; an
        ``IPython.display.Image``; ``bytes``; a path (``str`` or ``pathlib.Path``); an
        ``http(s)`` URL; a ``data:image/...;base64,`` URL; or an image block dict (a base64
        one is checked and re-fitted like bytes, keeping extra keys such as
        ``cache_control``; a URL one passes through).
    max_edge : int
        Longest side allowed, in pixels (1568 is the API's native size; up to 8000).
    max_pixels : int
        Most pixels allowed (1.15 MP is the API's native size).
    fetch : bool
        Download an http(s) URL and send the bytes, instead of sending the URL by reference
        (the API then fetches it).
    timeout : float
        Seconds allowed for the whole download (``fetch=True``).
    max_bytes : int
        Largest download accepted, checked while streaming (``fetch=True``).

    Returns
    -------
    ImageBlock
        ``{"type": "image", "source": {"type": "base64", "media_type": ..., "data": ...}}``
        (or a ``"url"`` source), with ``width``, ``height``, ``tokens`` ... as attributes.

    Raises
    ------
    ImageError
        The source cannot be used (missing, unreadable, not an image, corrupt, too many
        pixels, bad URL scheme, failed download); the message names the source and the reason.
    TypeError
        ``src`` is of a type that holds no image.

    Examples
    --------
    >>> import numpy as np
    >>> b = image(np.zeros((3000, 4000, 3), dtype=np.uint8))
    >>> b["source"]["media_type"], (b.width, b.height)
    ('image/png', (1238, 928))
    >>> image("https://example.com/cat.jpg")["source"]
    {'type': 'url', 'url': 'https://example.com/cat.jpg'}
    """
    _check_options(max_edge, max_pixels)
    limits: dict[str, Any] = {"max_edge": max_edge, "max_pixels": max_pixels}
    if isinstance(src, Mapping):
        return _from_block(src, limits)
    if isinstance(src, str):
        return _from_string(src, limits, fetch=fetch, timeout=timeout, max_bytes=max_bytes)
    if isinstance(src, os.PathLike):
        data, origin = read_file(src)
        return image_from_bytes(data, origin=origin, **limits)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return image_from_bytes(src, origin=describe_value(src), **limits)
    kind = value_kind(src)
    origin = describe_value(src)
    if kind == "pil":
        if src.size[0] < 1 or src.size[1] < 1:
            raise source_error(origin, "the image has zero width or height")
        return process_image(src, data=None, origin=origin, **limits)
    if kind == "numpy":
        return process_image(array_to_pil(src, origin), data=None, origin=origin, **limits)
    if kind in ("figure", "axes"):
        fig = src.figure if kind == "axes" else src
        return image_from_bytes(figure_png(fig), origin=origin, **limits)
    if kind == "ipython":
        return _from_ipython(src, origin, limits, fetch=fetch, timeout=timeout, max_bytes=max_bytes)
    raise TypeError(f"nbclaude.image() cannot use a {type(src).__name__}: pass {_ACCEPTED}.")


def _from_string(
    src: str, limits: dict[str, Any], *, fetch: bool, timeout: float, max_bytes: int
) -> ImageBlock:
    kind, text = split_source(src.strip())
    if kind == "url":
        if not fetch:
            block = {"type": "image", "source": {"type": "url", "url": text}}
            return ImageBlock(block, origin=short_source(text))
        data, _, _ = fetch_url(
            text,
            timeout=timeout,
            max_bytes=max_bytes,
            accept="image/*",
            allowed=lambda ctype: ctype.startswith("image/"),
        )
        return image_from_bytes(data, origin=short_source(text), **limits)
    if kind == "data":
        data, media_type = decode_data_url(text)
        if not media_type.startswith("image/"):
            raise source_error(
                short_source(text), f"a data: URL of type {media_type!r} is not an image"
            )
        return image_from_bytes(data, origin=short_source(text), **limits)
    if not text:
        raise ImageError("nbclaude.image() got an empty string: pass a path, a URL or an image.")
    data, origin = read_file(text)
    return image_from_bytes(data, origin=origin, **limits)


def _from_block(block: Mapping[str, Any], limits: dict[str, Any]) -> ImageBlock:
    source = block.get("source")
    if block.get("type") != "image" or not isinstance(source, Mapping):
        raise ImageError(
            f"not an image block (type {block.get('type')!r}): expected "
            '{"type": "image", "source": {...}}'
        )
    if isinstance(block, ImageBlock) and block.width and block.height:
        w, h = block.width, block.height
        fits = max(w, h) <= limits["max_edge"] and w * h <= limits["max_pixels"]
        if fits and block.base64_length <= MAX_BASE64:
            return block  # made by image() already and within these limits
    if source.get("type") != "base64":
        if isinstance(block, ImageBlock):
            return block
        origin = short_source(str(source.get("url", source.get("type", "?"))))
        return ImageBlock(block, origin=origin)
    data = source.get("data")
    origin = getattr(block, "origin", "") or "image block"
    if not isinstance(data, str) or not data:
        raise source_error(origin, "the block has no base64 data")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise source_error(origin, "the block's data is not valid base64") from None
    return image_from_bytes(raw, origin=origin, extra=block, **limits)


def _from_ipython(
    src: Any,
    origin: str,
    limits: dict[str, Any],
    *,
    fetch: bool,
    timeout: float,
    max_bytes: int,
) -> ImageBlock:
    data = getattr(src, "data", None)
    if isinstance(data, (bytes, bytearray)) and data:
        return image_from_bytes(data, origin=origin, **limits)
    url = getattr(src, "url", None)
    if isinstance(url, str) and url:
        return _from_string(url, limits, fetch=fetch, timeout=timeout, max_bytes=max_bytes)
    filename = getattr(src, "filename", None)
    if isinstance(filename, str) and filename:
        raw, name = read_file(filename)
        return image_from_bytes(raw, origin=name, **limits)
    raise source_error(origin, "holds no data, URL or file name")
