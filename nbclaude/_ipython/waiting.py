"""An honest wait: the line a ``%%claude`` cell shows while a request waits to be retried.

When a request fails in a way worth trying again (429, 529, 5xx, a dropped connection), the
session emits a ``retry`` event (``_session/events.py``) before the client waits. The cell then
shows "Rate limited (429) — retrying in 4 s (attempt 2 of 3)…" and counts it down once a
second; when the wait is over it says "retrying now"; the line goes when the reply starts.

:class:`Countdown` is the clock. It runs on a thread of its own (the turn's thread is the one
waiting) in the cell's context, so its updates land in that cell; it only calls ``show(line)``
(the live display's status line, which takes its own lock). Stopping it never waits for more
than one update. The wait itself is the client's, and an interrupt or ``Session.stop()`` ends
it at once.

A cell can also wait before its turn starts: turns run one at a time, and another one (the chat
widget's, a thread's) may be running, perhaps waiting for a tool call to be approved.
:class:`TurnWait` says so on the same line, "waiting for your answer in the chat widget:
get_weather — approve there, or interrupt", from ``Session.waiting_for`` (polled by a thread of
its own, as the cell's thread is the one waiting), until the cell's own turn starts.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Countdown", "TurnWait", "busy_line", "retry_line"]


def retry_line(event: Mapping[str, Any], left: float) -> str:
    """The status line of a ``retry`` event with ``left`` seconds to go.

    Examples
    --------
    >>> e = {"reason": "Rate limited (429)", "attempt": 2, "attempts": 3, "wait": 4.0}
    >>> retry_line(e, 4.0)
    'Rate limited (429) — retrying in 4 s (attempt 2 of 3)…'
    >>> retry_line(e, 0.9996)
    'Rate limited (429) — retrying in 1 s (attempt 2 of 3)…'
    >>> retry_line(e, 0.4), retry_line(e, 0)
    ('Rate limited (429) — retrying in 0.4 s (attempt 2 of 3)…', \
'Rate limited (429) — retrying now (attempt 2 of 3)…')
    """
    when = "now"
    if left > 0.05:
        when = f"in {math.floor(left + 0.5)} s" if left >= 0.95 else f"in {left:.1f} s"
    attempt = f"attempt {event['attempt']} of {event['attempts']}"
    return f"{event['reason']} — retrying {when} ({attempt})…"


def busy_line(waiting_for: Mapping[str, Any] | None) -> str:
    """The status line of a cell whose turn waits for another turn to end.

    ``waiting_for``: the tool call that turn waits to have approved (``Session.waiting_for``),
    if any.

    Examples
    --------
    >>> busy_line({"name": "get_weather", "where": "the chat widget"})
    'waiting for your answer in the chat widget: get_weather — approve there, or interrupt'
    >>> busy_line(None)
    'another reply is being written (one at a time): waiting for it to end — or interrupt'
    """
    if waiting_for is None:
        return (
            "another reply is being written (one at a time): waiting for it to end — or interrupt"
        )
    where = str(waiting_for.get("where") or "the chat widget")
    name = str(waiting_for.get("name") or "a tool call")
    return f"waiting for your answer in {where}: {name} — approve there, or interrupt"


class TurnWait:
    """Says, on a status line, why a cell's turn has not started: another turn runs.

    Parameters
    ----------
    session : Session
        Whose ``busy`` and ``waiting_for`` are read (every ``interval`` seconds).
    show : callable
        ``show(line)`` puts ``line`` on the status line; ``show(None)`` removes it.
    interval : float
        How often the other turn is looked at.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> lines = []
    >>> other = SimpleNamespace(busy=True, waiting_for={"name": "f", "where": "the chat widget"})
    >>> wait = TurnWait(other, lines.append, interval=0.05)
    >>> wait.start(); time.sleep(0.2); wait.stop()
    >>> lines
    ['waiting for your answer in the chat widget: f — approve there, or interrupt', None]
    """

    def __init__(
        self, session: Any, show: Callable[[str | None], None], *, interval: float = 0.2
    ) -> None:
        self._session = session
        self._show = show
        self._interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._line: str | None = None

    def start(self) -> None:
        """Show the line now and keep it current (in the calling cell's context)."""
        self._update()
        context = contextvars.copy_context()  # the cell's: updates go to its output
        self._thread = threading.Thread(
            target=context.run, args=(self._watch,), name="nbclaude-turn-wait", daemon=True
        )
        self._thread.start()

    def stop(self, *, remove: bool = True) -> None:
        """Stop watching (the cell's turn started, or the cell ends); remove the line
        (``remove``) if one is up. Safe to call more than once."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)
        with self._lock:
            if remove and self._line is not None:
                self._show(None)
            self._line = None

    def _update(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            session = self._session
            line = busy_line(session.waiting_for) if session.busy else None
            if line != self._line:
                self._show(line)
                self._line = line

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            self._update()


class Countdown:
    """Counts a retry's wait down on a status line, once a second.

    Parameters
    ----------
    show : callable
        ``show(line)`` puts ``line`` on the status line; ``show(None)`` removes it.

    Examples
    --------
    >>> lines = []
    >>> clock = Countdown(lines.append)
    >>> clock.start({"reason": "Overloaded (529)", "attempt": 2, "attempts": 3, "wait": 0.1,
    ...              "text": "Overloaded (529) — retrying in 0.1 s (attempt 2 of 3)…"})
    >>> time.sleep(0.3); clock.stop()
    >>> lines
    ['Overloaded (529) — retrying in 0.1 s (attempt 2 of 3)…', \
'Overloaded (529) — retrying now (attempt 2 of 3)…', None]
    """

    def __init__(self, show: Callable[[str | None], None]) -> None:
        self._show = show
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._showing = False

    @property
    def showing(self) -> bool:
        """Whether a line is up."""
        return self._showing

    def start(self, event: Mapping[str, Any]) -> None:
        """Show ``event``'s line (a ``retry`` event) and count its wait down."""
        self._halt()
        stop = threading.Event()
        with self._lock:
            self._stop = stop
            self._put(str(event.get("text") or retry_line(event, float(event["wait"]))))
        context = contextvars.copy_context()  # the cell's: updates go to its output
        thread = threading.Thread(
            target=context.run,
            args=(self._tick, dict(event), time.monotonic(), stop),
            name="nbclaude-retry-countdown",
            daemon=True,
        )
        self._thread = thread
        thread.start()

    def stop(self, *, remove: bool = True) -> None:
        """Stop counting; remove the line (``remove``) if one is up."""
        self._halt()
        with self._lock:
            if remove and self._showing:
                self._show(None)
            self._showing = False

    def _halt(self) -> None:
        with self._lock:
            stop, thread = self._stop, self._thread
            self._stop = self._thread = None
        if stop is not None:
            stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _put(self, line: str) -> None:
        self._show(line)
        self._showing = True

    def _tick(self, event: dict[str, Any], started: float, stop: threading.Event) -> None:
        wait = float(event["wait"])
        while True:
            left = wait - (time.monotonic() - started)
            if left <= 0:
                pause = 0.0
            else:  # the next whole second from the start, or the end of the wait
                elapsed = wait - left
                pause = min(math.floor(elapsed) + 1 - elapsed, left)
            if stop.wait(pause):
                return
            with self._lock:
                if stop.is_set():
                    return
                left = max(wait - (time.monotonic() - started), 0.0)
                self._put(retry_line(event, left if left > 0.05 else 0.0))
            if left <= 0.05:
                return
