"""Reading a response body within bounds, and saying what a body is when it is not the API's.

httpx inflates a gzip body as it reads it, without a limit: 1 MiB of gzip can become gigabytes
(a "gzip bomb"). :func:`chunks` inflates ``gzip`` and ``deflate`` itself, at most 1 MiB at a
time, so the reader can stop at its limit (:data:`MAX_BODY_BYTES` for a whole body,
:data:`MAX_STREAM_BYTES` for a stream) with only that much in memory; identity bodies are read
raw, with no extra layer (the streaming hot path).
"""

from __future__ import annotations

import html
import json
import re
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_BODY_BYTES",
    "MAX_RESULTS_BYTES",
    "MAX_STREAM_BYTES",
    "BodyTooLargeError",
    "UndecodableBodyError",
    "chunks",
    "describe",
    "read",
]

#: The most bytes (after decompression) of one whole response body: far above any Message
#: (128K output tokens are well under 1 MB of JSON; server tool results add a few MB).
MAX_BODY_BYTES = 64 * 1024 * 1024
#: ... of a Message Batch's results (JSON Lines, one line per request: they can be large).
MAX_RESULTS_BYTES = 1024 * 1024 * 1024
#: ... of one streamed reply (a 128K-token reply is some tens of MB of events).
MAX_STREAM_BYTES = 256 * 1024 * 1024
#: What the client accepts: only encodings it can inflate within bounds.
ACCEPT_ENCODING = "gzip, deflate"

_STEP = 1 << 20


class BodyTooLargeError(Exception):
    """The body passed its limit (``limit`` bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit // (1024 * 1024):,} MiB")
        self.limit = limit


class UndecodableBodyError(Exception):
    """The body says it is compressed and is not."""


def chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body's bytes, inflated when it is gzip or deflate (at most 1 MiB per piece);
    other encodings are left to httpx."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return response.iter_raw()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _inflate(response.iter_raw(), deflate=encoding == "deflate")
    return response.iter_bytes()


def _inflate(raw: Iterator[bytes], *, deflate: bool) -> Iterator[bytes]:
    # 32 + MAX_WBITS reads a gzip or a zlib header; a raw deflate stream is tried after that.
    inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
    first = True
    for chunk in raw:
        data = chunk
        while data:
            try:
                out = inflater.decompress(data, _STEP)
            except zlib.error:
                if not (first and deflate):
                    raise UndecodableBodyError("the body is not valid gzip/deflate data") from None
                inflater, first = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            first = False
            if out:
                yield out
            data = inflater.unconsumed_tail
    try:
        tail = inflater.flush()
    except zlib.error:
        raise UndecodableBodyError("the body is not valid gzip/deflate data") from None
    if tail:
        yield tail


def read(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, at most ``limit`` bytes (:class:`BodyTooLargeError` past it)."""
    parts: list[bytes] = []
    total = 0
    for chunk in chunks(response):
        total += len(chunk)
        if total > limit:
            raise BodyTooLargeError(limit)
        parts.append(chunk)
    return b"".join(parts)


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def describe(content_type: str, body: bytes) -> str:
    """What a body that is not the API's looks like, in a few words for an error message.

    Examples
    --------
    >>> describe("text/html", b"<html><title>Sign in to Wi-Fi</title>...")
    "an HTML page (text/html) titled 'Sign in to Wi-Fi'"
    >>> describe("application/json", b'{"detail": "Not Found"}')
    'JSON that is not the API\\'s: {"detail": "Not Found"}'
    """
    kind = content_type.split(";")[0].strip() or "no content-type"
    text = body[:2000].decode("utf-8", "replace")
    if "html" in kind or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        match = _TITLE.search(body[:65536])
        title = match.group(1).decode("utf-8", "replace") if match else ""
        title = " ".join(html.unescape(title).split())
        return f"an HTML page ({kind})" + (f" titled {title[:120]!r}" if title else "")
    try:
        value: Any = json.loads(body)
    except ValueError:
        snippet = " ".join(text.split())[:160]
        return f"{len(body):,} bytes of {kind}" + (f" beginning {snippet!r}" if snippet else "")
    return "JSON that is not the API's: " + json.dumps(value, ensure_ascii=False)[:160]
