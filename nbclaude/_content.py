"""User input -> content blocks: :func:`to_blocks`, :func:`document` and the request guard rail.

* :func:`to_blocks` turns what ``Session.send(*parts)`` receives into API content blocks.
* :func:`document` makes a PDF or plain-text ``document`` block.
* :func:`fit_messages` checks a whole ``messages`` list just before it is sent, against the
  limits the API enforces on the request as a whole (PROTOCOL.md §6, §10.12).

Like :mod:`nbclaude._images`, importing this module loads no PIL, numpy, matplotlib or httpx.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._exceptions import ImageError, InvalidRequestError
from ._images import (
    MAX_BASE64,
    decode_data_url,
    fetch_url,
    human_size,
    image,
    image_from_bytes,
    image_info,
    is_image_like,
    read_file,
    short_source,
    split_source,
)
from ._models_info import LIMITS

__all__ = ["TEXT_SUFFIXES", "DocumentBlock", "document", "fit_messages", "to_blocks"]

#: File suffixes read as plain-text documents (a ``str`` path or a ``pathlib.Path``).
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".rst", ".csv", ".tsv"})
_PDF_MAGIC = b"%PDF-"
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
        return (_rebuild_document, (dict(self), self.origin, self.pages, self.size))

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


def _rebuild_document(
    block: dict[str, Any], origin: str, pages: int | None, size: int | None
) -> DocumentBlock:
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


def _from_file_bytes(
    data: bytes, origin: str, suffix: str, options: dict[str, Any]
) -> DocumentBlock:
    if data.startswith(_PDF_MAGIC):
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
        if not data.startswith(_PDF_MAGIC):
            raise ImageError(
                "bytes: not a PDF (no %PDF- header)",
                hint="For text, pass document(text=...) with a str.",
            )
        return _pdf_block(data, "bytes", options)
    if isinstance(src, os.PathLike):
        data, origin = read_file(src)
        return _from_file_bytes(data, origin, Path(src).suffix, options)
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
        if media_type != "application/pdf" or not data.startswith(_PDF_MAGIC):
            raise ImageError(f"{short_source(value)}: a data: URL document must be a PDF")
        return _pdf_block(data, short_source(value), options)
    if not value:
        raise ImageError("document() got an empty string: pass a path, a URL or text=...")
    data, origin = read_file(value)
    return _from_file_bytes(data, origin, Path(value).suffix, options)


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
    if data.startswith(_PDF_MAGIC):
        return _pdf_block(data, origin, options)
    if ctype.startswith("text/"):
        return _text_block(_decode_text(data, origin, charset or "utf-8"), origin, options)
    raise ImageError(f"{origin}: the download is not a PDF (no %PDF- header)")


# --------------------------------------------------------------------------------------------
# to_blocks

_ACCEPTED_PARTS = (
    "text (str), an image (PIL image, numpy array, matplotlib figure, bytes, "
    "IPython.display.Image, nbclaude.image(...)), a pathlib.Path to an image, PDF or text "
    "file, nbclaude.document(...), a content-block dict, or a list of these"
)


def to_blocks(*parts: Any) -> list[dict[str, Any]]:
    """Turn ``Session.send(*parts)`` arguments into API content blocks, in order.

    * a ``str`` is always text (never a path: use ``pathlib.Path`` or ``nbclaude.image``);
      empty and whitespace-only strings are dropped (the API rejects them), adjacent strings
      stay separate blocks;
    * ``pathlib.Path``: an image, a PDF (``%PDF-``) or a text file (:data:`TEXT_SUFFIXES`),
      by sniffing the file;
    * PIL images, numpy arrays, matplotlib figures, ``IPython.display.Image`` and ``bytes``
      become image blocks via :func:`nbclaude.image` (``bytes`` starting with ``%PDF-``
      become a PDF document);
    * ready block dicts (anything with a ``"type"``) pass through as they are, except text
      blocks with empty text, which are dropped;
    * lists and tuples are flattened.

    Raises
    ------
    TypeError
        For anything else, naming the type and what is accepted.
    ImageError
        For an image or file that cannot be used.

    Examples
    --------
    >>> to_blocks("Compare", "  ", ["these", {"type": "text", "text": "two"}])
    [{'type': 'text', 'text': 'Compare'}, {'type': 'text', 'text': 'these'}, \
{'type': 'text', 'text': 'two'}]
    """
    out: list[dict[str, Any]] = []
    for part in parts:
        _add(part, out, depth=0)
    return out


def _add(part: Any, out: list[dict[str, Any]], depth: int) -> None:
    if isinstance(part, str):
        if part.strip():
            out.append({"type": "text", "text": part})
    elif isinstance(part, Mapping):
        kind = part.get("type")
        if not isinstance(kind, str):
            raise TypeError(
                'a content-block dict needs a "type" key (like {"type": "text", "text": ...}); '
                f"got keys {sorted(map(str, part))[:6]}"
            )
        if kind == "text" and not str(part.get("text", "")).strip():
            return
        out.append(part if isinstance(part, dict) else dict(part))
    elif isinstance(part, (list, tuple)):
        if depth > 20:
            raise TypeError("parts are nested too deeply")
        for item in part:
            _add(item, out, depth + 1)
    elif isinstance(part, os.PathLike):
        out.append(_path_block(part))
    elif isinstance(part, (bytes, bytearray, memoryview)):
        if bytes(part[:5]) == _PDF_MAGIC:
            out.append(document(bytes(part)))
        else:
            out.append(image(part))
    elif is_image_like(part):
        out.append(image(part))
    else:
        hint = ""
        if isinstance(part, (int, float, complex)) or part is None:
            hint = " (to send it as text, pass str(value))"
        raise TypeError(f"cannot send a {type(part).__name__}{hint}: pass {_ACCEPTED_PARTS}.")


def _path_block(path: os.PathLike[str]) -> dict[str, Any]:
    data, origin = read_file(path)
    suffix = Path(path).suffix.lower()
    if data.startswith(_PDF_MAGIC) or suffix in TEXT_SUFFIXES:
        return _from_file_bytes(data, origin, suffix, {})
    return image_from_bytes(data, origin=origin)


# --------------------------------------------------------------------------------------------
# The request guard rail


def _image_slots(messages: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, int | None]]:
    """(message index, block index, tool_result inner index or None) of every image block."""
    slots: list[tuple[int, int, int | None]] = []
    for i, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "image":
                slots.append((i, j, None))
            elif block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                for k, inner in enumerate(block["content"]):
                    if isinstance(inner, Mapping) and inner.get("type") == "image":
                        slots.append((i, j, k))
    return slots


def _size_bounds(value: Any) -> tuple[int, int]:
    """(lower, upper) bounds of the UTF-8 JSON size of ``value``, without serialising it.

    O(number of values): string lengths are O(1) in Python. A string may grow up to 6x in
    JSON (``\\u001f``), except base64 ``data`` of a source, which is plain ASCII.
    """
    lo = hi = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            lo += len(v) + 2
            hi += 6 * len(v) + 2
        elif isinstance(v, Mapping):
            base64_source = v.get("type") == "base64"
            for k, item in v.items():
                key = len(str(k))
                lo += key + 4
                hi += 6 * key + 4
                if base64_source and k == "data" and isinstance(item, str):
                    lo += len(item) + 2
                    hi += len(item) + 2
                else:
                    stack.append(item)
            lo += 2
            hi += 2
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
            lo += 1 + len(v)
            hi += 2 + len(v)
        else:
            lo += 1
            hi += 32
    return lo, hi


def fit_messages(
    messages: Sequence[Mapping[str, Any]], *, overhead: int = 0, max_images: int | None = None
) -> list[dict[str, Any]]:
    """The request-level guard rail: make ``messages`` acceptable to the API, or refuse.

    Call it on the full ``messages`` list just before sending. It is a pure function: the
    input is never mutated; the result is a new list that shares every message and block it
    did not have to change (so keep the result as the new history, and the work is not
    repeated next turn).

    * More than 20 images in the request: every base64 image with a side over 2000 px is
      downscaled to fit 2000 px (the API's many-image rule). Base64 images over the per-image
      limits (8000 px a side, 5,242,880 base64 characters) are re-fitted too. URL images
      cannot be checked and are left alone. Images inside ``tool_result`` blocks count.
    * More than 100 images: :class:`InvalidRequestError` (nothing is sent).
    * A JSON body over 32 MB: :class:`InvalidRequestError`. The size is bounded cheaply from
      the string lengths; the body is serialised only when the bounds straddle the limit.

    Parameters
    ----------
    messages : sequence of dict
        The ``messages`` about to be sent.
    overhead : int
        Bytes of the rest of the body (``system``, ``tools``, ...), counted toward 32 MB.
    max_images : int, optional
        Images allowed per request: 100 by default (``LIMITS``); the vision docs allow 600
        on 1M-context models (PROTOCOL.md §6), so pass 600 for those.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> msgs = [{"role": "user", "content": "Hi"}]
    >>> fit_messages(msgs) == msgs
    True
    """
    slots = _image_slots(messages)
    if max_images is None:
        max_images = LIMITS["max_images"]
    if len(slots) > max_images:
        raise InvalidRequestError(
            f"This request would hold {len(slots)} images; the API accepts at most "
            f"{max_images} per request. Nothing was sent.",
            hint="Remove images: undo the last turn, or start a new conversation (reset).",
        )
    many = len(slots) > LIMITS["many_images"]
    edge = LIMITS["many_images_edge"] if many else LIMITS["max_image_edge"]
    result: list[dict[str, Any]] = list(messages)  # type: ignore[arg-type]
    copied: set[tuple[int, int]] = set()
    for i, j, k in slots:
        content = result[i]["content"]
        block = content[j] if k is None else content[j]["content"][k]
        fitted = _refit(block, edge)
        if fitted is block:
            continue
        if (i, -1) not in copied:
            result[i] = {**result[i], "content": list(content)}
            copied.add((i, -1))
        new_content = result[i]["content"]
        if k is None:
            new_content[j] = fitted
        else:
            if (i, j) not in copied:
                new_content[j] = {**new_content[j], "content": list(new_content[j]["content"])}
                copied.add((i, j))
            new_content[j]["content"][k] = fitted
    _check_body_size(result, overhead)
    return result


def _refit(block: Mapping[str, Any], edge: int) -> Mapping[str, Any]:
    info = image_info(block)
    if info is None:
        return block  # URL (or file) source: cannot be checked
    too_wide = (
        info.width is not None and info.height is not None and max(info.width, info.height) > edge
    )
    if not too_wide and info.base64_length <= MAX_BASE64:
        return block
    try:
        return image(block, max_edge=edge, max_pixels=edge * edge)
    except ImageError as e:
        raise InvalidRequestError(
            f"An image in the conversation is over the API's limits and cannot be re-fitted "
            f"({e.message}). Nothing was sent.",
            hint="Remove it: undo the turn that added it, or reset the conversation.",
        ) from None


def _check_body_size(messages: list[dict[str, Any]], overhead: int) -> None:
    limit = LIMITS["max_body_bytes"]
    lo, hi = _size_bounds(messages)
    lo += overhead
    hi += overhead + 1024  # model, max_tokens and the rest of the envelope
    if hi <= limit:
        return
    size = lo
    if lo <= limit:
        body = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
        size = len(body.encode("utf-8")) + overhead + 256
        if size <= limit:
            return
    raise InvalidRequestError(
        f"This request would be about {human_size(size)}; the API accepts at most "
        f"{human_size(limit)} per request. Nothing was sent.",
        hint="Send fewer or smaller images or documents (undo the last turn, or reset).",
    )
