"""A script item -> the :class:`Plan` that answers one ``POST /v1/messages``.

Replies (and, with an empty script, the default reply) become a JSON message or an SSE stream;
replays (:class:`SSE`, :class:`RawResponse`) and failures (:class:`HTTPError`,
:class:`StreamErrorEvent`, :class:`Cut`, :class:`Delay`) become what they describe. Ids come
from the fake's counters through ``next_id`` (``next_id("msg")`` -> ``"msg_01Fake..."``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._default import default_draft
from ._plans import (
    CUT,
    STATUS_OF_ERROR,
    Part,
    Plan,
    chunks,
    error_plan,
    http_error_plan,
    json_bytes,
    json_plan,
    raw_plan,
    stream_plan,
)
from ._replies import Message, RedactedThinking, Reply, Thinking, ToolUse
from ._request import ParsedRequest
from ._script import (
    SSE,
    Cut,
    Delay,
    HTTPError,
    RawResponse,
    ReplyItem,
    ScriptItem,
    StreamErrorEvent,
    Text,
)
from ._wire import Draft, Pause, draft_from_item, encode_event, finish, stream_events

__all__ = ["NextId", "OnMessage", "draft_for", "is_reply", "plan_for"]

#: Makes the next id with a prefix: ``"msg"``, ``"toolu"``.
NextId = Callable[[str], str]
#: Told the whole Message a reply item answers with (before it is sent).
OnMessage = Callable[[dict[str, Any]], None]


def is_reply(item: ScriptItem | None) -> bool:
    """Whether ``item`` answers with a whole reply (the default reply included): only those
    read and write the prompt cache."""
    while isinstance(item, Delay):
        item = item.reply
    return item is None or isinstance(
        item, (Text, ToolUse, Thinking, RedactedThinking, Reply, Message)
    )


def draft_for(item: ReplyItem | None, parsed: ParsedRequest, next_id: NextId) -> Draft:
    """The reply a script item (or, for ``None``, the default reply) makes to ``parsed``."""

    def tool_id() -> str:
        return next_id("toolu")

    if item is None:
        return default_draft(parsed, tool_id)
    return draft_from_item(item, tool_id)


def plan_for(
    item: ScriptItem | None,
    parsed: ParsedRequest,
    request_id: str,
    next_id: NextId,
    on_message: OnMessage | None = None,
) -> Plan:
    """How to answer ``POST /v1/messages`` with ``item`` (``None``: the default reply).

    ``on_message`` is told the finished Message of a reply item (the default reply included),
    not of replays and failures: the fake keeps threads and rate-limit counts with it.
    """
    if isinstance(item, Delay):
        plan = plan_for(item.reply, parsed, request_id, next_id, on_message)
        plan.latency += item.seconds
        return plan
    if isinstance(item, HTTPError):
        return http_error_plan(item, request_id)
    if isinstance(item, SSE):
        body = item.body.encode("utf-8") if isinstance(item.body, str) else bytes(item.body)
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
        }
        headers.update({k.lower(): v for k, v in (item.headers or {}).items()})
        return Plan(
            item.status,
            list(headers.items()),
            chunks(body, item.chunk_size, item.delay),
            latency=item.latency,
            chunked=True,
            coalesce=not item.chunk_size,
        )
    if isinstance(item, RawResponse):
        return raw_plan(item)
    if isinstance(item, (StreamErrorEvent, Cut)):
        return _broken_plan(item, parsed, request_id, next_id)
    draft = draft_for(item, parsed, next_id)
    done = finish(draft, parsed, next_id("msg"))
    if on_message is not None:
        on_message(done.message)
    extra = [(k.lower(), v) for k, v in (draft.headers or {}).items()]
    if not parsed.stream:
        plan = json_plan(200, done.message)
    else:
        events = stream_events(done)
        plan = stream_plan([p if isinstance(p, Pause) else encode_event(p) for p in events])
    plan.headers.extend(extra)
    plan.latency = draft.latency
    return plan


def _broken_plan(
    item: StreamErrorEvent | Cut, parsed: ParsedRequest, request_id: str, next_id: NextId
) -> Plan:
    """A reply that breaks off: an error event or a dropped connection mid-stream."""
    reply = Text(item.after) if isinstance(item.after, str) else item.reply
    after = None if isinstance(item.after, str) else item.after
    draft = draft_for(reply, parsed, next_id)
    done = finish(draft, parsed, next_id("msg"))
    if not parsed.stream:
        if isinstance(item, StreamErrorEvent):
            status = STATUS_OF_ERROR.get(item.type, 500)
            return error_plan(status, item.type, item.message, request_id=request_id)
        body = json_bytes(done.message)
        plan = json_plan(200, done.message)
        plan.parts = [body[: len(body) // 2], CUT]
        plan.latency = item.latency
        return plan
    events = stream_events(done)
    out: list[Part] = []
    deltas = [
        i
        for i, ev in enumerate(events)
        if not isinstance(ev, Pause) and ev["type"] == "content_block_delta"
    ]
    n = len(deltas) if after is None else min(after, len(deltas))
    if after == 0:
        cut_at = 1  # right after message_start
    elif n:
        cut_at = deltas[n - 1] + 1
    else:  # a reply without deltas: everything up to message_delta
        cut_at = next(
            i
            for i, ev in enumerate(events)
            if not isinstance(ev, Pause) and ev["type"] == "message_delta"
        )
    for ev in events[:cut_at]:
        out.append(ev if isinstance(ev, Pause) else encode_event(ev))
    while out and isinstance(out[-1], float):
        out.pop()
    if isinstance(item, StreamErrorEvent):
        out.append(
            encode_event({"type": "error", "error": {"type": item.type, "message": item.message}})
        )
    else:
        out.append(CUT)
    plan = stream_plan(out)
    plan.latency = item.latency
    return plan
