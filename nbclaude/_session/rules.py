"""The rules for what a conversation's ``messages`` may hold (docs/architecture.md, "History
rules"; docs/api.md §10).

Pure functions on message dicts: what a recorded assistant turn keeps, what may be sent back,
how a prefill joins the reply, and a Markdown transcript.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from nbclaude._types import Message, MessageParam

__all__ = [
    "assistant_turn",
    "content_markdown",
    "empty_message",
    "has_tool_blocks",
    "is_blank_text",
    "sendable",
    "text_only",
    "with_prefill",
]


def text_only(content: Any) -> str | None:
    """The text when ``content`` is a string or a single plain text block, else ``None``."""
    if isinstance(content, str):
        return content
    if (
        isinstance(content, list)
        and len(content) == 1
        and isinstance(content[0], Mapping)
        and content[0].get("type") == "text"
        and set(content[0]) == {"type", "text"}
    ):
        return str(content[0]["text"])
    return None


def is_blank_text(block: Mapping[str, Any]) -> bool:
    return block.get("type") == "text" and not str(block.get("text") or "").strip()


def sendable(message: MessageParam) -> MessageParam:
    """A history message as it may be sent: without empty or whitespace-only text blocks."""
    content = message.get("content")
    if isinstance(content, list) and any(
        isinstance(b, Mapping) and is_blank_text(b) for b in content
    ):
        return {
            "role": message["role"],
            "content": [b for b in content if not is_blank_text(b)],
        }
    return message


def with_prefill(blocks: list[dict[str, Any]], prefill: str) -> list[dict[str, Any]]:
    """Join the prefill to the first text block (or put it first)."""
    first_text = next((b for b in blocks if b.get("type") == "text"), None)
    if first_text is not None and blocks.index(first_text) == 0:
        first_text["text"] = prefill + str(first_text.get("text") or "")
        return blocks
    return [{"type": "text", "text": prefill}, *blocks]


def assistant_turn(
    message: Message, prefill: str | None, *, interrupted: bool
) -> MessageParam | None:
    """The assistant message to record for a reply, or ``None`` when there is nothing to keep."""
    blocks: list[dict[str, Any]] = []
    for block in message.get("content") or []:
        if is_blank_text(block):
            continue
        if interrupted and block.get("type") != "text":
            continue  # an unfinished tool call or thinking block cannot be sent back alone
        blocks.append(copy.deepcopy(block))
    if prefill:
        blocks = with_prefill(blocks, prefill)
    if not blocks:
        return None
    text = text_only(blocks)
    return {"role": "assistant", "content": text if text is not None else blocks}


def empty_message(model: str) -> Message:
    return {
        "id": "",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def has_tool_blocks(messages: Sequence[MessageParam]) -> bool:
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(b, Mapping) and b.get("type") in ("tool_use", "tool_result") for b in content
        ):
            return True
    return False


def content_markdown(content: Any) -> str:
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for block in content or []:
        btype = block.get("type")
        if btype == "text":
            pieces.append(str(block.get("text") or ""))
        elif btype == "image":
            source = block.get("source") or {}
            if source.get("type") == "url":
                pieces.append(f"*[image: {source.get('url')}]*")
            else:
                pieces.append(f"*[image: {source.get('media_type', 'image')}]*")
        elif btype == "document":
            title = block.get("title") or (block.get("source") or {}).get("media_type", "")
            pieces.append(f"*[document: {title}]*")
        elif btype == "thinking":
            pieces.append("*[thinking]*")
        elif btype == "tool_use":
            args = json.dumps(block.get("input"), ensure_ascii=False)
            pieces.append(f"*[tool call: {block.get('name')}({args})]*")
        elif btype == "tool_result":
            pieces.append("*[tool result]*")
        else:
            pieces.append(f"*[{btype}]*")
    return "\n\n".join(pieces)
