"""Sniff an image's format and pixel size from its first bytes (no PIL needed).

The fake uses it to reject a ``media_type`` that does not match the bytes and images that are
too large, and to describe images in its default reply. Supports the four formats the API
accepts: JPEG, PNG, GIF and WebP (lossy, lossless and extended).
"""

from __future__ import annotations

import struct

__all__ = ["ImageInfo", "sniff_image"]


class ImageInfo:
    """Format and size of an image: ``media_type`` (``"image/png"`` ...), ``width``, ``height``.

    ``width``/``height`` are ``None`` when the header was found but the size could not be read.
    """

    __slots__ = ("height", "media_type", "width")

    def __init__(self, media_type: str, width: int | None, height: int | None) -> None:
        self.media_type = media_type
        self.width = width
        self.height = height

    def __repr__(self) -> str:
        return f"ImageInfo({self.media_type!r}, {self.width}, {self.height})"


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            i += 1  # tolerate garbage between segments, as decoders do
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > n:
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker == 0xD9:  # end of image
            return None
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        b = data[21:25]
        bits = int.from_bytes(b, "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    return None


def sniff_image(data: bytes) -> ImageInfo | None:
    """The format and size of an encoded image, or ``None`` when it is none of the four.

    Examples
    --------
    >>> import base64
    >>> png = base64.b64decode(
    ...     "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAAAAACcgYFdAAAAC0lEQVR4nGNggAIAAAkAAf"
    ...     "tSuKkAAAAASUVORK5CYII="
    ... )
    >>> sniff_image(png)
    ImageInfo('image/png', 2, 3)
    >>> sniff_image(b"hello") is None
    True
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(data) >= 24 and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return ImageInfo("image/png", w, h)
        return ImageInfo("image/png", None, None)
    if data[:3] == b"\xff\xd8\xff":
        size = _jpeg_size(data)
        return ImageInfo("image/jpeg", *(size or (None, None)))
    if data[:6] in (b"GIF87a", b"GIF89a"):
        if len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return ImageInfo("image/gif", w, h)
        return ImageInfo("image/gif", None, None)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        size = _webp_size(data)
        return ImageInfo("image/webp", *(size or (None, None)))
    return None
