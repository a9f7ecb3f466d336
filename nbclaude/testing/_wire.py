"""From a reply (content blocks) to the wire: a Message dict, or the SSE events of a stream.

A :class:`Draft` is what the model "says", before the request's limits apply; :func:`finish`
applies ``max_tokens`` and ``stop_sequences`` and computes ``usage``; :func:`stream_events`
turns the finished Message into the real event sequence (docs/api.md §4.2), with pauses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._request import ParsedRequest
from ._script import (
    Message,
    RedactedThinking,
    Reply,
    ReplyItem,
    Text,
    Thinking,
    ToolUse,
    fake_signature,
)
from ._tokens import count_tokens, tidy_cut, truncate_tokens

__all__ = [
    "Draft",
    "Finished",
    "Pause",
    "draft_from_item",
    "encode_event",
    "finish",
    "stream_events",
]

_WORDISH = re.compile(r"\s*\S+|\s+")
_JSON_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


class Pause(float):
    """Seconds to wait between two events of a stream."""


@dataclass
class Draft:
    """A reply before the request's limits apply."""

    blocks: list[dict[str, Any]]
    stop_reason: str | None = None
    stop_details: Mapping[str, Any] | None = None
    model: str | None = None
    usage: Mapping[str, Any] | None = None
    chunk_size: int | None = None
    pause: float = 0.0
    latency: float = 0.0
    headers: Mapping[str, str] | None = None
    verbatim: Mapping[str, Any] | None = None  # a whole Message, sent as given
    tidy: bool = False  # a max_tokens cut ends at a word, with balanced Markdown (default reply)


def _text_block(item: Text) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": item.text}
    if item.citations is not None:
        block["citations"] = [dict(c) for c in item.citations]
    return block


def _blocks_of(item: Any, new_tool_id: Callable[[], str]) -> list[dict[str, Any]]:
    if isinstance(item, Text):
        return [_text_block(item)]
    if isinstance(item, ToolUse):
        out: list[dict[str, Any]] = []
        if item.text:
            out.append({"type": "text", "text": item.text})
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": item.id or new_tool_id(),
            "name": item.name,
            "input": dict(item.input),
        }
        if item.caller is not None:
            block["caller"] = dict(item.caller)
        out.append(block)
        return out
    if isinstance(item, Thinking):
        sig = item.signature if item.signature is not None else fake_signature(item.thinking)
        out = [{"type": "thinking", "thinking": item.thinking, "signature": sig}]
        if item.text is not None:
            out.append({"type": "text", "text": item.text})
        return out
    if isinstance(item, RedactedThinking):
        out = [{"type": "redacted_thinking", "data": item.data}]
        if item.text is not None:
            out.append({"type": "text", "text": item.text})
        return out
    if isinstance(item, Mapping):
        return [json.loads(json.dumps(item))]  # a deep copy that must be JSON
    raise TypeError(f"not a content block: {item!r}")


def draft_from_item(item: ReplyItem, new_tool_id: Callable[[], str]) -> Draft:
    """The draft of a reply script item."""
    common: dict[str, Any] = {
        "model": item.model,
        "usage": item.usage,
        "chunk_size": item.chunk_size,
        "pause": item.pause,
        "latency": item.latency,
        "headers": item.headers,
    }
    if isinstance(item, Message):
        return Draft(blocks=[], verbatim=item.message, **common)
    if isinstance(item, Reply):
        blocks = [b for part in item.blocks for b in _blocks_of(part, new_tool_id)]
        return Draft(
            blocks=blocks, stop_reason=item.stop_reason, stop_details=item.stop_details, **common
        )
    stop = item.stop_reason
    return Draft(blocks=_blocks_of(item, new_tool_id), stop_reason=stop, **common)


@dataclass
class Finished:
    """A finished Message, plus what a stream of it needs to know."""

    message: dict[str, Any]
    open_block: int | None = None  # a tool_use cut by max_tokens: no content_block_stop
    partial_json: str = ""
    chunk_size: int | None = None
    pause: float = 0.0
    extra_delta: dict[str, Any] = field(default_factory=dict)


