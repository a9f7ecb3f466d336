"""The session's events: what ``%%claude``, the ChatWidget and your own code hear about a
conversation as it happens.

This is the one contract between a :class:`~nbclaude.Session` and the surfaces that show it:
the magic and the widget never import each other; they both subscribe to the session. Every
event is a plain dict (a ``TypedDict`` here) whose ``"type"`` is one of the ``Final`` names
below, so a subscriber can test ``event["type"] == TURN_START`` and the type checker knows the
rest of its keys.

========================  ==========================================================
``type``                  when, and what else the event holds
========================  ==========================================================
``turn_start``            a turn was sent: ``index`` (where its user message is, or
                          would be, in ``messages``), ``message``, ``prefill``, ``model``
``retry``                 a request failed and is tried again after a wait: ``attempt``,
                          ``attempts``, ``wait``, ``status``, ``reason``, ``text``
``delta``                 text arrived: ``kind`` (``"text"`` or ``"thinking"``), ``text``
``tool_call``             Claude asked for a tool call, before it is approved and run:
                          ``id``, ``name``, ``input``
``tool_result``           a tool call was answered: ``result`` (the ``tool_result`` block)
``approval``              a tool call waits for the user's answer (``waiting``), or got it
                          (``waiting`` false): ``id``, ``name``, ``input``, ``where`` (who
                          asks: ``"the chat widget"``, ``"this cell"``)
``turn_end``              the turn ended (finished or stopped): ``reply``, ``recorded``
``error``                 the turn failed and was rolled back: ``error``
``stop``                  someone called ``Session.stop()``
``undo`` / ``reset``      the history lost its last exchange / everything
``change``                settings or history changed some other way (load, a batch's usage)
========================  ==========================================================

Callbacks run in the thread that runs the turn and should be quick; an exception in one is
logged and never breaks the turn or the other callbacks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, Union

from nbclaude._types import MessageParam

if TYPE_CHECKING:
    from .reply import Reply

__all__ = [
    "APPROVAL",
    "CHANGE",
    "DELTA",
    "ERROR",
    "RESET",
    "RETRY",
    "STOP",
    "TOOL_CALL",
    "TOOL_RESULT",
    "TURN_END",
    "TURN_START",
    "UNDO",
    "ApprovalWait",
    "Callback",
    "Change",
    "Delta",
    "Event",
    "Events",
    "Reset",
    "Retry",
    "Stop",
    "ToolCall",
    "ToolResultEvent",
    "TurnEnd",
    "TurnError",
    "TurnStart",
    "Undo",
]

log = logging.getLogger("nbclaude")

TURN_START: Final = "turn_start"
DELTA: Final = "delta"
RETRY: Final = "retry"
TOOL_CALL: Final = "tool_call"
TOOL_RESULT: Final = "tool_result"
APPROVAL: Final = "approval"
TURN_END: Final = "turn_end"
ERROR: Final = "error"
STOP: Final = "stop"
UNDO: Final = "undo"
RESET: Final = "reset"
CHANGE: Final = "change"


class TurnStart(TypedDict):
    """A turn was sent."""

    type: Literal["turn_start"]
    index: int
    message: MessageParam
    prefill: str | None
    model: str


class Delta(TypedDict):
    """Text (or thinking) arrived."""

    type: Literal["delta"]
    kind: Literal["text", "thinking"]
    text: str


class Retry(TypedDict):
    """A request of the turn failed and is tried again after ``wait`` seconds; counting down is
    the subscriber's business. ``Session.stop()`` cancels the wait (nothing is sent then)."""

    type: Literal["retry"]
    #: The attempt that comes next (2 is the first retry) ...
    attempt: int
    #: ... of at most this many (``max_retries + 1``).
    attempts: int
    #: Seconds until it is sent.
    wait: float
    #: The HTTP status that failed (429, 529, 5xx, ...); ``None`` when there was no answer.
    status: int | None
    #: A few words: ``"Rate limited (429)"``, ``"Connection failed (ConnectError)"``.
    reason: str
    #: The line to show: ``"Rate limited (429) — retrying in 4 s (attempt 2 of 3)…"``.
    text: str


class ToolCall(TypedDict):
    """Claude asked for a tool call (not approved or run yet)."""

    type: Literal["tool_call"]
    id: str
    name: str
    input: dict[str, Any]


class ToolResultEvent(TypedDict):
    """A tool call was answered (``result`` is the ``tool_result`` block)."""

    type: Literal["tool_result"]
    result: dict[str, Any]


class ApprovalWait(TypedDict):
    """A tool call waits for the user's answer (``waiting`` true), or just got it (false).

    ``where`` says who asks, for whoever else wants to tell the user (a ``%%claude`` cell
    started meanwhile: "waiting for your answer in the chat widget: get_weather"): the
    approver's ``where`` attribute (``"the chat widget"``), else ``"this cell"``.
    """

    type: Literal["approval"]
    id: str
    name: str
    input: dict[str, Any]
    where: str
    waiting: bool


class TurnEnd(TypedDict):
    """The turn ended, finished or stopped; ``recorded`` says whether it is in the history."""

    type: Literal["turn_end"]
    reply: Reply
    recorded: bool


class TurnError(TypedDict):
    """The turn failed; the history is as it was before it."""

    type: Literal["error"]
    error: Exception


class Stop(TypedDict):
    """``Session.stop()`` was called."""

    type: Literal["stop"]


class Undo(TypedDict):
    """The last exchange was removed."""

    type: Literal["undo"]


class Reset(TypedDict):
    """The conversation was forgotten."""

    type: Literal["reset"]


class Change(TypedDict):
    """Settings, history or totals changed in some other way."""

    type: Literal["change"]


Event = Union[  # noqa: UP007 (a runtime alias: Python 3.10 cannot "|" two TypedDicts lazily)
    TurnStart,
    Delta,
    Retry,
    ToolCall,
    ToolResultEvent,
    ApprovalWait,
    TurnEnd,
    TurnError,
    Stop,
    Undo,
    Reset,
    Change,
]
Callback = Callable[[Event], None]


class Events:
    """The subscribers of one session, and the way events reach them.

    Examples
    --------
    >>> events = Events()
    >>> seen = []
    >>> unsubscribe = events.subscribe(lambda e: seen.append(e["type"]))
    >>> events.emit({"type": RESET}); unsubscribe(); events.emit({"type": RESET})
    >>> seen
    ['reset']
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Callback] = []

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns the function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: Event) -> None:
        """Tell every subscriber, in the order they subscribed; a failing one is logged."""
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("nbclaude: a session subscriber failed on %r", event.get("type"))
