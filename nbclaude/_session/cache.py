"""Prompt caching: ``cache_control`` breakpoints for ``Session(cache=True)``.

The API caches the start of a request up to each marked block; at most 4 marks are allowed
(docs/api.md §2.2). nbclaude marks the system prompt, the last tool and the last two user
turns, counting any marks the user placed, and works on copies (the history never changes).
"""

from __future__ import annotations

from typing import Any

from nbclaude._api.limits import MAX_CACHE_BREAKPOINTS

__all__ = ["add_cache_breakpoints"]

_EPHEMERAL = {"type": "ephemeral"}


def _count_breakpoints(value: Any) -> int:
    if isinstance(value, dict):
        return ("cache_control" in value) + sum(_count_breakpoints(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_breakpoints(v) for v in value)
    return 0


def _mark_last(content: Any) -> list[dict[str, Any]] | None:
    """A copy of ``content`` as blocks with ``cache_control`` on the last one (``None`` when
    it cannot carry one)."""
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(blocks, list) or not blocks or not isinstance(blocks[-1], dict):
        return None
    if blocks[-1].get("type") in ("thinking", "redacted_thinking"):
        return None
    return [*blocks[:-1], {**blocks[-1], "cache_control": dict(_EPHEMERAL)}]


def _has_mark(content: Any) -> bool:
    return isinstance(content, list) and bool(content) and "cache_control" in content[-1]


def add_cache_breakpoints(body: dict[str, Any]) -> None:
    """Put ``cache_control`` on the system prompt, the last tool and the last two user turns,
    keeping the total (with any the user placed) at most 4. Works on copies: the history is
    never changed."""
    budget = MAX_CACHE_BREAKPOINTS - _count_breakpoints(body)
    system = body.get("system")
    if budget > 0 and system and not _has_mark(system):
        marked = _mark_last(system)
        if marked is not None:
            body["system"] = marked
            budget -= 1
    tools = body.get("tools")
    if budget > 0 and isinstance(tools, list) and tools and not _has_mark(tools):
        body["tools"] = [*tools[:-1], {**tools[-1], "cache_control": dict(_EPHEMERAL)}]
        budget -= 1
    messages = list(body["messages"])
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    for i in reversed(users[-2:]):
        content = messages[i].get("content")
        if budget <= 0:
            break
        if _has_mark(content):
            continue
        marked = _mark_last(content)
        if marked is not None:
            messages[i] = {"role": "user", "content": marked}
            budget -= 1
    body["messages"] = messages