def _usage(parsed: ParsedRequest, output_tokens: int) -> dict[str, Any]:
    """The usage of a reply: the prompt split into uncached, written and read parts (the
    prompt cache sets those on ``parsed``; ``_caching.py``)."""
    read, w5, w1h = parsed.cache_read, parsed.cache_write_5m, parsed.cache_write_1h
    return {
        "input_tokens": max(0, parsed.input_tokens - read - w5 - w1h),
        "cache_creation_input_tokens": w5 + w1h,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1h},
        "output_tokens": output_tokens,
        "service_tier": "standard",
        "inference_geo": "not_available",
    }


def _block_tokens(block: Mapping[str, Any]) -> int:
    kind = block.get("type")
    if kind == "text":
        return count_tokens(str(block.get("text", "")))
    if kind == "thinking":
        return count_tokens(str(block.get("thinking", "")))
    if kind == "redacted_thinking":
        return max(1, len(str(block.get("data", ""))) // 4)
    if kind in _JSON_BLOCKS:
        return count_tokens(json.dumps(block.get("input", {})))
    return 0


def finish(draft: Draft, parsed: ParsedRequest, message_id: str) -> Finished:
    """Apply ``max_tokens`` and ``stop_sequences``, compute ``usage``: the final Message."""
    model = draft.model or parsed.entry.id
    if draft.verbatim is not None:
        msg = json.loads(json.dumps(draft.verbatim))
        content = msg.get("content") or []
        out_tokens = sum(_block_tokens(b) for b in content if isinstance(b, Mapping))
        whole: dict[str, Any] = {
            "model": msg.pop("model", model),
            "id": msg.pop("id", message_id),
            "type": msg.pop("type", "message"),
            "role": msg.pop("role", "assistant"),
            "content": msg.pop("content", []),
            "stop_reason": msg.pop("stop_reason", "end_turn"),
            "stop_sequence": msg.pop("stop_sequence", None),
            "usage": msg.pop("usage", None) or _usage(parsed, max(out_tokens, 1)),
            **msg,
        }
        if draft.usage:
            whole["usage"] = {**whole["usage"], **draft.usage}
        return Finished(message=whole, chunk_size=draft.chunk_size, pause=draft.pause)

    budget = parsed.max_tokens
    used = 0
    out: list[dict[str, Any]] = []
    has_tool = any(b.get("type") == "tool_use" for b in draft.blocks)
    stop_reason = draft.stop_reason or ("tool_use" if has_tool else "end_turn")
    stop_sequence: str | None = None
    open_block: int | None = None
    partial_json = ""
    for block in draft.blocks:
        block = dict(block)
        kind = block.get("type")
        left = budget - used
        if kind == "text":
            text = str(block.get("text", ""))
            hit: str | None = None
            if parsed.stop_sequences:
                found = [(text.find(s), s) for s in parsed.stop_sequences if s and s in text]
                if found:
                    pos, hit = min(found)
                    text = text[:pos]
            n = count_tokens(text)
            if n > left:
                whole_text = text
                text, _ = truncate_tokens(text, left)
                if draft.tidy:
                    text = tidy_cut(text, whole_text)
                if text:
                    block["text"] = text
                    out.append(block)
                used = budget
                stop_reason = "max_tokens"
                break
            block["text"] = text
            out.append(block)
            used += n
            if hit is not None:
                stop_reason, stop_sequence = "stop_sequence", hit
                break
            continue
        n = _block_tokens(block)
        if n > left:
            stop_reason = "max_tokens"
            if kind == "thinking" and left > 0:
                block["thinking"], _ = truncate_tokens(str(block["thinking"]), left)
                out.append(block)
            elif kind in _JSON_BLOCKS and left > 0:
                partial_json, _ = truncate_tokens(json.dumps(block.get("input", {})), left)
                block["input"] = {}
                open_block = len(out)
                out.append(block)
            used = budget
            break
        out.append(block)
        used += n
    output_tokens = max(used, 1) if budget > 0 else 0
    usage = _usage(parsed, output_tokens)
    if draft.usage:
        usage.update(draft.usage)
    message: dict[str, Any] = {
        "model": model,
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "content": out,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
    }
    if draft.stop_details is not None:
        message["stop_details"] = dict(draft.stop_details)
    message["usage"] = usage
    return Finished(
        message=message,
        open_block=open_block,
        partial_json=partial_json,
        chunk_size=draft.chunk_size,
        pause=draft.pause,
    )


def _pieces(text: str, chunk_size: int | None) -> list[str]:
    if not text:
        return []
    if chunk_size:
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    return _WORDISH.findall(text)


def stream_events(done: Finished) -> list[dict[str, Any] | Pause]:
    """The SSE events of a finished Message, with :class:`Pause` items between deltas."""
    msg = done.message
    usage = dict(msg.get("usage") or {})
    start_usage = dict(usage)
    if "output_tokens" in start_usage:
        start_usage["output_tokens"] = min(int(usage.get("output_tokens") or 0), 1)
    start: dict[str, Any] = {}
    for key, value in msg.items():
        if key == "content":
            start[key] = []
        elif key in ("stop_reason", "stop_sequence", "stop_details"):
            start[key] = None
        elif key == "usage":
            start[key] = start_usage
        else:
            start[key] = value
    events: list[dict[str, Any] | Pause] = [{"type": "message_start", "message": start}]
    pause = Pause(done.pause) if done.pause > 0 else None
    n_deltas = 0

    def delta(index: int, d: dict[str, Any]) -> None:
        nonlocal n_deltas
        if pause is not None and n_deltas:
            events.append(pause)
        events.append({"type": "content_block_delta", "index": index, "delta": d})
        n_deltas += 1

    blocks = msg.get("content") or []
    if not blocks:
        events.append({"type": "ping"})
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "text":
            head: dict[str, Any] = {"type": "text", "text": ""}
            if "citations" in block and block["citations"] is not None:
                head["citations"] = []
        elif kind == "thinking":
            head = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind in _JSON_BLOCKS:
            head = {**block, "input": {}}
        else:
            head = block
        events.append({"type": "content_block_start", "index": i, "content_block": head})
        if i == 0:
            events.append({"type": "ping"})
        if kind == "text":
            for piece in _pieces(str(block.get("text", "")), done.chunk_size):
                delta(i, {"type": "text_delta", "text": piece})
            for citation in block.get("citations") or []:
                delta(i, {"type": "citations_delta", "citation": citation})
        elif kind == "thinking":
            for piece in _pieces(str(block.get("thinking", "")), done.chunk_size):
                delta(i, {"type": "thinking_delta", "thinking": piece})
            delta(i, {"type": "signature_delta", "signature": block.get("signature", "")})
        elif kind in _JSON_BLOCKS:
            partial = done.partial_json if i == done.open_block else json.dumps(block["input"])
            delta(i, {"type": "input_json_delta", "partial_json": ""})
            for piece in _pieces(partial, done.chunk_size):
                delta(i, {"type": "input_json_delta", "partial_json": piece})
        if i != done.open_block:
            events.append({"type": "content_block_stop", "index": i})
    end: dict[str, Any] = {
        "stop_reason": msg.get("stop_reason"),
        "stop_sequence": msg.get("stop_sequence"),
    }
    for key in ("stop_details", "container"):
        if key in msg:
            end[key] = msg[key]
    delta_usage = {
        k: v
        for k, v in usage.items()
        if k not in ("cache_creation", "service_tier", "inference_geo")
    }
    events.append({"type": "message_delta", "delta": end, "usage": delta_usage})
    events.append({"type": "message_stop"})
    return events


_PING = b'event: ping\ndata: {"type": "ping"}\n\n'


def encode_event(event: Mapping[str, Any]) -> bytes:
    """One SSE event: ``event: <type>`` + ``data: <json>`` + a blank line.

    Examples
    --------
    >>> encode_event({"type": "message_stop"})
    b'event: message_stop\\ndata: {"type":"message_stop"}\\n\\n'
    """
    kind = event["type"]
    if kind == "ping" and len(event) == 1:
        return _PING  # the real API's ping uses another serializer (docs/api.md §4.1)
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {kind}\ndata: {data}\n\n".encode()
