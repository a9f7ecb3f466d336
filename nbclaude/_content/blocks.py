"""User input -> content blocks: :func:`to_blocks`.

:func:`to_blocks` turns what ``Session.send(*parts)`` receives into API content blocks: text,
images (:mod:`nbclaude._content.images`) and documents (:mod:`nbclaude._content.documents`).

Like :mod:`nbclaude._content.images.image`, importing this module loads no PIL, numpy,
matplotlib or httpx.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .documents import PDF_MAGIC, TEXT_SUFFIXES, document, file_document
from .images.image import image
from .images.pipeline import image_from_bytes
from .images.sources import read_file
from .images.values import is_image_like

__all__ = ["to_blocks"]

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
        if bytes(part[:5]) == PDF_MAGIC:
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
    if data.startswith(PDF_MAGIC) or suffix in TEXT_SUFFIXES:
        return file_document(data, origin, suffix, {})
    return image_from_bytes(data, origin=origin)
