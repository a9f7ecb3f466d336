"""The image block: :class:`ImageBlock`, cheap facts about any image block, thumbnails.

* :class:`ImageBlock` *is* the API's ``{"type": "image", "source": {...}}`` dict and renders
  as a thumbnail in notebooks; what nbclaude knows about it lives in attributes.
* :func:`image_info` reads the media type and pixel size of any base64 image block (also a
  plain dict loaded from a saved session) from its header only.
* :func:`thumbnail` makes a small preview: an :class:`ImageBlock` keeps its own
  (:meth:`ImageBlock.thumbnail`), plain dicts share a small cache keyed by their content.

Pickles of an :class:`ImageBlock` name :func:`rebuild_image_block` by its full path,
``nbclaude._content.images.block.rebuild_image_block``: that name and module are kept stable.
Pickles from nbclaude 0.1 name ``nbclaude._image_block._rebuild_block`` or
``nbclaude._images._rebuild_block``, which :mod:`nbclaude._legacy` maps here.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from nbclaude._exceptions import ImageError

from .bytes import HeaderTooShortError, estimate_tokens, header_size, sniff_media_type
from .decode import check_pixels, exif_orientation, normalize_mode, open_image, upright
from .sources import TIMES, human_size, short_source

__all__ = [
    "THUMB_EDGE",
    "ImageBlock",
    "ImageInfo",
    "image_info",
    "rebuild_image_block",
    "thumbnail",
]

#: Longest side of a thumbnail, in pixels, unless asked otherwise.
THUMB_EDGE = 256


class ImageBlock(dict[str, Any]):
    """An API image block that also renders as a thumbnail in notebooks.

    It *is* the dict the API wants (``{"type": "image", "source": {...}}``; ``json.dumps``,
    ``copy.deepcopy`` and ``pickle`` treat it as such); what nbclaude knows about it lives in
    attributes, never in keys.

    Attributes
    ----------
    width, height : int or None
        Pixel size of the image sent (``None`` for a URL block).
    original_size : tuple of int or None
        Size of the source (after EXIF rotation) when it was known.
    origin : str
        Short description of where the image came from (a shortened path or URL, a type).

    Examples
    --------
    >>> b = ImageBlock({"type": "image", "source": {"type": "url", "url": "https://x.org/a.png"}})
    >>> b
    <image url https://x.org/a.png>
    """

    __slots__ = ("_thumbs", "height", "origin", "original_size", "width")

    def __init__(
        self,
        block: Mapping[str, Any],
        *,
        width: int | None = None,
        height: int | None = None,
        origin: str = "",
        original_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(block)
        self.width = width
        self.height = height
        self.origin = origin
        self.original_size = original_size
        self._thumbs: dict[int, tuple[str, bytes] | None] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            rebuild_image_block,
            (dict(self), self.width, self.height, self.origin, self.original_size),
        )

    @property
    def media_type(self) -> str | None:
        """The source's ``media_type`` (``None`` for a URL block)."""
        mt = self.get("source", {}).get("media_type")
        return mt if isinstance(mt, str) else None

    @property
    def base64_length(self) -> int:
        """Length of the base64 text sent (0 for a URL block)."""
        data = self.get("source", {}).get("data")
        return len(data) if isinstance(data, str) else 0

    @property
    def tokens(self) -> int | None:
        """Estimated input tokens (see :func:`estimate_tokens`); ``None`` for a URL block."""
        if self.width is None or self.height is None:
            return None
        return estimate_tokens(self.width, self.height)

    def summary(self) -> str:
        """One line, like ``<image/jpeg 1238×928, 310 KB base64, ~1,517 tokens>``."""  # noqa: RUF002
        source = self.get("source", {})
        if source.get("type") != "base64":
            return f"<image {source.get('type', '?')} {short_source(str(source.get('url', '')))}>"
        size = f" {self.width}{TIMES}{self.height}" if self.width else ""
        n = self.tokens
        tokens = f", ~{n:,} token{'s' if n != 1 else ''}" if n else ""
        was = ""
        if self.original_size and self.original_size != (self.width, self.height):
            was = f" (from {self.original_size[0]}{TIMES}{self.original_size[1]})"
        b64 = human_size(self.base64_length)
        return f"<{self.media_type}{size}{was}, {b64} base64{tokens}>"

    def thumbnail(self, max_edge: int = THUMB_EDGE) -> tuple[str, bytes] | None:
        """This block's preview, ``(mime type, encoded bytes)``; see :func:`thumbnail`.

        Made once per ``max_edge`` and kept on the block (a copy starts afresh).

        Examples
        --------
        >>> import numpy as np
        >>> from nbclaude import image
        >>> b = image(np.zeros((600, 800, 3), dtype=np.uint8))
        >>> b.thumbnail()[0], b.thumbnail() is b.thumbnail()
        ('image/png', True)
        """
        if max_edge not in self._thumbs:
            self._thumbs[max_edge] = _shared_thumbnail(self, max_edge)
        return self._thumbs[max_edge]

    def __repr__(self) -> str:
        return self.summary()

    def caption(self) -> str:
        """The summary as a caption, without the angle brackets: ``image/jpeg 1238×928,
        310 KB base64, ~1,517 tokens``."""  # noqa: RUF002
        return self.summary().removeprefix("<").removesuffix(">")

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The thumbnail with its caption (``text/html``, which JupyterLab, Notebook 7 and VS
        Code prefer: our own ``data:`` image and escaped text, nothing from outside), the bare
        thumbnail for front ends without HTML, and the summary as text."""
        bundle: dict[str, Any] = {"text/plain": self.summary()}
        thumb = self.thumbnail()
        if thumb is not None:
            media_type, data = thumb
            encoded = base64.b64encode(data).decode("ascii")
            bundle[media_type] = encoded
            caption = html.escape(self.caption())
            bundle["text/html"] = (
                f'<figure class="nbclaude-image"><img src="data:{media_type};base64,{encoded}" '
                f'alt="{caption}"><figcaption>{caption}</figcaption></figure>'
            )
        return bundle


def rebuild_image_block(
    block: dict[str, Any],
    width: int | None,
    height: int | None,
    origin: str,
    original_size: tuple[int, int] | None,
) -> ImageBlock:
    """Make an :class:`ImageBlock` again from what its pickle holds (its ``__reduce__``).

    Pickles name this function as ``nbclaude._content.images.block.rebuild_image_block``: the
    name, the module and the parameters stay as they are, so that saved pickles keep loading.

    Examples
    --------
    >>> url = {"type": "image", "source": {"type": "url", "url": "https://x.org/a.png"}}
    >>> b = rebuild_image_block(url, None, None, "a.png", None)
    >>> type(b).__name__, b.origin, b == url
    ('ImageBlock', 'a.png', True)
    """
    return ImageBlock(block, width=width, height=height, origin=origin, original_size=original_size)


# --------------------------------------------------------------------------------------------
# Cheap facts about a block


class ImageInfo(NamedTuple):
    """What :func:`image_info` reads from a base64 image block's header."""

    #: The media type of the actual bytes (may differ from the declared one), else ``None``.
    media_type: str | None
    width: int | None
    height: int | None
    base64_length: int


