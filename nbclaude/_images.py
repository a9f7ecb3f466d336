"""Images -> API image blocks: :func:`image` and the helpers the session, magic and widget use.

Everything heavy (PIL, numpy, matplotlib, httpx) is imported inside the functions that need it,
so ``import nbclaude._images`` costs only the standard library.

What :func:`image` does (DESIGN.md §1, PROTOCOL.md §6):

* fits the picture inside ``max_edge`` on its long side and ``max_pixels`` in total, never
  upscaling; JPEGs are decoded with ``Image.draft`` straight to (a power of two above) the
  target size, then resized with BICUBIC (the rest is under 2x), which takes less than half
  the time of a naive full decode + LANCZOS; other images are resized with LANCZOS;
* applies the EXIF orientation, converts what the API cannot take (BMP, TIFF, ICO, PSD, CMYK,
  16-bit, ...) and keeps JPEG/PNG/WEBP as they are; a GIF that must change becomes a PNG of its
  first frame (the API only looks at the first frame anyway);
* re-encodes (lower JPEG/WEBP quality, a too-big PNG optimised, then as JPEG when it has no
  alpha, then smaller) until the base64 text is at most 5,242,880 characters;
* sends the original bytes untouched when nothing needs to change (the fast path). Note that
  the original bytes keep their metadata (EXIF, maybe a GPS position); re-encoded images do not.

The result is an :class:`ImageBlock`: a plain ``dict`` of exactly the API's shape that also shows
a thumbnail in notebooks.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import re
import struct
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ._exceptions import ImageError
from ._models_info import LIMITS

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = [
    "ImageBlock",
    "ImageInfo",
    "base64_length",
    "estimate_tokens",
    "fetch_url",
    "human_size",
    "image",
    "image_from_bytes",
    "image_info",
    "is_image_like",
    "read_file",
    "short_source",
    "sniff_media_type",
    "split_source",
    "thumbnail",
]

#: The base64 text of one image may be at most this long (PROTOCOL.md §6, §10.12).
MAX_BASE64 = LIMITS["max_image_base64"]
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
_TIMES = "\N{MULTIPLICATION SIGN}"
_THUMB_EDGE = 256
_ACCEPTED = (
    "a PIL image, a numpy array, a matplotlib figure, IPython.display.Image, bytes, "
    "a path (str or pathlib.Path), an http(s) URL or an image block dict"
)


# --------------------------------------------------------------------------------------------
# Small helpers shared with _content


def base64_length(n: int) -> int:
    """Length of the base64 text of ``n`` bytes."""
    return 4 * ((n + 2) // 3)


def human_size(n: int) -> str:
    """``1536`` -> ``'1.5 KB'`` (binary units, as file managers show them)."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    unit = "GB"
    for candidate in ("KB", "MB"):
        value /= 1024
        if value < 1024:
            unit = candidate
            break
    else:
        value /= 1024
    return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def estimate_tokens(width: int, height: int) -> int:
    """Estimated input tokens of a ``width`` x ``height`` image.

    The current vision docs count ``ceil(w/28) * ceil(h/28)`` visual tokens after the API's
    own downscaling to its native size (PROTOCOL.md §6: ≤ 1568 px per side and ≤ 1.15 MP for
    most models); the legacy ``w*h/750`` rule gives nearly the same numbers.

    Examples
    --------
    >>> estimate_tokens(1092, 1092), estimate_tokens(200, 200)
    (1521, 64)
    """
    w, h = _fit(width, height, LIMITS["native_edge"], LIMITS["native_pixels"])
    return math.ceil(w / 28) * math.ceil(h / 28)


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


def _looks_like_image(data: bytes | bytearray | memoryview) -> bool:
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


