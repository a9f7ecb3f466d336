"""``nbclaude.document``: a PDF or plain text as an API ``document`` block.

* :func:`document` makes the block from a path, PDF bytes, a URL (by reference, or fetched) or
  ``text=``; :class:`DocumentBlock` is that block, a dict that shows a one-line summary.
* :func:`file_document` is the file-reading part, shared with
  :func:`nbclaude._content.blocks.to_blocks` for a ``pathlib.Path`` that holds a PDF or a text
  file.

Pickles of a :class:`DocumentBlock` name :func:`rebuild_document` by its full path,
``nbclaude._content.documents.rebuild_document``: that name and module are kept stable.
Pickles from nbclaude 0.1 name ``nbclaude._documents._rebuild_document`` (mapped here by
:mod:`nbclaude._legacy`) or ``nbclaude._content._rebuild_document`` (an attribute of
:mod:`nbclaude._content`).

Like :mod:`nbclaude._content.images.image`, importing this module loads no PIL, numpy,
matplotlib or httpx.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbclaude._api.limits import LIMITS
from nbclaude._exceptions import ImageError

from .images.sources import (
    decode_data_url,
    fetch_url,
    human_size,
    read_file,
    short_source,
    split_source,
)

__all__ = [
    "PDF_MAGIC",
    "TEXT_SUFFIXES",
    "DocumentBlock",
    "document",
    "file_document",
    "rebuild_document",
]

#: File suffixes read as plain-text documents (a ``str`` path or a ``pathlib.Path``).
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".rst", ".csv", ".tsv"})
#: How a PDF file starts.
PDF_MAGIC = b"%PDF-"
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


class DocumentBlock(dict[str, Any]):
    """An API ``document`` block that shows a one-line summary instead of its data.

    Attributes
    ----------
    origin : str
        Where it came from (a shortened path or URL, ``"bytes"``, ``"text"``).
    pages : int or None
        Page count of a PDF when it could be read cheaply (``/Type /Page`` objects).
    size : int or None
        Bytes of a PDF, characters of a text document; ``None`` for a URL.

    Examples
    --------
    >>> document(text="The grass is green.", title="Facts")
    <document text/plain, 19 characters, "Facts">
    """

    __slots__ = ("origin", "pages", "size")

    def __init__(
        self,
        block: Mapping[str, Any],
        *,
        origin: str = "",
        pages: int | None = None,
        size: int | None = None,
    ) -> None:
        super().__init__(block)
        self.origin = origin
        self.pages = pages
        self.size = size

    def __reduce__(self) -> tuple[Any, ...]:
        return (rebuild_document, (dict(self), self.origin, self.pages, self.size))

    def summary(self) -> str:
        """One line: ``<document application/pdf, 12 pages, 1.2 MB (report.pdf)>``."""
        source = self.get("source", {})
        title = f', "{self["title"]}"' if isinstance(self.get("title"), str) else ""
        if source.get("type") == "url":
            return f"<document url {short_source(str(source.get('url', '')))}{title}>"
        parts = [str(source.get("media_type") or source.get("type", "?"))]
        if self.pages:
            parts.append(f"{self.pages} page" + ("s" if self.pages != 1 else ""))
        if self.size is not None:
            is_text = source.get("type") == "text"
            parts.append(f"{self.size:,} characters" if is_text else human_size(self.size))
        where = f" ({self.origin})" if self.origin not in ("", "bytes", "text") else ""
        return "<document " + ", ".join(parts) + title + where + ">"

    def __repr__(self) -> str:
        return self.summary()

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        return {"text/plain": self.summary()}


def rebuild_document(
    block: dict[str, Any], origin: str, pages: int | None, size: int | None
) -> DocumentBlock:
    """Make a :class:`DocumentBlock` again from what its pickle holds (its ``__reduce__``).

    Pickles name this function as ``nbclaude._content.documents.rebuild_document``: the name,
    the module and the parameters stay as they are, so that saved pickles keep loading.

    Examples
    --------
    >>> text = {"type": "document", "source": {"type": "text", "media_type": "text/plain",
    ...                                        "data": "Hi"}}
    >>> rebuild_document(text, "text", None, 2)
    <document text/plain, 2 characters>
    """
    return DocumentBlock(block, origin=origin, pages=pages, size=size)


def _count_pages(data: bytes) -> int | None:
    n = len(_PAGE.findall(data))
    return n or None


def _pdf_block(data: bytes, origin: str, options: dict[str, Any]) -> DocumentBlock:
    limit = LIMITS["max_body_bytes"]
    if 4 * ((len(data) + 2) // 3) > limit:
        raise ImageError(
            f"{origin}: too big ({human_size(len(data))}; a request may be at most "
            f"{human_size(limit)} including the base64 encoding)",
            hint="Split the PDF, or send it by URL.",
        )
    source = {
        "type": "base64",
        "media_type": "application/pdf",
        "data": base64.b64encode(data).decode("ascii"),
    }
    block = {"type": "document", "source": source, **options}
    return DocumentBlock(block, origin=origin, pages=_count_pages(data), size=len(data))


def _text_block(text: str, origin: str, options: dict[str, Any]) -> DocumentBlock:
    if not text.strip():
        raise ImageError(f"{origin}: the text is empty (the API rejects empty documents)")
    source = {"type": "text", "media_type": "text/plain", "data": text}
    block = {"type": "document", "source": source, **options}
    return DocumentBlock(block, origin=origin, size=len(text))


def _decode_text(data: bytes, origin: str, charset: str = "utf-8") -> str:
    try:
        return data.decode("utf-8-sig" if charset.lower() in ("utf-8", "utf8") else charset)
    except (UnicodeDecodeError, LookupError):
        name = "UTF-8" if charset.lower() in ("utf8", "utf-8") else charset
        raise ImageError(
            f"{origin}: not {name} text",
            hint="Convert the file to UTF-8, or pass document(text=...).",
        ) from None


def file_document(data: bytes, origin: str, suffix: str, options: dict[str, Any]) -> DocumentBlock:
    """A file's bytes as a document: a PDF by its header, else text by its ``suffix``."""
    if data.startswith(PDF_MAGIC):
        return _pdf_block(data, origin, options)
    if suffix.lower() in TEXT_SUFFIXES:
        return _text_block(_decode_text(data, origin), origin, options)
    raise ImageError(
        f"{origin}: not a PDF (no %PDF- header) and not a text file "
        f"({', '.join(sorted(TEXT_SUFFIXES))})",
        hint="For other text, read it yourself and pass document(text=...).",
    )


