"""Where pictures (and documents) come from: paths, http(s) URLs, ``data:`` URLs, downloads.

Also how a source is named in messages: :func:`short_source` never shows a URL's query string
(signed URLs carry secrets there) or a ``user:pass@`` part, and :func:`source_error` makes the
:class:`ImageError` that names it. :mod:`nbclaude._content.documents` uses the same readers for
PDFs and text files.

Only the standard library is imported here; httpx is imported by :func:`fetch_url` when it runs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from nbclaude._exceptions import ImageError

__all__ = [
    "TIMES",
    "decode_data_url",
    "fetch_url",
    "human_size",
    "read_file",
    "short_source",
    "source_error",
    "split_source",
]

#: The sign between width and height in messages (a multiplication sign, not an x).
TIMES = "\N{MULTIPLICATION SIGN}"


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


def source_error(origin: str, reason: str, hint: str | None = None) -> ImageError:
    """An :class:`ImageError` that names its source: ``"<origin>: <reason>"``."""
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
            raise source_error(short_source(text), "not a valid URL")
        return "url", text
    if scheme == "data":
        return "data", text
    looks_like_url = text[m.end() : m.end() + 2] == "//" or scheme in _OTHER_SCHEMES
    if not looks_like_url or os.path.exists(text):
        return "path", text  # e.g. "notes:v2.png"
    raise source_error(
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
        raise source_error(
            origin,
            "no such file",
            hint=f"Check the path; relative paths start in {short_source(os.getcwd(), 60)}.",
        ) from None
    except IsADirectoryError:
        raise source_error(origin, "is a directory, not a file") from None
    except PermissionError:
        raise source_error(origin, "cannot be read (permission denied)") from None
    except OSError as e:
        if p.is_dir():
            raise source_error(origin, "is a directory, not a file") from None
        raise source_error(origin, f"cannot be read ({e.strerror or type(e).__name__})") from None
    if not data:
        raise source_error(origin, "the file is empty")
    return data, origin


def decode_data_url(url: str) -> tuple[bytes, str]:
    """``data:<type>;base64,<data>`` -> ``(bytes, media type)``."""
    origin = short_source(url)
    head, sep, payload = url.partition(",")
    if not sep or not head.lower().endswith(";base64"):
        raise source_error(origin, "only base64 data: URLs are supported")
    media_type = head[5:-7].strip().lower()
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise source_error(origin, "the data: URL is not valid base64") from None
    if not data:
        raise source_error(origin, "the data: URL is empty")
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
                raise source_error(origin, f"download failed: HTTP {response.status_code}")
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            charset = response.charset_encoding
            if not allowed(ctype):
                raise source_error(
                    origin, f"the server sent {ctype or 'no content type'}, not {accept}"
                )
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise source_error(origin, f"too big ({human_size(int(length))} > max_bytes)")
            buf = bytearray()
            for chunk in response.iter_bytes():
                buf += chunk
                if len(buf) > max_bytes:
                    raise source_error(origin, f"too big (more than max_bytes={max_bytes:,} bytes)")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline")
    except httpx.TimeoutException:
        raise source_error(
            origin,
            f"download timed out after {timeout:g} s",
            hint="Raise timeout=, or send the URL by reference (fetch=False).",
        ) from None
    except httpx.HTTPError as e:
        raise source_error(origin, f"download failed ({type(e).__name__})") from None
    if not buf:
        raise source_error(origin, "the download is empty")
    return bytes(buf), ctype, charset