def short_source(text: str, limit: int = 72) -> str:
    """A source (path or URL) shortened for messages; a URL's query string is never shown.

    Examples
    --------
    >>> short_source("https://example.com/a.png?X-Amz-Signature=secret")
    'https://example.com/a.png?…'
    """
    if re.match(r"^(https?|data):", text, re.IGNORECASE):
        if text[:5].lower() == "data:":
            return text[: min(limit, text.find(",") + 1 or 30)] + "…"
        cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=-1)
        if cut >= 0:
            text = text[:cut] + "?…"
        text = re.sub(r"^(https?://)[^/@]*@", r"\1…@", text, flags=re.IGNORECASE)  # user:pass@
    if len(text) > limit:
        text = "…" + text[-(limit - 1) :]
    return text


def _fail(origin: str, reason: str, hint: str | None = None) -> ImageError:
    return ImageError(f"{origin}: {reason}", hint=hint)


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]+):")
# Schemes written without "//" that must never be taken for a file name.
_OTHER_SCHEMES = frozenset({"javascript", "vbscript", "file", "mailto", "about", "blob", "urn"})


def split_source(text: str) -> tuple[str, str]:
    """Classify a source string: ``("url", text)``, ``("data", text)`` or ``("path", text)``.

    Raises :class:`ImageError` for another URL scheme (``file:``, ``ftp:``, ``javascript:``...).
    A one-letter "scheme" is a Windows drive (``C:\\...``), hence a path.
    """
    m = _SCHEME.match(text)
    if m is None:
        return "path", text
    scheme = m.group(1).lower()
    if scheme in ("http", "https"):
        from urllib.parse import urlsplit

        if not urlsplit(text).netloc or any(c.isspace() or ord(c) < 32 for c in text):
            raise _fail(short_source(text), "not a valid URL")
        return "url", text
    if scheme == "data":
        return "data", text
    looks_like_url = text[m.end() : m.end() + 2] == "//" or scheme in _OTHER_SCHEMES
    if not looks_like_url or os.path.exists(text):
        return "path", text  # e.g. "notes:v2.png"
    raise _fail(
        short_source(text),
        f"unsupported URL scheme {scheme + ':'!r}",
        hint="Use an http(s) URL, a local path or the bytes themselves.",
    )


def read_file(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """Read a local file for sending: ``(data, short name)``; clear :class:`ImageError` s."""
    p = Path(path).expanduser()
    origin = short_source(str(path))
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise _fail(
            origin,
            "no such file",
            hint=f"Check the path; relative paths start in {short_source(os.getcwd(), 60)}.",
        ) from None
    except IsADirectoryError:
        raise _fail(origin, "is a directory, not a file") from None
    except PermissionError:
        raise _fail(origin, "cannot be read (permission denied)") from None
    except OSError as e:
        if p.is_dir():
            raise _fail(origin, "is a directory, not a file") from None
        raise _fail(origin, f"cannot be read ({e.strerror or type(e).__name__})") from None
    if not data:
        raise _fail(origin, "the file is empty")
    return data, origin


def decode_data_url(url: str) -> tuple[bytes, str]:
    """``data:<type>;base64,<data>`` -> ``(bytes, media type)``."""
    origin = short_source(url)
    head, sep, payload = url.partition(",")
    if not sep or not head.lower().endswith(";base64"):
        raise _fail(origin, "only base64 data: URLs are supported")
    media_type = head[5:-7].strip().lower()
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(origin, "the data: URL is not valid base64") from None
    if not data:
        raise _fail(origin, "the data: URL is empty")
    return data, media_type


def fetch_url(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    accept: str,
    allowed: Callable[[str], bool],
) -> tuple[bytes, str, str | None]:
    """Download ``url`` with httpx: ``(body, media type, charset)``; failures are ImageErrors.

    ``timeout`` bounds the whole download (a server that trickles bytes is cut off too);
    ``max_bytes`` is enforced while streaming; ``allowed(content_type)`` must accept the
    response's content type.
    """
    import httpx

    origin = short_source(url)
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers={"Accept": accept}) as response,
        ):
            if response.status_code >= 400:
                raise _fail(origin, f"download failed: HTTP {response.status_code}")
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            charset = response.charset_encoding
            if not allowed(ctype):
                raise _fail(origin, f"the server sent {ctype or 'no content type'}, not {accept}")
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise _fail(origin, f"too big ({human_size(int(length))} > max_bytes)")
            buf = bytearray()
            for chunk in response.iter_bytes():
                buf += chunk
                if len(buf) > max_bytes:
                    raise _fail(origin, f"too big (more than max_bytes={max_bytes:,} bytes)")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline")
    except httpx.TimeoutException:
        raise _fail(
            origin,
            f"download timed out after {timeout:g} s",
            hint="Raise timeout=, or send the URL by reference (fetch=False).",
        ) from None
    except httpx.HTTPError as e:
        raise _fail(origin, f"download failed ({type(e).__name__})") from None
    if not buf:
        raise _fail(origin, "the download is empty")
    return bytes(buf), ctype, charset


