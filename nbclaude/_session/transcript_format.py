"""The machine-readable turns a saved notebook keeps: an output's ``metadata["nbclaude"]``.

Every ``%%claude`` final output carries its turn, and every ``ChatWidget`` keeps, in an output
of its own, its whole conversation so far (replaced as it goes), in this shape
(:class:`Transcript`)::

    {"version": 1, "kind": "cell" | "widget", "messages": [...], "model": "...",
     "session": "<Session.id>", "shared": true,            # the session %%claude uses?
     "index": 4, "recorded": true, "usage": {...},         # cells: where the turn sits
     "system": "..."}                                       # optional

:func:`transcript` builds it from messages; both the magic and the widget use it, so a
notebook holds one format. :func:`nbclaude._session.notebook.read_notebook` (and
``Session.from_notebook``) read it back.

A notebook is not the place for megabytes: base64 images are stored as thumbnails
(:data:`THUMB_EDGE` pixels on the long side, block key ``"nbclaude_thumbnail": true``) and
base64 documents over :data:`DOCUMENT_LIMIT` as a short text note (``"nbclaude_omitted"``);
the reader removes the marks and says how many came back that way. The API key is redacted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from nbclaude._types import MessageParam

__all__ = [
    "DOCUMENT_LIMIT",
    "KEY",
    "OMITTED",
    "THUMBNAIL",
    "THUMB_EDGE",
    "VERSION",
    "Transcript",
    "cell_transcript",
    "transcript",
]

#: The output metadata key.
KEY = "nbclaude"
VERSION = 1
#: Longest side of a stored image, in pixels.
THUMB_EDGE = 384
#: Base64 documents longer than this (characters) are not stored.
DOCUMENT_LIMIT = 200_000
#: Block keys that mark what was made smaller; the reader removes them.
THUMBNAIL = "nbclaude_thumbnail"
OMITTED = "nbclaude_omitted"


class _TranscriptBase(TypedDict):
    version: int
    kind: Literal["cell", "widget"]
    #: A cell: its turn (the user message, then the assistant's, tool rounds included).
    #: A widget: the whole conversation so far.
    messages: list[MessageParam]
    model: str
    #: ``Session.id`` of the session the turns belong to.
    session: str


class Transcript(_TranscriptBase, total=False):
    """``metadata["nbclaude"]`` of an output (see the module docstring)."""

    #: Whether the session is the shared one (``%%claude``'s); ``False`` is left out of a
    #: rebuilt conversation. Missing means ``True``.
    shared: bool
    #: A cell: where the turn's first message sits in the conversation.
    index: int
    #: A cell: ``False`` for ``--once`` (the turn is not part of the conversation).
    recorded: bool
    #: A cell: the turn's token usage.
    usage: dict[str, int]
    #: The session's system prompt, when it is text.
    system: str


def _thumbnail(block: Mapping[str, Any]) -> dict[str, Any]:
    from nbclaude._content.images import thumbnail

    made = thumbnail(block, max_edge=THUMB_EDGE)
    if made is None:
        return {"type": "text", "text": "[an image the notebook could not keep]", OMITTED: "image"}
    mime, data = made
    source = {"type": "base64", "media_type": mime, "data": base64.b64encode(data).decode()}
    out: dict[str, Any] = {"type": "image", "source": source, THUMBNAIL: True}
    return out


def _document_note(block: Mapping[str, Any]) -> dict[str, Any]:
    title = block.get("title") or (block.get("source") or {}).get("media_type") or "a document"
    text = f"[{title} was attached here; the notebook does not keep its contents]"
    return {"type": "text", "text": text, OMITTED: "document"}


def _compact_block(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return block
    kind = block.get("type")
    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "base64":
        if kind == "image":
            return _thumbnail(block)
        if kind == "document" and len(str(source.get("data") or "")) > DOCUMENT_LIMIT:
            return _document_note(block)
    if kind == "tool_result" and isinstance(block.get("content"), list):
        return {**block, "content": [_compact_block(b) for b in block["content"]]}
    return dict(block)


def compact(messages: Iterable[Mapping[str, Any]]) -> list[MessageParam]:
    """``messages`` as a notebook keeps them: images as thumbnails, big documents as a note.

    Examples
    --------
    >>> compact([{"role": "user", "content": "Hi"}])
    [{'role': 'user', 'content': 'Hi'}]
    """
    out: list[MessageParam] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = [_compact_block(b) for b in content]
        out.append({"role": message["role"], "content": content})  # type: ignore[typeddict-item]
    return out


def transcript(
    kind: Literal["cell", "widget"],
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str,
    session: str,
    shared: bool = True,
    index: int | None = None,
    recorded: bool = True,
    usage: Mapping[str, int] | None = None,
    system: Any = None,
    secrets: Iterable[str] = (),
) -> Transcript:
    """The ``metadata["nbclaude"]`` of an output holding ``messages``.

    Parameters
    ----------
    kind : "cell" or "widget"
        A ``%%claude`` turn, or a widget's whole conversation so far.
    messages : list of dict
        The turn's messages (a cell) or the conversation (a widget), as in the history.
    model, session : str
        The model that answered; ``Session.id``.
    shared : bool
        Whether the session is the shared one (``nbclaude.get_session()``).
    index, recorded, usage : optional
        A cell's place in the conversation, whether it is part of it, its token usage.
    system : str, optional
        The system prompt (kept when it is text).
    secrets : iterable of str
        Strings to redact (the API key).

    Examples
    --------
    >>> t = transcript("cell", [{"role": "user", "content": "Hi"},
    ...                         {"role": "assistant", "content": "Hello!"}],
    ...                model="claude-haiku-4-5", session="a1b2", index=0)
    >>> t["version"], t["kind"], len(t["messages"]), t["index"]
    (1, 'cell', 2, 0)
    """
    out: Transcript = {
        "version": VERSION,
        "kind": kind,
        "messages": compact(messages),
        "model": model,
        "session": session,
        "shared": shared,
    }
    if index is not None:
        out["index"] = index
    if kind == "cell":
        out["recorded"] = recorded
    if usage is not None:
        out["usage"] = {k: v for k, v in usage.items() if isinstance(v, int)}
    if isinstance(system, str) and system:
        out["system"] = system
    found = [s for s in secrets if s]
    if found:
        text = json.dumps(out, ensure_ascii=False)
        if any(s in text for s in found):
            for s in found:
                text = text.replace(s, "<redacted>")
            redacted: Transcript = json.loads(text)
            return redacted
    return out


def cell_transcript(
    session: Any,
    started: Mapping[str, Any],
    *,
    reply: Any = None,
    partial: str | None = None,
) -> Transcript | None:
    """The ``metadata["nbclaude"]`` of a ``%%claude`` output, from the session after the turn.

    ``started`` is the turn's ``turn_start`` event (its ``index`` and user ``message``). If
    the history holds that message at that index, the turn is what follows it (tool rounds
    included) and ``recorded``; otherwise (``--once``, a failed turn that was rolled back) it
    is the user message and what the reply said (``reply``, or the ``partial`` text that
    streamed before an error), not recorded. ``None`` before any turn started.

    Examples
    --------
    >>> from nbclaude import Session
    >>> s = Session(model="claude-haiku-4-5")
    >>> hi = {"role": "user", "content": "Hi"}
    >>> s.messages += [hi, {"role": "assistant", "content": "Hello!"}]
    >>> t = cell_transcript(s, {"type": "turn_start", "index": 0, "message": hi})
    >>> t["recorded"], [m["content"] for m in t["messages"]]
    (True, ['Hi', 'Hello!'])
    """
    from nbclaude._client.credentials import secrets

    user, index = started.get("message"), started.get("index")
    if not isinstance(user, Mapping) or not isinstance(index, int):
        return None
    history = session.history.snapshot()
    recorded = index < len(history) and history[index] is user
    if recorded:
        messages = history[index:]
    else:
        said = partial if reply is None else (reply.prefill or "") + reply.text
        messages = [user, *([{"role": "assistant", "content": said}] if said else [])]
    model = (getattr(reply, "model", None) or started.get("model") or session.model) or ""
    return transcript(
        "cell",
        messages,
        model=str(model),
        session=session.id,
        index=index,
        recorded=recorded,
        usage=getattr(reply, "usage", None),
        system=session.system,
        secrets=secrets(session.client),  # built: a turn ran on it
    )