def document(
    src: Any = None,
    *,
    text: str | None = None,
    title: str | None = None,
    context: str | None = None,
    citations: bool | None = None,
    fetch: bool = False,
    timeout: float = 10.0,
    max_bytes: int = 32_000_000,
) -> DocumentBlock:
    """Make an API ``document`` block from a PDF or from plain text.

    Parameters
    ----------
    src : str, pathlib.Path, bytes or dict, optional
        A PDF (path, ``bytes`` starting with ``%PDF-``, or an ``http(s)`` URL, sent by
        reference unless ``fetch=True``); a path ending in ``.txt``, ``.md``, ``.markdown``,
        ``.rst``, ``.csv`` or ``.tsv`` (read as UTF-8 text); or a ready ``document`` block
        dict. A ``str`` is never taken as the text itself: pass ``text=`` for that.
    text : str, optional
        The document's text, sent as a ``text/plain`` document (instead of ``src``).
    title, context : str, optional
        The block's ``title`` and ``context`` fields.
    citations : bool, optional
        Sets ``citations: {"enabled": ...}``.
    fetch : bool
        Download a URL and send its bytes (a PDF, or text for a ``text/*`` response).
    timeout, max_bytes : float, int
        Limits of that download (whole-download seconds, bytes).

    Returns
    -------
    DocumentBlock
        ``{"type": "document", "source": {...}, ...}``, a dict that shows a short summary.

    Raises
    ------
    ImageError
        Missing or unreadable file, not a PDF or text, empty text, too big, failed download.

    Examples
    --------
    >>> b = document(text="Paris is the capital of France.", citations=True)
    >>> b["source"], b["citations"]
    ({'type': 'text', 'media_type': 'text/plain', 'data': 'Paris is the capital of France.'}, \
{'enabled': True})
    >>> document("https://example.com/paper.pdf")["source"]
    {'type': 'url', 'url': 'https://example.com/paper.pdf'}
    """
    options: dict[str, Any] = {}
    for name, value in (("title", title), ("context", context)):
        if value is not None:
            if not isinstance(value, str):
                raise TypeError(f"document({name}=...) must be a str, not {type(value).__name__}")
            options[name] = value
    if citations is not None:
        options["citations"] = {"enabled": bool(citations)}
    if (src is None) == (text is None):
        raise TypeError("document() needs exactly one of src (a PDF or a file) or text=...")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError(f"document(text=...) must be a str, not {type(text).__name__}")
        return _text_block(text, "text", options)
    if isinstance(src, Mapping):
        if src.get("type") != "document" or not isinstance(src.get("source"), Mapping):
            raise ImageError(
                f"not a document block (type {src.get('type')!r}): expected "
                '{"type": "document", "source": {...}}'
            )
        merged = {**src, **options}
        return src if isinstance(src, DocumentBlock) and not options else DocumentBlock(merged)
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        if not data:
            raise ImageError("bytes: no data (0 bytes)")
        if not data.startswith(PDF_MAGIC):
            raise ImageError(
                "bytes: not a PDF (no %PDF- header)",
                hint="For text, pass document(text=...) with a str.",
            )
        return _pdf_block(data, "bytes", options)
    if isinstance(src, os.PathLike):
        data, origin = read_file(src)
        return file_document(data, origin, Path(src).suffix, options)
    if not isinstance(src, str):
        raise TypeError(
            f"document() cannot use a {type(src).__name__}: pass a path, a URL, PDF bytes, "
            "or text=..."
        )
    kind, value = split_source(src.strip())
    if kind == "url":
        if not fetch:
            return DocumentBlock(
                {"type": "document", "source": {"type": "url", "url": value}, **options},
                origin=short_source(value),
            )
        return _fetched(value, options, timeout=timeout, max_bytes=max_bytes)
    if kind == "data":
        data, media_type = decode_data_url(value)
        if media_type != "application/pdf" or not data.startswith(PDF_MAGIC):
            raise ImageError(f"{short_source(value)}: a data: URL document must be a PDF")
        return _pdf_block(data, short_source(value), options)
    if not value:
        raise ImageError("document() got an empty string: pass a path, a URL or text=...")
    data, origin = read_file(value)
    return file_document(data, origin, Path(value).suffix, options)


def _fetched(url: str, options: dict[str, Any], *, timeout: float, max_bytes: int) -> DocumentBlock:
    def allowed(ctype: str) -> bool:
        return ctype in ("application/pdf", "application/octet-stream") or ctype.startswith("text/")

    data, ctype, charset = fetch_url(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        accept="application/pdf, text/plain",
        allowed=allowed,
    )
    origin = short_source(url)
    if data.startswith(PDF_MAGIC):
        return _pdf_block(data, origin, options)
    if ctype.startswith("text/"):
        return _text_block(_decode_text(data, origin, charset or "utf-8"), origin, options)
    raise ImageError(f"{origin}: the download is not a PDF (no %PDF- header)")
