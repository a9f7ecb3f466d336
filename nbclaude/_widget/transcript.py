"""The ``transcript`` trait: ``Session.messages`` as the ChatWidget shows them.

Each message becomes an :class:`~nbclaude._widget.protocol.Entry` of displayable blocks; everything
is text except the thumbnails made here (``data:`` URLs of our own downscaled copies; images
by URL are never fetched). Tool calls are shown from the history: each ``tool_use`` block
becomes a ``"tool"`` block carrying its paired ``tool_result`` (status, result text,
thumbnails), and the user messages that only carry tool results disappear, so one reply with
its tool rounds reads as one message. While a turn runs, results not yet recorded come from
``tool_result`` events.

What the history does not say about a reply (model, output tokens, cost, stopped) is kept
here too, by the identity of the recorded assistant message, for every widget to show.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, cast

from nbclaude._session.history import ReplyFacts
from nbclaude._tools import DECLINED  # matched for results loaded from a saved session

from .protocol import THUMB_EDGE, Block, Entry, Meta, ToolStatus, clip_text, json_text

__all__ = [
    "entry",
    "tool_status",
    "transcript",
]


def _thumbnail(block: Mapping[str, Any]) -> Block:
    from nbclaude._content.images import image_info, thumbnail

    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "url":
        return {"type": "other", "label": f"image (by URL): {source.get('url', '')}"}
    thumb = thumbnail(block, max_edge=THUMB_EDGE)
    info = image_info(block)
    label = "image"
    if info is not None and info.width and info.height:
        label = f"Image {info.width}\u00d7{info.height}"
    if thumb is None:
        return {"type": "other", "label": label}
    mime, data = thumb
    out: Block = {
        "type": "image",
        "src": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}",
        "label": label,
    }
    if info is not None and info.width and info.height:
        out["width"] = info.width
        out["height"] = info.height
    return out


def _document_label(block: Mapping[str, Any]) -> str:
    title = block.get("title")
    source = block.get("source")
    kind = source.get("media_type") or source.get("type") if isinstance(source, Mapping) else None
    parts = ["document", str(title) if title else None, str(kind) if kind else None]
    return ": ".join(p for p in parts[:2] if p) + (f" ({parts[2]})" if parts[2] else "")


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, list):
        return "" if content is None else str(content)
    return "\n".join(
        str(b.get("text") or "")
        for b in content
        if isinstance(b, Mapping) and b.get("type") == "text"
    )


def tool_status(result: Mapping[str, Any] | None, *, running: bool = False) -> ToolStatus:
    """How a tool call went, from its ``tool_result`` block (``None``: no result yet).

    Examples
    --------
    >>> tool_status({"type": "tool_result", "tool_use_id": "t", "content": "4"})
    'done'
    >>> tool_status(None, running=True), tool_status(None)
    ('running', 'not run')
    """
    if result is None:
        return "running" if running else "not run"
    content = result.get("content")
    if getattr(result, "declined", False) or (
        result.get("is_error") and _result_text(content) == DECLINED
    ):
        return "declined"
    server_error = isinstance(content, Mapping) and str(content.get("type", "")).endswith("_error")
    return "failed" if result.get("is_error") or server_error else "done"


def _result_part(item: Any, images: list[Block]) -> str | None:
    """One block of a tool result as a line of text (pictures go to ``images``)."""
    if not isinstance(item, Mapping):
        return str(item)
    kind = str(item.get("type") or "")
    if kind == "text":
        return str(item.get("text") or "")
    if kind == "image":
        thumb = _thumbnail(item)
        if thumb["type"] == "image" and len(images) < 4:
            images.append(thumb)
            return None
        return f"[{thumb.get('label') or 'image'}]"
    if kind == "document":
        return f"[{_document_label(item)}]"
    if kind.endswith("_error"):
        return f"error: {item.get('error_code') or kind}"
    title = item.get("title")
    where = item.get("url") or item.get("source")
    if title or where:
        return " \u2014 ".join(str(x) for x in (title, where) if x)
    return f"[{kind or 'block'}]"


def _fill(call: Block, result: Mapping[str, Any], *, running: bool = False) -> None:
    call["status"] = tool_status(result, running=running)
    content = result.get("content")
    if isinstance(content, str):
        call["result"] = clip_text(content)
        return
    items = [content] if isinstance(content, Mapping) else list(content or [])
    images: list[Block] = []
    lines = [line for line in (_result_part(i, images) for i in items) if line is not None]
    call["result"] = clip_text("\n".join(lines))
    if images:
        call["images"] = images


def _block(block: Any) -> Block | None:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, Mapping):
        return {"type": "other", "label": type(block).__name__}
    kind = block.get("type")
    if kind == "text":
        text = str(block.get("text") or "")
        return {"type": "text", "text": text} if text.strip() else None
    if kind == "thinking":
        return {"type": "thinking", "text": str(block.get("thinking") or "")}
    if kind == "redacted_thinking":
        return {"type": "other", "label": "thinking (redacted)"}
    if kind == "image":
        return _thumbnail(block)
    if kind == "document":
        return {"type": "other", "label": _document_label(block)}
    if kind in ("tool_use", "server_tool_use"):
        return {
            "type": "tool",
            "id": str(block.get("id") or ""),
            "name": str(block.get("name") or "?"),
            "input": json_text(block.get("input")),
        }
    if kind and str(kind).endswith("tool_result"):
        return {"type": "other", "label": "tool result"}
    return {"type": "other", "label": str(kind or "block")}


def _estimate_tokens(e: Entry) -> None:
    """A reply stopped before the API counted its tokens (no ``stop_reason``: the usage still
    says what the stream started with) gets an estimate, about four characters a token."""
    meta = e.get("meta")
    if not meta or not meta.get("interrupted") or meta.get("stop_reason"):
        return
    chars = sum(len(b.get("text") or "") for b in e["blocks"] if b["type"] in ("text", "thinking"))
    meta["output_tokens"] = max(1, -(-chars // 4))
    meta["estimated"] = True


def entry(message: Mapping[str, Any], meta: Meta | None = None) -> Entry:
    """A message of ``Session.messages`` as the transcript shows it (on its own: tool calls
    are paired with their results by :func:`transcript`).

    Examples
    --------
    >>> entry({"role": "user", "content": "Hi"})
    {'role': 'user', 'blocks': [{'type': 'text', 'text': 'Hi'}]}
    """
    return transcript([message], {id(message): meta} if meta else None)[0]


def transcript(
    messages: Sequence[Mapping[str, Any]],
    metas: Mapping[int, Meta | ReplyFacts] | None = None,
    *,
    results: Mapping[str, Mapping[str, Any]] | None = None,
    running: bool = False,
) -> list[Entry]:
    """All of ``Session.messages`` as transcript entries; ``metas`` is keyed by ``id(message)``.

    Each ``tool_use`` block becomes a ``"tool"`` block with its ``tool_result`` (from the
    next message, or from ``results`` by ``tool_use_id`` while a turn runs); user messages
    that only carry paired tool results are left out and the assistant messages around them
    make one entry. Calls without a result are ``"running"`` when ``running``, else
    ``"not run"``.

    Examples
    --------
    >>> [e["role"] for e in transcript([{"role": "user", "content": "Hi"},
    ...                                 {"role": "assistant", "content": "Hello"}])]
    ['user', 'assistant']
    """
    metas = metas or {}
    results = results or {}
    out: list[Entry] = []
    calls: dict[str, Block] = {}
    merge = False
    for message in messages:
        role: Literal["user", "assistant"] = (
            "assistant" if message.get("role") == "assistant" else "user"
        )
        content = message.get("content")
        raw: Iterable[Any] = [content] if isinstance(content, str) else (content or [])
        blocks: list[Block] = []
        paired = False
        for item in raw:
            if isinstance(item, Mapping) and str(item.get("type") or "").endswith("tool_result"):
                call = calls.get(str(item.get("tool_use_id") or ""))
                if call is not None and "status" not in call:
                    _fill(call, item)
                    paired = True
                    continue
            block = _block(item)
            if block is None:
                continue
            if block["type"] == "tool":
                calls[block["id"]] = block
            blocks.append(block)
        facts = metas.get(id(message))
        meta = cast("Meta", dict(facts)) if facts else None
        if role == "user" and paired and not blocks:
            merge = True  # only tool results: they belong to the reply around them
            continue
        if merge and role == "assistant" and out and out[-1]["role"] == "assistant":
            out[-1]["blocks"].extend(blocks)
            if meta:
                out[-1]["meta"] = meta
        else:
            e: Entry = {"role": role, "blocks": blocks}
            if meta:
                e["meta"] = meta
            out.append(e)
        merge = False
    for e in out:
        _estimate_tokens(e)
    for call in calls.values():
        if "status" not in call:
            found = results.get(call["id"])
            if found is not None:
                _fill(call, found)
            else:
                call["status"] = "running" if running else "not run"
    return out
