"""The ChatWidget protocol, Python side (the front end's copy is ``js/protocol.js``).

Durable state lives in traits, owned by Python (the front end writes only the settings):

============  ==========================  ==================================================
trait         type                        what
============  ==========================  ==================================================
transcript    list of :class:`Entry`      every message of the session, ready to show
busy          bool                        a turn is streaming (widget, ``%%claude`` or code)
usage         dict                        token totals over the session
cost          float or None               USD so far; ``None`` when a price is unknown
models        list of :class:`ModelChoice`  for the settings panel
model         str                         the session's settings (two-way)
system        str
max_tokens    int
error         :class:`Banner` or None     the error banner
tool_names    list of str                 the names of ``session.tools``
use_tools     bool                        widget turns may use the tools (two-way)
approval      :class:`Approval` or None   the tool call waiting for "Run tool" / "Deny tool"
============  ==========================  ==================================================

Everything that happens travels as custom messages: the front end sends the ``FROM_VIEW``
kinds (images as binary buffers, never base64 in JSON), Python sends the ``TO_VIEW`` kinds.
Deltas carry only the text that is new since the previous delta, so the bytes sent grow
linearly with the reply.

Tool calls are shown from the history: each ``tool_use`` block becomes a ``"tool"``
:class:`Block` carrying its paired ``tool_result`` (status, result text, thumbnails), and the
user messages that only carry tool results disappear, so one reply with its tool rounds reads
as one message. While a turn runs, results not yet recorded come from ``tool_result`` events.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, TypedDict

from ._exceptions import APIError, NbClaudeError

__all__ = [
    "APPROVE",
    "ATTACH",
    "ATTACHED",
    "CLEAR",
    "DELTA",
    "DETACH",
    "DISMISS",
    "DRAFT",
    "FROM_VIEW",
    "IMAGE_TYPES",
    "LIVE",
    "MAX_TOOL_TEXT",
    "MAX_UPLOAD_BYTES",
    "RETRY",
    "SEND",
    "STEP",
    "STOP",
    "SYNC",
    "TO_VIEW",
    "TURN_END",
    "TURN_START",
    "UNDO",
    "Approval",
    "Banner",
    "Block",
    "Entry",
    "Meta",
    "ModelChoice",
    "ToolStatus",
    "approval",
    "banner",
    "entry",
    "json_text",
    "model_choices",
    "system_text",
    "tool_status",
    "transcript",
]

# -- front end -> Python ----------------------------------------------------------------------
#: ``{type, text, attachments: [id, ...]}``: start a turn with the text and attached images.
SEND: Final = "send"
#: ``{type}``: stop the turn that is streaming now.
STOP: Final = "stop"
#: ``{type}``: send the turn that failed again.
RETRY: Final = "retry"
#: ``{type}``: hide the error banner.
DISMISS: Final = "dismiss"
#: ``{type}``: forget the conversation (``Session.reset``).
CLEAR: Final = "clear"
#: ``{type}``: drop the last exchange (``Session.undo``).
UNDO: Final = "undo"
#: ``{type, id, name, media_type, size}`` plus one binary buffer: an image to attach.
ATTACH: Final = "attach"
#: ``{type, id}``: forget a pending attachment.
DETACH: Final = "detach"
#: ``{type}``: a new view (or an opened settings panel) asks for fresh state: the reply
#: streaming now (answered with :data:`LIVE`) and the names of ``session.tools``.
SYNC: Final = "sync"
#: ``{type, id, allow, always?}``: the answer to the ``approval`` trait: run the tool call
#: ``id`` (``allow``) or not; ``always`` runs this tool without asking for the rest of the chat.
APPROVE: Final = "approve"

# -- Python -> front end ----------------------------------------------------------------------
#: ``{type, index, model, prefill}``: an assistant reply starts.
TURN_START: Final = "turn_start"
#: ``{type, text?, thinking?}``: the text that is new since the last delta (coalesced).
DELTA: Final = "delta"
#: ``{type, interrupted}``: the reply ended; the transcript trait holds it now.
TURN_END: Final = "turn_end"
#: ``{type, index, model, prefill, text, thinking}``: the whole live reply so far.
LIVE: Final = "live"
#: ``{type, id, ok, error?}``: the answer to :data:`ATTACH`.
ATTACHED: Final = "attached"
#: ``{type, text}``: put this text back into the composer (a send was refused).
DRAFT: Final = "draft"
#: ``{type}``: the live reply so far is in the transcript now (a tool round was recorded);
#: the next step of the reply streams into an empty live reply.
STEP: Final = "step"

#: The same tables as ``FROM_VIEW`` / ``TO_VIEW`` in ``js/protocol.js``.
FROM_VIEW: Final[Mapping[str, str]] = {
    "SEND": SEND,
    "STOP": STOP,
    "RETRY": RETRY,
    "DISMISS": DISMISS,
    "CLEAR": CLEAR,
    "UNDO": UNDO,
    "ATTACH": ATTACH,
    "DETACH": DETACH,
    "SYNC": SYNC,
    "APPROVE": APPROVE,
}
TO_VIEW: Final[Mapping[str, str]] = {
    "TURN_START": TURN_START,
    "DELTA": DELTA,
    "TURN_END": TURN_END,
    "LIVE": LIVE,
    "ATTACHED": ATTACHED,
    "DRAFT": DRAFT,
    "STEP": STEP,
}

#: Largest upload accepted from the browser, in bytes (the front end checks it too).
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
#: Image types the API accepts as they are (others are converted by ``nbclaude.image``).
IMAGE_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")

#: Longest side of the thumbnails shown in the transcript (shown at 160 CSS px; sharp on 2x).
THUMB_EDGE: Final = 320
#: Most characters of a tool's input JSON or result text kept for display (the model gets
#: everything; the widget shows a collapsed preview).
MAX_TOOL_TEXT: Final = 4000

ToolStatus = Literal["running", "done", "failed", "declined", "not run"]


class Block(TypedDict, total=False):
    """One displayable piece of a message.

    ``type`` is ``"text"`` / ``"thinking"`` (with ``text``), ``"image"`` (with ``src``, a
    ``data:image/...`` thumbnail made here, and ``width``/``height`` of the sent image),
    ``"tool"`` (a tool call: ``id``, ``name``, ``input`` as JSON text, ``status``, and once it
    ran ``result`` text plus ``images``, thumbnails of pictures it returned) or ``"other"``
    (with a ``label``: documents, remote images by URL, ...). All text is shown as text.
    """

    type: Literal["text", "thinking", "image", "tool", "other"]
    text: str
    src: str
    width: int
    height: int
    label: str
    id: str
    name: str
    input: str
    status: ToolStatus
    result: str
    images: list[Block]


class Meta(TypedDict, total=False):
    """What is known about an assistant reply beyond its content."""

    model: str
    stop_reason: str | None
    interrupted: bool
    output_tokens: int
    cost: float | None


class _EntryBase(TypedDict):
    role: Literal["user", "assistant"]
    blocks: list[Block]


class Entry(_EntryBase, total=False):
    """One message of the transcript trait."""

    meta: Meta


class Approval(TypedDict):
    """The ``approval`` trait: a tool call waiting for "Run tool" / "Deny tool"."""

    id: str
    name: str
    input: str


class ModelChoice(TypedDict, total=False):
    """One option of the model list."""

    id: str
    display_name: str


class Banner(TypedDict, total=False):
    """The error banner (``error`` trait)."""

    message: str
    hint: str
    kind: str
    request_id: str | None
    retry: bool


def _thumbnail(block: Mapping[str, Any]) -> Block:
    from ._images import image_info, thumbnail

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


def _clip(text: str, limit: int = MAX_TOOL_TEXT) -> str:
    if len(text) <= limit:
        return text
    more = len(text) - limit
    return f"{text[:limit]}\n\u2026 ({more:,} more {'character' if more == 1 else 'characters'})"


def json_text(value: Any, limit: int = MAX_TOOL_TEXT) -> str:
    """``value`` as indented JSON text for display, cut at ``limit`` characters.

    Examples
    --------
    >>> print(json_text({"city": "<b>Paris</b>"}))
    {
      "city": "<b>Paris</b>"
    }
    """
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return _clip(text, limit)


#: What ``run_tool_call`` answers for a declined call (``nbclaude._tool_run._DECLINED``;
#: tests/test_protocol.py checks they agree). Matched for results loaded from a saved
#: session, whose ``ToolResult`` attributes are gone.
_DECLINED = "The user declined to run this tool."


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
        result.get("is_error") and _result_text(content) == _DECLINED
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
        call["result"] = _clip(content)
        return
    items = [content] if isinstance(content, Mapping) else list(content or [])
    images: list[Block] = []
    lines = [line for line in (_result_part(i, images) for i in items) if line is not None]
    call["result"] = _clip("\n".join(lines))
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
    metas: Mapping[int, Meta] | None = None,
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
        meta = metas.get(id(message))
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
    for call in calls.values():
        if "status" not in call:
            found = results.get(call["id"])
            if found is not None:
                _fill(call, found)
            else:
                call["status"] = "running" if running else "not run"
    return out


def approval(call_id: str, name: str, arguments: Any) -> Approval:
    """The ``approval`` trait for a tool call: its id, name and input as JSON text.

    Examples
    --------
    >>> a = approval("toolu_1", "add", {"a": 1})
    >>> a["id"], a["name"], a["input"].splitlines()
    ('toolu_1', 'add', ['{', '  "a": 1', '}'])
    """
    return {"id": call_id, "name": name, "input": json_text(arguments)}


def banner(error: BaseException, *, retry: bool) -> Banner:
    """The error banner for an exception: its message, what to do next, the request id.

    Examples
    --------
    >>> from nbclaude import RateLimitError
    >>> b = banner(RateLimitError("slow down", status_code=429, type="rate_limit_error",
    ...                           request_id="req_1"), retry=True)
    >>> b["message"], b["request_id"], b["retry"]
    ('429 rate_limit_error: slow down', 'req_1', True)
    """
    if isinstance(error, NbClaudeError):
        message = error.message
        status = getattr(error, "status_code", None)
        err_type = getattr(error, "type", None)
        if isinstance(status, int):
            message = f"{status} {err_type}: {message}" if err_type else f"{status}: {message}"
        out: Banner = {"message": message, "hint": error.hint, "kind": type(error).__name__}
        if isinstance(error, APIError) and error.request_id:
            out["request_id"] = error.request_id
    else:
        # A bug on our side: say so plainly (the traceback is in the kernel log).
        out = {
            "message": f"{type(error).__name__}: {error}",
            "hint": "This is a bug in nbclaude; the full traceback is in the kernel log.",
            "kind": type(error).__name__,
        }
    out["retry"] = retry
    return out


def model_choices(models: Iterable[Any]) -> list[ModelChoice]:
    """The model list for the settings panel from ``GET /v1/models`` data or plain ids.

    Examples
    --------
    >>> model_choices([{"id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5"}, "x"])
    [{'id': 'claude-haiku-4-5', 'display_name': 'Claude Haiku 4.5'}, {'id': 'x'}]
    """
    out: list[ModelChoice] = []
    seen: set[str] = set()
    for model in models:
        if isinstance(model, str):
            choice: ModelChoice = {"id": model}
        elif isinstance(model, Mapping) and isinstance(model.get("id"), str):
            choice = {"id": model["id"]}
            if isinstance(model.get("display_name"), str):
                choice["display_name"] = model["display_name"]
        else:
            continue
        if choice["id"] not in seen:
            seen.add(choice["id"])
            out.append(choice)
    return out


def system_text(system: str | Sequence[Mapping[str, Any]] | None) -> str:
    """The system prompt as one string (text blocks joined), for the settings panel.

    Examples
    --------
    >>> system_text([{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}])
    'Be brief.\\n\\nBe kind.'
    """
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    return "\n\n".join(str(b.get("text") or "") for b in system if isinstance(b, Mapping))
