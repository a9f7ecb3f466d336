"""What a tool returned -> ``tool_result`` content for the model: :func:`tool_result_content`.

Text is sent as it is, structured values as JSON, pictures as image blocks, ready content
blocks as they are; text is cut at :data:`MAX_RESULT_CHARS` characters and at most
:data:`MAX_RESULT_IMAGES` images are sent. Images are made by :mod:`nbclaude._content.images`,
imported when a tool returns one.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

from nbclaude._schema.convert import to_jsonable

__all__ = ["MAX_RESULT_CHARS", "MAX_RESULT_IMAGES", "tool_result_content"]

#: Longest text a tool result may send to the model; the rest is cut with a note.
MAX_RESULT_CHARS = 100_000
#: Most images one tool result may send.
MAX_RESULT_IMAGES = 20
_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") in _BLOCK_TYPES


def _is_image(value: Any) -> bool:
    from nbclaude._content.images import is_image_like

    return is_image_like(value) and not isinstance(value, Mapping)


def _repr_markdown(value: Any) -> str | None:
    method = getattr(value, "_repr_markdown_", None)
    if isinstance(value, type) or not callable(method):
        return None
    try:
        out = method()
    except Exception:
        return None
    if isinstance(out, tuple) and out:
        out = out[0]
    return out if isinstance(out, str) else None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(data):,} bytes of binary data>"
    if type(value).__module__ == "numpy" and getattr(value, "size", 0) > 1000:
        return f"array of shape {value.shape}, dtype {value.dtype}:\n{value}"
    markdown = _repr_markdown(value)
    if markdown is not None:
        return markdown
    plain = (bool, int, float, list, tuple, set, frozenset, Mapping, enum.Enum)
    structured = (
        isinstance(value, plain)
        or (dataclasses.is_dataclass(value) and not isinstance(value, type))
        or callable(getattr(value, "model_dump", None))
        or type(value).__module__ == "numpy"
    )
    if structured:
        try:
            return json.dumps(to_jsonable(value, default=str), ensure_ascii=False)
        except (TypeError, ValueError):
            pass
    return str(value)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit]}\n\n[... truncated: the result has {len(text):,} characters; only the "
        f"first {limit:,} are shown]"
    )


def tool_result_content(
    value: Any, *, max_chars: int = MAX_RESULT_CHARS
) -> str | list[dict[str, Any]]:
    """What a tool returned, as ``tool_result`` content for the model.

    * ``str`` as it is (an empty one as a short note); ``None`` as a short note;
    * numbers, bools, dicts, lists, tuples, sets, dataclasses, enums, pydantic models and
      numpy values as JSON (arrays over 1,000 elements as numpy prints them, summarized);
    * images (PIL images, numpy arrays shaped like pictures, matplotlib figures,
      ``IPython.display.Image``, image bytes) as image blocks made by ``nbclaude.image``;
      content block dicts (``text``/``image``/``document``/``search_result``) as they are;
      a list or tuple holding any of these as a list of blocks (other items as text);
    * other objects by their ``_repr_markdown_``, else ``str()``;
    * text over ``max_chars`` characters cut with a note; at most 20 images.

    Examples
    --------
    >>> tool_result_content({"temperature": 20, "units": "c"})
    '{"temperature": 20, "units": "c"}'
    >>> tool_result_content(None)
    '(no result: the function returned None)'
    """
    if isinstance(value, str):
        return _truncate(value, max_chars) if value else "(an empty string)"
    if value is None:
        return "(no result: the function returned None)"
    items: list[Any]
    if _is_block(value) or _is_image(value):
        items = [value]
    elif isinstance(value, (list, tuple)) and any(_is_block(v) or _is_image(v) for v in value):
        items = list(value)
    else:
        return _truncate(_text(value), max_chars)
    from nbclaude._content.images import image

    blocks: list[dict[str, Any]] = []
    budget = max_chars
    images = skipped = 0
    for item in items:
        if _is_image(item) or (_is_block(item) and item.get("type") == "image"):
            if images >= MAX_RESULT_IMAGES:
                skipped += 1
                continue
            images += 1
            blocks.append(image(item) if _is_image(item) else item)  # keeps an ImageBlock
        elif _is_block(item) and item.get("type") != "text":
            blocks.append(item)  # a document or search_result block, as it is
        else:
            text = item.get("text", "") if _is_block(item) else _text(item)
            if budget <= 0:
                continue
            cut = _truncate(text, budget)
            budget -= len(text)
            if cut.strip():
                blocks.append({**item, "text": cut} if _is_block(item) else _text_block(cut))
    if skipped:
        blocks.append(_text_block(f"[{skipped} more images were not sent]"))
    return blocks or "(no content)"


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}
