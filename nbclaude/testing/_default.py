"""The fake's deterministic default reply: what classrooms see offline.

A pure function of the request. It starts with a clear marker and describes what the fake
received (how many messages, the last user text, images with media type, pixel size and base64
size, documents, the system prompt, the model), so a notebook run offline shows that the
request was built right. Tools, structured outputs, thinking and prefill get replies of the
right shape, with a little reasoning (``_reasoning.py``): ``tool_choice`` ``auto`` calls a tool
only when the prompt names its subject, and a one-token multiple-choice prefill answers the
correct option when the fake can tell, else ``?``. With citations enabled the reply quotes the
documents (``_citations.py``). A ``max_tokens`` cut of the default reply ends at a word, with
its Markdown balanced (``tidy_cut``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ._citations import cited_blocks
from ._reasoning import multiple_choice, needs_tool
from ._request import ParsedRequest
from ._schema import example_for
from ._script import fake_signature
from ._wire import Draft

__all__ = ["MARKER", "default_draft"]

#: The first words of every default reply.
MARKER = "*(offline fake — no model was called)*"


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"“{text}”"


def _user_text(msg: Mapping[str, Any] | None) -> str:
    if not msg:
        return ""
    return " ".join(
        str(b.get("text", "")) for b in msg["content"] if b.get("type") == "text"
    ).strip()


def _last_user(parsed: ParsedRequest) -> Mapping[str, Any] | None:
    for msg in reversed(parsed.messages):
        if msg["role"] == "user":
            found: Mapping[str, Any] = msg
            return found
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _describe(parsed: ParsedRequest) -> str:
    lines = [
        MARKER,
        "",
        f"This reply comes from nbclaude's offline fake API. It received "
        f"{_plural(len(parsed.messages), 'message')} for model `{parsed.model}`.",
        "",
    ]
    last = _last_user(parsed)
    text = _user_text(last)
    if text:
        lines.append(f"- Last user message: {_quote(text)}")
    else:
        lines.append("- Last user message: (no text)")
    for k, ref in enumerate(parsed.images[:10], 1):
        if ref.source_type == "base64" and ref.info is not None:
            lines.append(
                f"- Image {k}: {ref.media_type}, {ref.info.width}×{ref.info.height} px, "  # noqa: RUF001
                f"{ref.base64_chars:,} base64 characters"
            )
        elif ref.source_type == "url":
            lines.append(f"- Image {k}: by URL {ref.url} (not fetched)")
        else:
            lines.append(f"- Image {k}: {ref.source_type} source")
    if len(parsed.images) > 10:
        lines.append(f"- … and {len(parsed.images) - 10} more images")
    for k, doc in enumerate(parsed.documents[:10], 1):
        title = f"{_quote(doc.title, 40)}, " if doc.title else ""
        if doc.source_type == "base64":
            size = f"{_plural(doc.pages, 'page')}, {doc.chars:,} base64 characters"
        elif doc.source_type in ("text", "content"):
            size = f"{doc.chars:,} characters" if doc.chars else "inline content"
        else:
            size = f"{doc.source_type} source"
        lines.append(f"- Document {k}: {title}{doc.media_type or doc.source_type}, {size}")
    if parsed.system:
        lines.append(f"- System prompt: {_quote(parsed.system)}")
    if parsed.tools:
        names = ", ".join(f"`{t.get('name')}`" for t in parsed.tools)
        lines.append(f"- Tools: {names} (none called: the message does not seem to need them)")
    lines += ["", "For real replies, set an API key and leave offline mode."]
    return "\n".join(lines)


def _continue_prefill(prefill: str, parsed: ParsedRequest) -> str:
    if prefill.endswith("("):
        letter = multiple_choice(_user_text(_last_user(parsed)))
        if letter is None:  # visibly not an answer (one token: "?")
            return f"?) {MARKER} The offline fake cannot tell which option is right."
        return f"{letter}) {MARKER}"
    if prefill.endswith("{"):
        return f' "offline": true, "note": {json.dumps(MARKER, ensure_ascii=False)}}}'
    if prefill.endswith("["):
        return f" {json.dumps(MARKER, ensure_ascii=False)}]"
    sep = "" if prefill[-1:].isspace() else " "
    return f"{sep}{MARKER} (continuing the prefill {_quote(prefill, 40)})"


def _tool_results_text(parsed: ParsedRequest) -> str | None:
    last = parsed.messages[-1]
    results = [b for b in last["content"] if b.get("type") == "tool_result"]
    if last["role"] != "user" or not results:
        return None
    names: dict[str, str] = {}
    if len(parsed.messages) > 1:
        for b in parsed.messages[-2]["content"]:
            if b.get("type") == "tool_use":
                names[str(b.get("id"))] = str(b.get("name"))
    lines = [MARKER, ""]
    for res in results:
        name = names.get(str(res.get("tool_use_id")), "the tool")
        content = res.get("content")
        if isinstance(content, list):
            content = (
                " ".join(str(c.get("text", "")) for c in content if isinstance(c, Mapping)).strip()
                or "(no text)"
            )
        verb = "reported an error" if res.get("is_error") else "returned"
        lines.append(f"The tool `{name}` {verb}: {_quote(str(content or '(nothing)'), 120)}")
    return "\n".join(lines)


def _pick_tool(parsed: ParsedRequest) -> Mapping[str, Any] | None:
    choice = parsed.tool_choice or {}
    if choice.get("type") == "none" or not parsed.tools:
        return None
    if choice.get("type") == "tool":
        for tool in parsed.tools:
            if tool.get("name") == choice.get("name"):
                return tool
    if choice.get("type") == "any":
        return next((t for t in parsed.tools if t.get("type") in (None, "custom")), None)
    asked = [_user_text(m) for m in reversed(parsed.messages) if m["role"] == "user"]
    return needs_tool(asked, parsed.tools)  # auto: only when the prompt needs it


def default_draft(parsed: ParsedRequest, new_tool_id: Callable[[], str]) -> Draft:
    """The default reply to a validated request (before ``max_tokens`` applies).

    ``new_tool_id`` makes the ``toolu_…`` id of a tool call (counter based).
    """
    blocks: list[dict[str, Any]] = []
    if parsed.body.get("compaction") is not None:  # beta: summarize, nothing sampled after
        summary = f"{MARKER} A summary of {_plural(len(parsed.messages), 'message')}."
        block = {"type": "compaction", "content": summary, "signature": fake_signature(summary)}
        return Draft(blocks=[block], stop_reason="compaction", tidy=True)
    if parsed.thinking is not None:
        omitted = parsed.thinking.get("display") == "omitted"
        thought = (
            ""
            if omitted
            else (
                "The offline fake does not think; this block stands in for Claude's reasoning "
                f"about {_quote(_user_text(_last_user(parsed)) or 'the request', 60)}."
            )
        )
        blocks.append(
            {"type": "thinking", "thinking": thought, "signature": fake_signature(thought)}
        )
    prefill = parsed.prefill
    after_tools = _tool_results_text(parsed)
    tool = None if after_tools or prefill else _pick_tool(parsed)
    if after_tools is not None:
        blocks.append({"type": "text", "text": after_tools})
    elif tool is not None:
        forced = (parsed.tool_choice or {}).get("type") in ("any", "tool")
        if not forced:
            blocks.append(
                {
                    "type": "text",
                    "text": f"{MARKER} Calling `{tool['name']}` with an example input.",
                }
            )
        schema = tool.get("input_schema") or {"type": "object"}
        value = example_for(schema)
        blocks.append(
            {
                "type": "tool_use",
                "id": new_tool_id(),
                "name": tool["name"],
                "input": value if isinstance(value, dict) else {},
                "caller": {"type": "direct"},
            }
        )
    elif parsed.output_schema is not None:
        blocks.append({"type": "text", "text": json.dumps(example_for(parsed.output_schema))})
    elif prefill:
        blocks.append({"type": "text", "text": _continue_prefill(prefill, parsed)})
    elif (cited := cited_blocks(parsed, f"{MARKER} Quoting what it received:\n\n")) is not None:
        blocks.extend(cited)
    else:
        blocks.append({"type": "text", "text": _describe(parsed)})
    return Draft(blocks=blocks, tidy=True)
