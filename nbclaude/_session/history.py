"""``History``: a conversation's messages, the lock that guards them, and what is known about
each recorded reply.

:attr:`History.messages` is exactly what the next request sends as ``messages`` (the rules for
what it may hold are in :mod:`nbclaude._session.rules`). A turn appends to it while it runs and
takes its own messages back out if it fails (:meth:`History.rollback`); every read that must be
consistent with a running turn goes through :meth:`History.snapshot`.

Facts about a recorded reply that are not part of the message itself (model, stop reason,
tokens, cost, whether it was stopped) are kept beside it, keyed by the message object, for the
surfaces that show the conversation (the widget's transcript); they go when the message goes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from nbclaude._types import MessageParam

from .rules import has_tool_blocks, sendable

__all__ = ["History", "ReplyFacts"]


class _ReplyFactsBase(TypedDict):
    model: str
    stop_reason: str | None
    interrupted: bool
    output_tokens: int


class ReplyFacts(_ReplyFactsBase, total=False):
    """What is known about a recorded reply beyond its content."""

    cost: float


def facts_of(reply: Any) -> ReplyFacts:
    """The :class:`ReplyFacts` of a finished :class:`~nbclaude.Reply`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> facts_of(SimpleNamespace(model="m", stop_reason="end_turn", interrupted=False,
    ...                          usage={"output_tokens": 5}, cost=None))
    {'model': 'm', 'stop_reason': 'end_turn', 'interrupted': False, 'output_tokens': 5}
    """
    usage = getattr(reply, "usage", None) or {}
    facts: ReplyFacts = {
        "model": str(getattr(reply, "model", "") or ""),
        "stop_reason": getattr(reply, "stop_reason", None),
        "interrupted": bool(getattr(reply, "interrupted", False)),
        "output_tokens": int(usage.get("output_tokens") or 0),
    }
    cost = getattr(reply, "cost", None)
    if isinstance(cost, (int, float)):
        facts["cost"] = float(cost)
    return facts


class History:
    """The messages of one conversation, guarded by :attr:`lock`.

    Examples
    --------
    >>> h = History()
    >>> start = h.append({"role": "user", "content": "Hi"})
    >>> h.rollback(start, h.messages[start])
    >>> h.snapshot()
    []
    """

    def __init__(self, messages: Iterable[MessageParam] = ()) -> None:
        #: Held for every read or change that must not interleave with a running turn.
        self.lock = threading.RLock()
        self._messages: list[MessageParam] = list(messages)
        # Facts about recorded replies, by id() of the assistant message; the message is kept
        # with its facts so that a reused id() can never match another message.
        self._facts: dict[int, tuple[Mapping[str, Any], ReplyFacts]] = {}

    # -- the messages -----------------------------------------------------------------------

    @property
    def messages(self) -> list[MessageParam]:
        """The live list (what ``Session.messages`` is)."""
        return self._messages

    def replace(self, messages: Iterable[MessageParam]) -> None:
        """Put ``messages`` in place of the whole conversation (a list is kept as it is, so
        ``session.messages = mine`` makes ``session.messages is mine``)."""
        with self.lock:
            self._messages = messages if isinstance(messages, list) else list(messages)
            self._forget_gone()

    def snapshot(self) -> list[MessageParam]:
        """A copy of the list, taken under the lock."""
        with self.lock:
            return list(self._messages)

    def sendable(self) -> list[MessageParam]:
        """The messages as the next request sends them (empty text blocks dropped)."""
        with self.lock:
            return [sendable(m) for m in self._messages]

    def has_tool_blocks(self) -> bool:
        """Whether any message holds a tool call or result (the API then wants the tools'
        definitions in every request)."""
        with self.lock:
            return has_tool_blocks(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def append(self, message: MessageParam) -> int:
        """Add ``message`` at the end; returns its index."""
        with self.lock:
            self._messages.append(message)
            return len(self._messages) - 1

    def put(self, index: int, message: MessageParam) -> None:
        """Replace the message at ``index`` (an image that had to be made smaller)."""
        with self.lock:
            if index < len(self._messages):
                self._messages[index] = message

    def rollback(self, start: int, first: MessageParam) -> None:
        """Remove everything from ``start`` on, if the message there is still ``first`` (a
        failed turn takes back its user message and its tool rounds, and nothing else)."""
        with self.lock:
            if len(self._messages) > start and self._messages[start] is first:
                del self._messages[start:]
                self._forget_gone()

    def drop_last(self, message: MessageParam) -> bool:
        """Remove the last message if it is ``message``; returns whether it was."""
        with self.lock:
            if self._messages and self._messages[-1] is message:
                self._messages.pop()
                return True
            return False

    def undo(self) -> None:
        """Remove the last exchange: the last user message and the reply after it."""
        with self.lock:
            if self._messages and self._messages[-1].get("role") == "assistant":
                self._messages.pop()
            if self._messages and self._messages[-1].get("role") == "user":
                self._messages.pop()
            self._forget_gone()

    def clear(self) -> None:
        """Forget every message."""
        with self.lock:
            self._messages.clear()
            self._facts.clear()

    # -- facts about replies ------------------------------------------------------------------

    def note_reply(self, message: Mapping[str, Any], facts: ReplyFacts) -> None:
        """Keep ``facts`` about the recorded assistant ``message``."""
        with self.lock:
            self._facts[id(message)] = (message, facts)

    def facts(self, messages: Sequence[Mapping[str, Any]]) -> dict[int, ReplyFacts]:
        """The known facts of ``messages``, keyed by ``id(message)``."""
        with self.lock:
            out: dict[int, ReplyFacts] = {}
            for m in messages:
                found = self._facts.get(id(m))
                if found is not None and found[0] is m:
                    out[id(m)] = found[1]
            return out

    def _forget_gone(self) -> None:
        if not self._facts:
            return
        alive = {id(m) for m in self._messages}
        for key in [k for k in self._facts if k not in alive]:
            del self._facts[key]
