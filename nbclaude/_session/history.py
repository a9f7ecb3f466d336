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
from dataclasses import dataclass, field
from typing import Any, TypedDict

from nbclaude._types import MessageParam

from .rules import has_tool_blocks, sendable

__all__ = ["Cleared", "History", "ReplyFacts"]


class _ReplyFactsBase(TypedDict):
    model: str
    stop_reason: str | None
    interrupted: bool
    output_tokens: int


class ReplyFacts(_ReplyFactsBase, total=False):
    """What is known about a recorded reply beyond its content (``estimated``: the output
    count is an estimate, the reply having been stopped before the API reported it)."""

    cost: float
    estimated: bool


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
    counted = getattr(reply, "output_tokens", None)  # a stopped Reply estimates its own
    facts: ReplyFacts = {
        "model": str(getattr(reply, "model", "") or ""),
        "stop_reason": getattr(reply, "stop_reason", None),
        "interrupted": bool(getattr(reply, "interrupted", False)),
        "output_tokens": int(
            counted if isinstance(counted, int) else usage.get("output_tokens") or 0
        ),
    }
    if getattr(reply, "output_estimated", False) is True:
        facts["estimated"] = True
    cost = getattr(reply, "cost", None)
    if isinstance(cost, (int, float)):
        facts["cost"] = float(cost)
    return facts


@dataclass(frozen=True)
class Cleared:
    """What :meth:`History.clear` or :meth:`History.replace` took away, for
    :meth:`History.undo` to bring back if nothing changed since."""

    messages: list[MessageParam]
    facts: dict[int, tuple[Mapping[str, Any], ReplyFacts]] = field(repr=False)
    #: The history's change count and length right after: a later change makes it stale.
    generation: int = field(repr=False)
    length: int = field(repr=False)
    #: Put back into the same list object (a clear) rather than as the list (a replace).
    in_place: bool = field(repr=False)
    #: What the owner keeps with it (the session: its usage totals, its settings).
    keep: Any = field(default=None, repr=False)


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
        self._generation = 0  # counts the changes made through this object
        self._taken: Cleared | None = None  # what the last clear() or replace() took

    # -- the messages -----------------------------------------------------------------------

    @property
    def messages(self) -> list[MessageParam]:
        """The live list (what ``Session.messages`` is)."""
        return self._messages

    def replace(self, messages: Iterable[MessageParam], *, keep: Any = None) -> None:
        """Put ``messages`` in place of the whole conversation (a list is kept as it is, so
        ``session.messages = mine`` makes ``session.messages is mine``). With ``keep``, what
        was there can come back: :meth:`undo` right after returns it, with ``keep``."""
        with self.lock:
            old, facts = self._messages, dict(self._facts)
            self._messages = messages if isinstance(messages, list) else list(messages)
            self._forget_gone()
            self._generation += 1
            if keep is not None:
                self._taken = Cleared(old, facts, self._generation, len(self._messages),
                                      in_place=False, keep=keep)  # fmt: skip

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
            self._generation += 1
            return len(self._messages) - 1

    def put(self, index: int, message: MessageParam) -> None:
        """Replace the message at ``index`` (an image that had to be made smaller)."""
        with self.lock:
            if index < len(self._messages):
                self._messages[index] = message
                self._generation += 1

    def rollback(self, start: int, first: MessageParam) -> None:
        """Remove everything from ``start`` on, if the message there is still ``first`` (a
        failed turn takes back its user message and its tool rounds, and nothing else)."""
        with self.lock:
            if len(self._messages) > start and self._messages[start] is first:
                del self._messages[start:]
                self._forget_gone()
                self._generation += 1

    def drop_last(self, message: MessageParam) -> bool:
        """Remove the last message if it is ``message``; returns whether it was."""
        with self.lock:
            if self._messages and self._messages[-1] is message:
                self._messages.pop()
                self._generation += 1
                return True
            return False

    def undo(self) -> Cleared | None:
        """Remove the last exchange: the last user message and the reply after it.

        Right after :meth:`clear` or a :meth:`replace` with ``keep``, bring back what they
        took instead, and return it (its ``keep`` is what the owner kept with it); once the
        history has changed since, that is gone and ``undo`` is an ordinary one.

        Examples
        --------
        >>> h = History([{"role": "user", "content": "Hi"}])
        >>> h.clear(keep="totals")
        >>> h.undo().keep, h.messages
        ('totals', [{'role': 'user', 'content': 'Hi'}])
        >>> h.undo() is None, h.messages  # an ordinary undo
        (True, [])
        """
        with self.lock:
            taken, self._taken = self._taken, None
            if taken is not None and self._restore(taken):
                return taken
            before = len(self._messages)
            if self._messages and self._messages[-1].get("role") == "assistant":
                self._messages.pop()
            if self._messages and self._messages[-1].get("role") == "user":
                self._messages.pop()
            self._forget_gone()
            if len(self._messages) != before:
                self._generation += 1
            return None

    def clear(self, *, keep: Any = None) -> None:
        """Forget every message; :meth:`undo` right after brings them back (and returns
        ``keep``). Clearing an empty history keeps what the clear before it took. The list
        object stays the same one (``session.messages`` keeps working)."""
        with self.lock:
            if not self._messages:
                return
            messages, facts = list(self._messages), dict(self._facts)
            self._messages.clear()
            self._facts.clear()
            self._generation += 1
            self._taken = Cleared(messages, facts, self._generation, 0, in_place=True, keep=keep)

    def _restore(self, cleared: Cleared) -> bool:
        if (self._generation, len(self._messages)) != (cleared.generation, cleared.length):
            return False  # changed since (through this object, or by hand)
        if cleared.in_place:
            self._messages[:] = cleared.messages
        else:
            self._messages = cleared.messages
        self._facts = dict(cleared.facts)
        self._generation += 1
        return True

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
