"""The API's request limits, written once: the client checks them before sending, the fake
enforces them (docs/api.md §6, §7).

Each limit is a plain ``int`` constant; :data:`LIMITS` is the same numbers as a mapping, for
the code that looks them up by name.

Examples
--------
>>> MAX_IMAGE_BASE64 == LIMITS["max_image_base64"] == 5 * 1024 * 1024
True
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "LIMITS",
    "MANY_IMAGES",
    "MANY_IMAGES_EDGE",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "MAX_BODY_BYTES",
    "MAX_CACHE_BREAKPOINTS",
    "MAX_IMAGES",
    "MAX_IMAGE_BASE64",
    "MAX_IMAGE_EDGE",
    "MAX_PAGE_LIMIT",
    "NATIVE_EDGE",
    "NATIVE_PIXELS",
]

#: The largest JSON body of ``/v1/messages`` and ``/v1/messages/count_tokens``, in bytes
#: (over it: 413 ``request_too_large``).
MAX_BODY_BYTES = 32 * 1024 * 1024
#: The largest base64 ``data`` of one image, in characters of base64 text (not decoded bytes).
MAX_IMAGE_BASE64 = 5_242_880
#: Images (plus PDF pages) per request. The newest vision docs allow 600 on 1M-context models
#: (docs/api.md §6); nbclaude and the fake keep 100 for every model.
MAX_IMAGES = 100
#: Above this many images in one request, each side must be at most :data:`MANY_IMAGES_EDGE`.
MANY_IMAGES = 20
#: The longest side of an image, in pixels, in a request with more than :data:`MANY_IMAGES`.
MANY_IMAGES_EDGE = 2000
#: The longest side of any image, in pixels.
MAX_IMAGE_EDGE = 8000
#: The size the API downscales images to anyway: longest side, in pixels ...
NATIVE_EDGE = 1568
#: ... and pixel count.
NATIVE_PIXELS = 1_150_000
#: ``cache_control`` breakpoints per request.
MAX_CACHE_BREAKPOINTS = 4
#: The most requests one Message Batch may hold.
MAX_BATCH_REQUESTS = 100_000
#: The largest Message Batch body, in bytes.
MAX_BATCH_BYTES = 256 * 1024 * 1024
#: The largest ``limit`` of a list endpoint (``GET /v1/models``, ``/v1/messages/batches``).
MAX_PAGE_LIMIT = 1000

#: The request limits by name (the names ``nbclaude._content`` looks up).
LIMITS: Mapping[str, int] = {
    "max_images": MAX_IMAGES,
    "many_images": MANY_IMAGES,
    "many_images_edge": MANY_IMAGES_EDGE,
    "max_image_edge": MAX_IMAGE_EDGE,
    "max_image_base64": MAX_IMAGE_BASE64,
    "max_body_bytes": MAX_BODY_BYTES,
    "native_edge": NATIVE_EDGE,
    "native_pixels": NATIVE_PIXELS,
}