def image_info(block: Mapping[str, Any]) -> ImageInfo | None:
    """Media type (sniffed from the bytes), size and base64 length of a base64 image block.

    Cheap: only the header is decoded. ``None`` for a URL (or file) block or a non-image.

    Examples
    --------
    >>> import numpy as np
    >>> from nbclaude import image
    >>> b = image(np.zeros((1, 2), dtype=np.uint8))
    >>> image_info(b)
    ImageInfo(media_type='image/png', width=2, height=1, base64_length=92)
    >>> image_info(dict(b))  # a plain dict: the PNG header is parsed
    ImageInfo(media_type='image/png', width=2, height=1, base64_length=92)
    """
    source = block.get("source") if isinstance(block, Mapping) else None
    if not isinstance(source, Mapping) or source.get("type") != "base64":
        return None
    data = source.get("data")
    if not isinstance(data, str):
        return None
    if isinstance(block, ImageBlock) and block.width and block.height:
        return ImageInfo(block.media_type, block.width, block.height, len(data))
    n = 4096
    while True:
        try:
            head = base64.b64decode(data[:n], validate=False)
        except (binascii.Error, ValueError):
            return ImageInfo(None, None, None, len(data))
        try:
            size = header_size(head)
        except HeaderTooShortError:
            if n >= len(data):
                size = None
            else:
                n = min(len(data), n * 8)
                continue
        break
    mt = sniff_media_type(head)
    if size is None:
        return ImageInfo(mt, None, None, len(data))
    return ImageInfo(mt, size[0], size[1], len(data))


