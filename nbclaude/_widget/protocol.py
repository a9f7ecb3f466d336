"""The ChatWidget protocol, Python side (the front end's copy is ``js/protocol.js``).

Durable state lives in traits, owned by Python (the front end writes only the settings):

============  ==========================  ==================================================
trait         type                        what
============  ==========================  ==================================================
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
budget        float or None               the session's budget in USD (``None``: none set)
shared        bool                        the session is the shared one (``%%claude`` uses it)
saved_id      str                         names the saved copy of the conversation (an output
                                          beside the widget, :mod:`nbclaude._widget.saved`),
                                          which the views hide while they show the widget
============  ==========================  ==================================================

Everything that happens travels as custom messages: the front end sends the ``FROM_VIEW``
kinds (images as binary buffers, never base64 in JSON), Python sends the ``TO_VIEW`` kinds.
Deltas carry only the text that is new since the previous delta, so the bytes sent grow
linearly with the reply.

The transcript (every message of the session, as a list of :class:`Entry`) is not a synced
trait: a trait goes whole at every change, and a turn on a long chat would re-send all of it.
A view asks for it once (``sync`` with ``transcript``) and gets it as one :data:`ENTRIES`
message; every change after that is an :data:`ENTRIES` message holding only the entries from
the first one that changed (:mod:`nbclaude._widget.feed`).

How ``Session.messages`` become transcript entries (tool calls paired with their
results, thumbnails) is :mod:`nbclaude._widget.transcript`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, TypedDict

from nbclaude._api.fields import IMAGE_MEDIA_TYPES
from nbclaude._exceptions import APIError, NbClaudeError

__all__ = [
    "APPROVE",
    "ATTACH",
    "ATTACHED",
    "CLEAR",
    "DELTA",
    "DETACH",
    "DISMISS",
    "DRAFT",
    "ENTRIES",
    "FROM_VIEW",
    "IMAGE_TYPES",
    "LIVE",
    "MAX_TOOL_TEXT",
    "MAX_UPLOAD_BYTES",
    "RETRY",
    "RETRY_WAIT",
    "SEND",
    "STEP",
    "STOP",
    "SYNC",
    "THUMB_EDGE",
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
    "clip_text",
    "json_text",
    "model_choices",
    "system_text",
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
#: ``{type, transcript?}``: a new view (or an opened settings panel) asks for fresh state: the
#: reply streaming now (answered with :data:`LIVE`) and the names of ``session.tools``; with
#: ``transcript`` (a new view) also the whole transcript (one :data:`ENTRIES` from 0).
SYNC: Final = "sync"
#: ``{type, id, allow, always?}``: the answer to the ``approval`` trait: run the tool call
#: ``id`` (``allow``) or not; ``always`` runs this tool without asking for the rest of the chat.
APPROVE: Final = "approve"

# -- Python -> front end ----------------------------------------------------------------------
#: ``{type, index, model, prefill}``: an assistant reply starts.
TURN_START: Final = "turn_start"
#: ``{type, text?, thinking?}``: the text that is new since the last delta (coalesced).
DELTA: Final = "delta"
#: ``{type, interrupted}``: the reply ended; the transcript holds it now.
TURN_END: Final = "turn_end"
#: ``{type, index, model, prefill, text, thinking, step?}``: the whole live reply so far
#: (``step``: after a tool round; nothing to show until new text comes).
LIVE: Final = "live"
#: ``{type, id, ok, error?}``: the answer to :data:`ATTACH`.
ATTACHED: Final = "attached"
#: ``{type, text}``: put this text back into the composer (a send was refused).
DRAFT: Final = "draft"
#: ``{type}``: the live reply so far is in the transcript now (a tool round was recorded);
#: the next step of the reply streams into an empty live reply.
STEP: Final = "step"
#: ``{type, seq, start, entries}``: from entry ``start`` on, the transcript is ``entries``
#: (``start`` 0: all of it). ``seq`` counts the changes: a view that sees a gap asks again.
ENTRIES: Final = "entries"
#: ``{type, status, reason, attempt, attempts, wait}``: the request failed and is tried again in
#: ``wait`` seconds (attempt ``attempt`` of ``attempts``); the view counts down. From the
#: session's ``retry`` event.
RETRY_WAIT: Final = "retry_wait"

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
    "ENTRIES": ENTRIES,
    "RETRY_WAIT": RETRY_WAIT,
}

#: Largest upload accepted from the browser, in bytes (the front end checks it too).
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
#: Image types the API accepts as they are (others are converted by ``nbclaude.image``).
IMAGE_TYPES: Final = IMAGE_MEDIA_TYPES

#: Longest side of the thumbnails shown in the transcript (shown at 160 CSS px; sharp on 2x).
THUMB_EDGE: Final = 320
#: Most characters of a tool's input JSON or result text kept for display (the model gets
#: everything; the widget shows a collapsed preview).
MAX_TOOL_TEXT: Final = 4000

ToolStatus = Literal["running", "done", "failed", "declined", "not run"]


class Block(TypedDict, total=False):
    """One displayable piece of a message.

    ``type`` is ``"text"`` / ``"thinking"`` (with ``text``), ``"image"`` (with ``src``, a
    ``data:image/...`` thumbnail made in Python, and ``width``/``height`` of the sent image),
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
    """What is known about an assistant reply beyond its content. ``estimated``: the reply
    was stopped before the API said how many tokens it had, so ``output_tokens`` is an
    estimate (about four characters a token)."""

    model: str
    stop_reason: str | None
    interrupted: bool
    output_tokens: int
    estimated: bool
    cost: float | None


class _EntryBase(TypedDict):
    role: Literal["user", "assistant"]
    blocks: list[Block]


class Entry(_EntryBase, total=False):
    """One message of the transcript."""

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


def clip_text(text: str, limit: int = MAX_TOOL_TEXT) -> str:
    """``text`` cut at ``limit`` characters for display, saying how much was left out.

    Examples
    --------
    >>> print(clip_text("abcdef", 4))
    abcd
    \u2026 (2 more characters)
    """
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
    return clip_text(text, limit)


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
