"""Pictures -> API image blocks: :func:`image`, the :class:`ImageBlock` it makes, thumbnails.

One module per concept, lowest first (each imports only those above it in this list):

* ``sources``: where pictures (and documents) come from: paths, http(s) and ``data:`` URLs,
  downloads; how a source is named in messages (never a URL's query string or password);
* ``bytes``: facts read from encoded bytes without decoding: media type, pixel size, fitting a
  size into the limits, token estimates, dropping metadata;
* ``decode``: decoding with Pillow safely (decompression bombs, corrupt data, EXIF orientation);
* ``values``: PIL images, numpy arrays, matplotlib figures: recognising and converting them;
* ``block``: :class:`ImageBlock`, :func:`image_info`, :func:`thumbnail`, and
  :func:`~nbclaude._content.images.block.rebuild_image_block`, the stable name pickles use;
* ``pipeline``: resize, convert and encode until it fits (:func:`image_from_bytes`);
* ``image``: :func:`image`, which source goes where.

The entry points used outside this folder are re-exported here; no module of this folder imports
this package itself. Like every module here, importing it loads no PIL, numpy, matplotlib or
httpx: they are imported by the functions that need them.

Examples
--------
>>> from nbclaude._content.images import image, thumbnail
>>> b = image("https://example.com/cat.jpg")
>>> b, thumbnail(b)  # sent by reference: never loaded, so no thumbnail
(<image url https://example.com/cat.jpg>, None)
"""

from __future__ import annotations

from .block import ImageBlock, ImageInfo, image_info, thumbnail
from .bytes import MAX_BASE64
from .image import image
from .pipeline import image_from_bytes
from .values import is_image_like

__all__ = [
    "MAX_BASE64",
    "ImageBlock",
    "ImageInfo",
    "image",
    "image_from_bytes",
    "image_info",
    "is_image_like",
    "thumbnail",
]