# --------------------------------------------------------------------------------------------
# The block


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
            _rebuild_block,
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
        size = f" {self.width}{_TIMES}{self.height}" if self.width else ""
        n = self.tokens
        tokens = f", ~{n:,} token{'s' if n != 1 else ''}" if n else ""
        was = ""
        if self.original_size and self.original_size != (self.width, self.height):
            was = f" (from {self.original_size[0]}{_TIMES}{self.original_size[1]})"
        b64 = human_size(self.base64_length)
        return f"<{self.media_type}{size}{was}, {b64} base64{tokens}>"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.summary()}
        thumb = thumbnail(self)
        if thumb is not None:
            bundle[thumb[0]] = base64.b64encode(thumb[1]).decode("ascii")
        return bundle


def _rebuild_block(
    block: dict[str, Any],
    width: int | None,
    height: int | None,
    origin: str,
    original_size: tuple[int, int] | None,
) -> ImageBlock:
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


class _HeaderTooShortError(Exception):
    pass


def _header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first bytes of a JPEG/PNG/GIF/WEBP; raises _HeaderTooShortError."""
    kind = sniff_media_type(data)
    if kind == "image/png":
        if len(data) < 24:
            raise _HeaderTooShortError
        w, h = struct.unpack(">II", data[16:24])
        return w, h
    if kind == "image/gif":
        if len(data) < 10:
            raise _HeaderTooShortError
        w, h = struct.unpack("<HH", data[6:10])
        return w, h
    if kind == "image/webp":
        if len(data) < 30:
            raise _HeaderTooShortError
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
                raise _HeaderTooShortError
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


def image_info(block: Mapping[str, Any]) -> ImageInfo | None:
    """Media type (sniffed from the bytes), size and base64 length of a base64 image block.

    Cheap: only the header is decoded. ``None`` for a URL (or file) block or a non-image.

    Examples
    --------
    >>> import numpy as np
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
            size = _header_size(head)
        except _HeaderTooShortError:
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


def is_image_like(value: Any) -> bool:
    """Whether ``value`` should become an image block (cheap: imports nothing).

    True for PIL images, matplotlib figures and axes, ``IPython.display.Image``, image block
    dicts, bytes starting with an image signature, and numpy arrays shaped like an image:
    ``HxWx{1,3,4}`` of any numeric type, or 2-D ``uint8``/``uint16``/``bool`` (a 2-D float
    array is more likely a table of numbers than a picture).

    Examples
    --------
    >>> is_image_like({"type": "image", "source": {"type": "url", "url": "https://x/a.png"}})
    True
    >>> is_image_like("photo.jpg")
    False
    """
    if isinstance(value, Mapping):
        return value.get("type") == "image"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _looks_like_image(value)
    kind = _kind(value)
    if kind != "numpy":
        return kind is not None
    shape: tuple[Any, ...] = tuple(getattr(value, "shape", ()))
    dtype = getattr(value, "dtype", None)
    dkind = getattr(dtype, "kind", "")
    if any(not isinstance(n, int) or n < 1 for n in shape):
        return False
    if len(shape) == 3:
        return shape[2] in (1, 3, 4) and dkind in "biuf"
    if len(shape) == 2:
        return str(dtype) in ("uint8", "uint16", "bool")
    return False


