"""What encoded image bytes say without decoding them, and the size arithmetic.

* :func:`sniff_media_type` and :func:`looks_like_image` read the magic number;
* :func:`header_size` reads the pixel size from the first bytes of a JPEG, PNG, GIF or WEBP,
  and :func:`webp_is_lossless` walks a WEBP's chunks;
* :func:`fit` is the largest size within ``max_edge`` and ``max_pixels``, and
  :func:`estimate_tokens` what an image of a size costs.

Only the standard library is used (no Pillow), so these are cheap enough for every check.
"""

from __future__ import annotations

import math
import struct

from nbclaude._api.limits import LIMITS

__all__ = [
    "MAX_BASE64",
    "HeaderTooShortError",
    "base64_length",
    "estimate_tokens",
    "fit",
    "header_size",
    "looks_like_image",
    "sniff_media_type",
    "strip_metadata",
    "webp_is_lossless",
]

#: The base64 text of one image may be at most this long (docs/api.md §6, §10.12).
MAX_BASE64 = LIMITS["max_image_base64"]


def base64_length(n: int) -> int:
    """Length of the base64 text of ``n`` bytes."""
    return 4 * ((n + 2) // 3)


def sniff_media_type(data: bytes | bytearray | memoryview) -> str | None:
    """The API media type of encoded image bytes from their magic number, else ``None``.

    Examples
    --------
    >>> sniff_media_type(b"\\x89PNG\\r\\n\\x1a\\n..."), sniff_media_type(b"hello")
    ('image/png', None)
    """
    head = bytes(data[:12])
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def looks_like_image(data: bytes | bytearray | memoryview) -> bool:
    """Whether the bytes start like an image Pillow opens (the API's four, BMP, TIFF, ICO, PSD)."""
    head = bytes(data[:12])
    return (
        sniff_media_type(head) is not None
        or head[:2] == b"BM"
        or head[:4]
        in (
            b"II*\x00",
            b"MM\x00*",
            b"\x00\x00\x01\x00",
            b"8BPS",
        )
    )


class HeaderTooShortError(Exception):
    """Internal: more bytes are needed to read the size from this header."""


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a JPEG/PNG/GIF/WEBP; raises HeaderTooShortError."""
    kind = sniff_media_type(data)
    if kind == "image/png":
        if len(data) < 24:
            raise HeaderTooShortError
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    if kind == "image/gif":
        if len(data) < 10:
            raise HeaderTooShortError
        w, h = struct.unpack("<HH", data[6:10])
        return w, h
    if kind == "image/webp":
        if len(data) < 30:
            raise HeaderTooShortError
        chunk = data[12:16]
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            (bits,) = struct.unpack("<I", data[21:25])
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return w, h
        return None
    if kind == "image/jpeg":
        i = 2
        while True:
            if i + 9 > len(data):
                raise HeaderTooShortError
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            if marker == 0xD9:
                return None
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + length
    return None


def webp_is_lossless(data: bytes) -> bool:
    """Whether a WEBP file holds a lossless (``VP8L``) image rather than a lossy one."""
    i = 12
    while i + 8 <= len(data) and i < 1 << 20:
        fourcc = data[i : i + 4]
        if fourcc == b"VP8L":
            return True
        if fourcc in (b"VP8 ", b"ANMF"):
            return False
        (size,) = struct.unpack("<I", data[i + 4 : i + 8])
        i += 8 + size + (size & 1)
    return False


# --------------------------------------------------------------------------------------------
# Sizes


def fit(w: int, h: int, max_edge: int, max_pixels: int) -> tuple[int, int]:
    """Largest size with the aspect of (w, h), at most max_edge per side and max_pixels."""
    scale = min(1.0, max_edge / max(w, h), math.sqrt(max_pixels / (w * h)))
    if scale >= 1.0:
        return w, h
    tw = max(1, min(max_edge, math.floor(w * scale + 1e-9)))
    th = max(1, min(max_edge, math.floor(h * scale + 1e-9)))
    while tw * th > max_pixels:
        if tw >= th and tw > 1:
            tw -= 1
        elif th > 1:
            th -= 1
        else:  # pragma: no cover - max_pixels >= 1
            break
    return tw, th


def estimate_tokens(width: int, height: int) -> int:
    """Estimated input tokens of a ``width`` x ``height`` image.

    The current vision docs count ``ceil(w/28) * ceil(h/28)`` visual tokens after the API's
    own downscaling to its native size (docs/api.md §6: ≤ 1568 px per side and ≤ 1.15 MP for
    most models); the legacy ``w*h/750`` rule gives nearly the same numbers.

    Examples
    --------
    >>> estimate_tokens(1092, 1092), estimate_tokens(200, 200)
    (1521, 64)
    """
    w, h = fit(width, height, LIMITS["native_edge"], LIMITS["native_pixels"])
    return math.ceil(w / 28) * math.ceil(h / 28)


# JPEG segments that carry metadata, not pixels: APP1 (EXIF, incl. GPS, and XMP), APP13 (IPTC),
# COM. APP0 (JFIF), APP2 (ICC colour profile) and APP14 (Adobe colour transform) stay.
_JPEG_METADATA = frozenset({0xE1, 0xED, 0xFE})
# PNG chunks that carry metadata: EXIF, text (tEXt/zTXt/iTXt: software, author, ...), time.
_PNG_METADATA = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})


def strip_metadata(data: bytes) -> bytes:
    r"""``data`` without its metadata (EXIF with GPS positions, XMP, IPTC, comments, text
    chunks), when it is a JPEG or PNG; the pixels are untouched. Anything it does not fully
    understand is returned unchanged.

    Examples
    --------
    >>> jpeg = (b"\xff\xd8" + b"\xff\xe1\x00\x08Exif\x00\x00"
    ...         + b"\xff\xda\x00\x02" + b"pixels\xff\xd9")
    >>> strip_metadata(jpeg)
    b'\xff\xd8\xff\xda\x00\x02pixels\xff\xd9'
    """
    if data[:2] == b"\xff\xd8":
        return _strip_jpeg(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _strip_png(data)
    return data


def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    i, n = 2, len(data)
    dropped = False
    while i + 2 <= n:
        if data[i] != 0xFF:
            return data
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: the rest is pixels
            out.append(data[i:])
            return b"".join(out) if dropped else data
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(data[i : i + 2])
            i += 2
            continue
        if i + 4 > n:
            return data
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > n or end < i + 4:
            return data
        if marker in _JPEG_METADATA:
            dropped = True
        else:
            out.append(data[i:end])
        i = end
    return data


def _strip_png(data: bytes) -> bytes:
    out = [data[:8]]
    i, n = 8, len(data)
    dropped = ended = False
    while i + 12 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > n:
            return data
        if kind in _PNG_METADATA:
            dropped = True
        else:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            ended = True
            break
    return b"".join(out) if dropped and ended else data
