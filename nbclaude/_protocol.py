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
============  ==========================  ==================================================

Everything that happens travels as custom messages: the front end sends the ``FROM_VIEW``
kinds (images as binary buffers, never base64 in JSON), Python sends the ``TO_VIEW`` kinds.
Deltas carry only the text that is new since the previous delta, so the bytes sent grow
linearly with the reply.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, TypedDict

from ._exceptions import APIError, NbClaudeError

__all__ = [
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
    "MAX_UPLOAD_BYTES",
    "RETRY",
    "SEND",
    "STOP",
    "SYNC",
    "TO_VIEW",
    "TURN_END",
    "TURN_START",
    "UNDO",
    "Banner",
    "Block",
    "Entry",
    "Meta",
    "ModelChoice",
    "banner",
    "entry",
    "model_choices",
    "system_text",
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
#: ``{type}``: a new view asks for the reply streaming now (answered with :data:`LIVE`).
SYNC: Final = "sync"

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
}
TO_VIEW: Final[Mapping[str, str]] = {
    "TURN_START": TURN_START,
    "DELTA": DELTA,
    "TURN_END": TURN_END,
    "LIVE": LIVE,
    "ATTACHED": ATTACHED,
    "DRAFT": DRAFT,
}

#: Largest upload accepted from the browser, in bytes (the front end checks it too).
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
#: Image types the API accepts as they are (others are converted by ``nbclaude.image``).
IMAGE_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")

#: Longest side of the thumbnails shown in the transcript (shown at 160 CSS px; sharp on 2x).
THUMB_EDGE: Final = 320


class Block(TypedDict, total=False):
    """One displayable piece of a message.

    ``type`` is ``"text"`` / ``"thinking"`` (with ``text``), ``"image"`` (with ``src``, a
    ``data:image/...`` thumbnail made here, and ``width``/``height`` of the sent image) or
    ``"other"`` (with a ``label``: documents, tool calls, remote images by URL, ...).
    """

    type: Literal["text", "thinking", "image", "other"]
    text: str
    src: str
    width: int
    height: int
    label: str


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
        return {"type": "other", "label": f"tool call: {block.get('name', '?')}"}
    if kind and str(kind).endswith("tool_result"):
        return {"type": "other", "label": "tool result"}
    return {"type": "other", "label": str(kind or "block")}


def entry(message: Mapping[str, Any], meta: Meta | None = None) -> Entry:
    """A message of ``Session.messages`` as the transcript shows it.

    Examples
    --------
    >>> entry({"role": "user", "content": "Hi"})
    {'role': 'user', 'blocks': [{'type': 'text', 'text': 'Hi'}]}
    """
    role: Literal["user", "assistant"] = (
        "assistant" if message.get("role") == "assistant" else "user"
    )
    content = message.get("content")
    raw: Iterable[Any] = [content] if isinstance(content, str) else (content or [])
    blocks = [b for b in (_block(item) for item in raw) if b is not None]
    out: Entry = {"role": role, "blocks": blocks}
    if meta:
        out["meta"] = meta
    return out


def transcript(
    messages: Sequence[Mapping[str, Any]], metas: Mapping[int, Meta] | None = None
) -> list[Entry]:
    """All of ``Session.messages`` as transcript entries; ``metas`` is keyed by ``id(message)``.

    Examples
    --------
    >>> [e["role"] for e in transcript([{"role": "user", "content": "Hi"},
    ...                                 {"role": "assistant", "content": "Hello"}])]
    ['user', 'assistant']
    """
    metas = metas or {}
    return [entry(m, metas.get(id(m))) for m in messages]


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
