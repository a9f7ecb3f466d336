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
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Countdown", "retry_line"]


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