def _kind(value: Any) -> str | None:
    """'pil' | 'numpy' | 'figure' | 'axes' | 'ipython' | None, from class names only."""
    for cls in type(value).__mro__:
        mod, name = cls.__module__, cls.__name__
        if mod == "PIL.Image" and name == "Image":
            return "pil"
        if mod == "numpy" and name == "ndarray":
            return "numpy"
        if mod == "matplotlib.figure" and name in ("Figure", "SubFigure"):
            return "figure"
        if mod.startswith("matplotlib.axes") and name == "_AxesBase":
            return "axes"
        if mod == "IPython.core.display" and name == "Image":
            return "ipython"
    return None


# --------------------------------------------------------------------------------------------
# Thumbnails

_THUMB_CACHE: dict[tuple[int, int, str, str, int], tuple[str, bytes] | None] = {}
_THUMB_LOCK = threading.Lock()


def thumbnail(block: Mapping[str, Any], *, max_edge: int = _THUMB_EDGE) -> tuple[str, bytes] | None:
    """A small preview of a base64 image block: ``(mime type, encoded bytes)``.

    Works for any image block dict, including plain dicts loaded from a saved session.
    ``None`` for URL blocks (a remote image is never loaded) and for undecodable data.
    JPEG sources give a JPEG thumbnail, everything else a PNG; never larger than the source.

    Examples
    --------
    >>> import numpy as np
    >>> thumbnail(image(np.zeros((600, 800, 3), dtype=np.uint8)))[0]
    'image/png'
    """
    if isinstance(block, ImageBlock) and max_edge in block._thumbs:
        return block._thumbs[max_edge]
    source = block.get("source") if isinstance(block, Mapping) else None
    if not isinstance(source, Mapping) or source.get("type") != "base64":
        return None
    data = source.get("data")
    if not isinstance(data, str) or not data:
        return None
    # Keyed without holding the (large) data string itself; str hashes are cached by Python.
    key = (hash(data), len(data), data[:48], data[-48:], max_edge)
    with _THUMB_LOCK:
        hit = key in _THUMB_CACHE
        result = _THUMB_CACHE.get(key)
    if not hit:
        result = _make_thumbnail(data, max_edge)
        with _THUMB_LOCK:
            while len(_THUMB_CACHE) >= 128:
                del _THUMB_CACHE[next(iter(_THUMB_CACHE))]
            _THUMB_CACHE[key] = result
    if isinstance(block, ImageBlock):
        block._thumbs[max_edge] = result
    return result


def _make_thumbnail(data: str, max_edge: int) -> tuple[str, bytes] | None:
    from PIL import Image

    try:
        raw = base64.b64decode(data)
        img = _open(raw, "thumbnail")
        w, h = img.size
        if img.format in ("JPEG", "MPO"):
            img.draft(None, (max(1, min(w, max_edge)), max(1, min(h, max_edge))))
        _check_pixels(img, "thumbnail")
        img.load()
        orientation = _orientation(img)
        img, _ = _normalize_mode(img)
        img.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
        if orientation != 1:
            img = img.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
        out = io.BytesIO()
        if img.mode in ("RGB", "L") and sniff_media_type(raw) == "image/jpeg":
            img.save(out, "JPEG", quality=80)
            return "image/jpeg", out.getvalue()
        img.save(out, "PNG")
        return "image/png", out.getvalue()
    except (ImageError, OSError, ValueError, SyntaxError, binascii.Error):
        return None


# --------------------------------------------------------------------------------------------
# The pipeline


def _fit(w: int, h: int, max_edge: int, max_pixels: int) -> tuple[int, int]:
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