# --------------------------------------------------------------------------------------------
# Thumbnails

# Thumbnails of plain block dicts, keyed by their content. This is a cache, not a side table
# of ImageBlock (an ImageBlock keeps its own, ImageBlock.thumbnail): the history holds plain
# dicts too (a saved session loaded back, images inside tool results, dict(block) copies), and
# the widget's transcript and the cell display make their thumbnails again on every redraw, so
# one image must not be decoded and resized each time. An ImageBlock's thumbnails are made
# through it too, so that its dict copies find them. A key never holds the (large) base64
# string: its hash (cached by Python), length and ends. Bounded: past _THUMB_CACHE_SIZE
# entries the oldest goes.
_THUMB_CACHE: dict[tuple[int, int, str, str, int], tuple[str, bytes] | None] = {}
_THUMB_CACHE_SIZE = 128
_THUMB_LOCK = threading.Lock()


def thumbnail(block: Mapping[str, Any], *, max_edge: int = THUMB_EDGE) -> tuple[str, bytes] | None:
    """A small preview of a base64 image block: ``(mime type, encoded bytes)``.

    Works for any image block dict, including plain dicts loaded from a saved session.
    ``None`` for URL blocks (a remote image is never loaded) and for undecodable data.
    JPEG sources give a JPEG thumbnail, everything else a PNG; never larger than the source.
    An :class:`ImageBlock` keeps its thumbnails; plain dicts share a small cache keyed by their
    content, so showing the same image again costs no decoding.

    Examples
    --------
    >>> import numpy as np
    >>> from nbclaude import image
    >>> thumbnail(image(np.zeros((600, 800, 3), dtype=np.uint8)))[0]
    'image/png'
    """
    if isinstance(block, ImageBlock):
        return block.thumbnail(max_edge)
    return _shared_thumbnail(block, max_edge)


def _shared_thumbnail(block: Mapping[str, Any], max_edge: int) -> tuple[str, bytes] | None:
    source = block.get("source") if isinstance(block, Mapping) else None
    if not isinstance(source, Mapping) or source.get("type") != "base64":
        return None
    data = source.get("data")
    if not isinstance(data, str) or not data:
        return None
    key = (hash(data), len(data), data[:48], data[-48:], max_edge)
    with _THUMB_LOCK:
        hit = key in _THUMB_CACHE
        result = _THUMB_CACHE.get(key)
    if not hit:
        result = _make_thumbnail(data, max_edge)
        with _THUMB_LOCK:
            while len(_THUMB_CACHE) >= _THUMB_CACHE_SIZE:
                del _THUMB_CACHE[next(iter(_THUMB_CACHE))]
            _THUMB_CACHE[key] = result
    return result


def _make_thumbnail(data: str, max_edge: int) -> tuple[str, bytes] | None:
    from PIL import Image

    try:
        raw = base64.b64decode(data)
        img = open_image(raw, "thumbnail")
        w, h = img.size
        if img.format in ("JPEG", "MPO"):
            img.draft(None, (max(1, min(w, max_edge)), max(1, min(h, max_edge))))
        check_pixels(img, "thumbnail")
        img.load()
        orientation = exif_orientation(img)
        img, _ = normalize_mode(img)
        img.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
        img = upright(img, orientation)
        out = io.BytesIO()
        if img.mode in ("RGB", "L") and sniff_media_type(raw) == "image/jpeg":
            img.save(out, "JPEG", quality=80)
            return "image/jpeg", out.getvalue()
        img.save(out, "PNG")
        return "image/png", out.getvalue()
    except (ImageError, OSError, ValueError, SyntaxError, binascii.Error):
        return None
