"""The turn streaming now, as a ChatWidget follows it: the reply so far (for views opened
mid-reply), its text on the way to the front end, tool results not recorded yet, and the
waits before a request is tried again.

Deltas go out coalesced, about every 100 ms, each message carrying only the text that is new,
so the bytes sent grow linearly with the reply however fast the tokens arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from . import protocol as proto

__all__ = ["DELTA_INTERVAL", "DeltaPump", "LiveTurn", "retry_wait"]

#: How often deltas are sent to the front end while a reply streams (seconds).
DELTA_INTERVAL = 0.1


class DeltaPump:
    """Collects text deltas and sends them at most every ``interval`` seconds, in order.

    ``push`` is called for every delta of the reply (in the thread that runs the turn); a
    thread of its own sends ``{"type": "delta", "text"?, "thinking"?}`` with all that came
    since the last send, so the front end gets only new text, about ten times a second.

    Examples
    --------
    >>> sent = []
    >>> pump = DeltaPump(sent.append, 0.1)
    >>> pump.push("text", "Hel"); pump.push("text", "lo"); pump.push("thinking", "hmm")
    >>> pump.close()
    >>> sent
    [{'type': 'delta', 'text': 'Hello', 'thinking': 'hmm'}]
    """

    def __init__(self, send: Callable[[dict[str, Any]], None], interval: float) -> None:
        self._send = send
        self._interval = interval
        self._cond = threading.Condition()
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name="nbclaude-widget-deltas", daemon=True
        )
        self._thread.start()

    def push(self, kind: str, text: str) -> None:
        """Add ``text`` of a ``"text"`` or ``"thinking"`` delta."""
        if not text:
            return
        with self._cond:
            (self._thinking if kind == "thinking" else self._text).append(text)
            self._cond.notify()

    def _take(self) -> dict[str, Any] | None:
        with self._cond:
            if not self._text and not self._thinking:
                return None
            msg: dict[str, Any] = {"type": proto.DELTA}
            if self._text:
                msg["text"] = "".join(self._text)
            if self._thinking:
                msg["thinking"] = "".join(self._thinking)
            self._text.clear()
            self._thinking.clear()
            return msg

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or bool(self._text or self._thinking))
                if self._closed:
                    return
                # Gather for one interval (close() cuts the wait short).
                self._cond.wait_for(lambda: self._closed, timeout=self._interval)
            msg = self._take()
            if msg is not None:
                self._send(msg)

    def close(self) -> None:
        """Send whatever is left (after anything already on its way) and stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        msg = self._take()
        if msg is not None:
            self._send(msg)


class LiveTurn:
    """The turn streaming now: what a widget needs beyond the recorded history.

    ``reply`` is the live reply (``index``, ``model``, ``prefill``, ``text``, ``thinking``, and
    ``step`` once a tool round was recorded: a view opened then shows no empty reply),
    ``None`` between turns and in a widget opened mid-turn (it shows what comes next);
    ``results`` are the turn's tool results by ``tool_use_id`` until the history holds them.
    Deltas go to ``post`` through a :class:`DeltaPump`.

    Examples
    --------
    >>> sent = []
    >>> turn = LiveTurn(sent.append)
    >>> turn.start({"index": 0, "model": "claude-haiku-4-5", "prefill": None})
    >>> turn.add("text", "Hi")
    >>> turn.snapshot()["text"]
    'Hi'
    >>> turn.end(); sent
    [{'type': 'delta', 'text': 'Hi'}]
    """

    def __init__(
        self, post: Callable[[dict[str, Any]], None], interval: float = DELTA_INTERVAL
    ) -> None:
        self._post = post
        self._interval = interval
        self.reply: dict[str, Any] | None = None
        self.results: dict[str, Mapping[str, Any]] = {}
        self._pump: DeltaPump | None = None

    def start(self, event: Mapping[str, Any]) -> None:
        """A ``turn_start`` event: a new live reply, no results yet."""
        self.results = {}
        self.reply = {
            "index": event.get("index"),
            "model": event.get("model"),
            "prefill": event.get("prefill"),
            "text": "",
            "thinking": "",
        }
        old, self._pump = self._pump, DeltaPump(self._post, self._interval)
        if old is not None:
            old.close()

    def add(self, kind: str, text: str) -> None:
        """A ``delta`` event of ``kind`` ``"text"`` or ``"thinking"``."""
        if self.reply is not None:
            self.reply["thinking" if kind == "thinking" else "text"] += text
        pump = self._pump
        if pump is not None:
            pump.push(kind, text)

    def step(self) -> None:
        """A tool round was recorded: send what is left of the step, and stream the next
        step into an empty live reply."""
        self._close_pump()
        if self.reply is not None:
            self.reply.update(text="", thinking="", prefill=None, step=True)
        self._pump = DeltaPump(self._post, self._interval)

    def end(self) -> None:
        """The turn ended (or failed): send what is left, forget the reply and results."""
        self._close_pump()
        self.reply = None
        self.results = {}

    def snapshot(self) -> dict[str, Any] | None:
        """The live reply so far (the ``live`` message), or ``None`` between turns."""
        reply = self.reply
        return None if reply is None else {"type": proto.LIVE, **reply}

    def _close_pump(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.close()


#: What a retry says when the event names no reason, by HTTP status.
_RETRY_REASONS: Final[Mapping[int, str]] = {
    408: "Timed out",
    409: "Conflict",
    429: "Rate limited",
    529: "Overloaded",
}


def retry_wait(event: Mapping[str, Any]) -> dict[str, Any]:
    """The ``retry_wait`` message for a session's ``retry`` event (the request failed and is
    tried again after ``wait`` seconds): the view counts down in the live reply.

    Examples
    --------
    >>> msg = retry_wait({"type": "retry", "status": 529, "attempt": 2, "attempts": 3, "wait": 4})
    >>> msg["reason"], msg["attempt"], msg["attempts"], msg["wait"]
    ('Overloaded', 2, 3, 4.0)
    """
    status = event.get("status")
    status = status if isinstance(status, int) else None
    reason = event.get("reason")
    if not isinstance(reason, str) or not reason:
        if status is None:
            reason = "Connection problem"
        else:
            reason = _RETRY_REASONS.get(status, "Server error" if status >= 500 else "Error")

    def number(key: str) -> int:
        value = event.get(key)
        return int(value) if isinstance(value, (int, float)) else 0

    wait = event.get("wait")
    return {
        "type": proto.RETRY_WAIT,
        "status": status,
        "reason": reason,
        "attempt": number("attempt"),
        "attempts": number("attempts"),
        "wait": float(wait) if isinstance(wait, (int, float)) else 0.0,
    }