def _open(data: bytes, origin: str) -> PILImage:
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
        raise _fail(origin, "too many pixels (refused as a possible decompression bomb)") from None
    except UnidentifiedImageError:
        kind = sniff_media_type(data)
        if kind is not None:
            raise _fail(
                origin, f"corrupt image (it starts like {kind} but cannot be read)"
            ) from None
        raise _fail(
            origin,
            "not an image Pillow can read",
            hint="Send a JPEG, PNG, GIF or WEBP (or another format Pillow opens).",
        ) from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as e:
        raise _fail(origin, f"corrupt image ({type(e).__name__})") from None
    if img.size[0] < 1 or img.size[1] < 1:
        raise _fail(origin, "the image has zero width or height")
    return img


def _small_enough(data: bytes) -> bool:
    """True when the header shows the image is under PIL's MAX_IMAGE_PIXELS (no warning)."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    try:
        size = _header_size(data[:65536])
    except _HeaderTooShortError:
        return False
    return limit is None or (size is not None and size[0] * size[1] <= limit)


def _check_pixels(img: PILImage, origin: str) -> None:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and img.size[0] * img.size[1] > limit:
        raise _fail(
            origin,
            f"too many pixels to decode ({img.size[0]}{_TIMES}{img.size[1]}, limit {limit:,}; "
            "refused as a possible decompression bomb)",
            hint="Shrink it first, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust it.",
        )


def _orientation(img: PILImage) -> int:
    """The EXIF orientation (1-8); 1 when absent. Never forces a full PNG decode."""
    try:
        if img.format == "PNG" and "exif" not in img.info:
            return 1
        value = img.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _has_alpha(img: PILImage) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _normalize_mode(img: PILImage) -> tuple[PILImage, bool]:
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


def _webp_is_lossless(data: bytes) -> bool:
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


_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip


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
                raise _fail("image", "cannot be made small enough")
            img = img.resize((max(1, w * 3 // 4), max(1, h * 3 // 4)), Image.Resampling.LANCZOS)
        data = _encode(img, fmt, quality)
    return data, fmt, img


def _output_format(src_format: str | None, src_mode: str, alpha: bool, data: bytes | None) -> str:
    if src_mode == "CMYK" and not alpha:
        return "JPEG"
    if src_format in ("JPEG", "MPO"):
        return "JPEG"
    if src_format == "WEBP":
        return "PNG" if data is not None and _webp_is_lossless(data) else "WEBP"
    if src_format in ("PNG", "GIF") or src_format is None or alpha:
        return "PNG"
    if src_format in _PHOTO_FORMATS and src_mode not in ("1", "L", "P", "I;16", "I", "F"):
        return "JPEG"
    return "PNG"


def _process(
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
            _check_pixels(img, origin)
        _load(img, origin)
    orientation = _orientation(img)
    swap = orientation in (5, 6, 7, 8)
    w0, h0 = img.size
    rw, rh = (h0, w0) if swap else (w0, h0)  # as displayed
    tw, th = _fit(rw, rh, max_edge, max_pixels)
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
        # Fast path: send the bytes as they are, after checking that they decode.
        if jpeg:
            img.draft(None, (max(1, w0 // 8), max(1, h0 // 8)))
            _check_pixels(img, origin)
            _load(img, origin)
        block = {"type": "image", "source": _b64_source(media_type, data)}
        return _finish(block, extra, tw, th, origin, (rw, rh))

    if jpeg:
        if (tw, th) != (rw, rh):
            img.draft(None, stored_target)  # decode at 1/2, 1/4 or 1/8 scale: >= target
        _check_pixels(img, origin)
        _load(img, origin)
    img, alpha = _normalize_mode(img)
    if img.size != stored_target:
        # After a JPEG draft the remaining reduction is under 2x: BICUBIC (Pillow's thumbnail
        # filter) is as good there and twice as fast; LANCZOS elsewhere (sharper text).
        drafted = img.size[0] < w0
        resample = Image.Resampling.BICUBIC if drafted else Image.Resampling.LANCZOS
        img = img.resize(stored_target, resample, reducing_gap=3.0)
    if orientation != 1:
        img = img.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
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


def _load(img: PILImage, origin: str) -> None:
    try:
        img.load()
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as e:
        text = str(e)
        reason = "truncated" if "truncated" in text else type(e).__name__
        raise _fail(origin, f"corrupt image data ({reason})") from None


# --------------------------------------------------------------------------------------------
# Sources


def image_from_bytes(
    data: bytes | bytearray | memoryview,
    *,
    origin: str = "bytes",
    max_edge: int = LIMITS["native_edge"],
    max_pixels: int = LIMITS["native_pixels"],
    extra: Mapping[str, Any] | None = None,
) -> ImageBlock:
    """Encoded image bytes -> block (the pipeline behind :func:`image`); ``origin`` names them."""
    raw = bytes(data)
    if not raw:
        raise _fail(origin, "no data (0 bytes)")
    img = _open(raw, origin)
    try:
        return _process(
            img, data=raw, origin=origin, max_edge=max_edge, max_pixels=max_pixels, extra=extra
        )
    finally:
        img.close()


def _array_to_pil(array: Any, origin: str) -> PILImage:
    import numpy as np
    from PIL import Image

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4))):
        raise _fail(
            origin,
            f"an array of shape {a.shape} is not an image",
            hint="Use HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA).",
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise _fail(origin, "the array is empty (zero width or height)")
    kind = a.dtype.kind
    if kind == "b":
        a = a.astype(np.uint8) * 255
    elif kind == "f":
        a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif kind in "ui":
        if a.dtype == np.uint16:
            a = (a.astype(np.uint32) * 255 + 32767) // 65535  # the full 16-bit range
        elif a.dtype != np.uint8:
            lo, hi = int(a.min()), int(a.max())
            if lo < 0 or hi > 255:  # outside 8-bit: stretch to 0..255
                span = max(1, hi - lo)
                a = (a.astype(np.float64) - lo) * (255.0 / span) + 0.5
        a = a.astype(np.uint8)
    else:
        raise _fail(origin, f"cannot make an image of dtype {a.dtype}")
    return Image.fromarray(np.ascontiguousarray(a))


def _figure_png(fig: Any) -> bytes:
    """Render a matplotlib figure to PNG with its own dpi; no pyplot, figure left unchanged."""
    while not hasattr(fig, "savefig") and getattr(fig, "figure", None) not in (None, fig):
        fig = fig.figure  # a SubFigure -> its root Figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi="figure")  # the figure's own (unscaled) dpi
    return buf.getvalue()


def _describe(src: Any) -> str:
    kind = _kind(src)
    if kind == "pil":
        return f"PIL image ({src.mode} {src.size[0]}{_TIMES}{src.size[1]})"
    if kind == "numpy":
        return f"numpy array {tuple(src.shape)} {src.dtype}"
    if kind in ("figure", "axes"):
        return f"matplotlib {type(src).__name__}"
    if kind == "ipython":
        name = getattr(src, "filename", None) or getattr(src, "url", None)
        return f"IPython Image ({short_source(name, 48)})" if name else "IPython Image"
    if isinstance(src, (bytes, bytearray, memoryview)):
        return f"{type(src).__name__} ({memoryview(src).nbytes:,} bytes)"
    return type(src).__name__


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
        return image_from_bytes(src, origin=_describe(src), **limits)
    kind = _kind(src)
    origin = _describe(src)
    if kind == "pil":
        if src.size[0] < 1 or src.size[1] < 1:
            raise _fail(origin, "the image has zero width or height")
        return _process(src, data=None, origin=origin, **limits)
    if kind == "numpy":
        return _process(_array_to_pil(src, origin), data=None, origin=origin, **limits)
    if kind in ("figure", "axes"):
        fig = src.figure if kind == "axes" else src
        return image_from_bytes(_figure_png(fig), origin=origin, **limits)
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
            raise _fail(short_source(text), f"a data: URL of type {media_type!r} is not an image")
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
        raise _fail(origin, "the block has no base64 data")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(origin, "the block's data is not valid base64") from None
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
    raise _fail(origin, "holds no data, URL or file name")
