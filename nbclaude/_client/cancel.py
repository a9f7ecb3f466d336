"""``Cancel``: the stop signal a request shares with whoever may stop it.

``Session.stop()``, the widget's Stop button and ``MessageStream.close()`` set it from any
thread; the request checks it before every attempt, between retries and (through httpx's trace
hook) just before its headers go out, and a caller waiting for the response stops waiting the
moment it is set. So nothing is sent after a stop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["Cancel"]

log = logging.getLogger("nbclaude")


class Cancel:
    """A thread-safe, one-way stop signal with callbacks (``threading.Event`` plus "tell me
    when it is set").

    Examples
    --------
    >>> c = Cancel()
    >>> seen = []
    >>> forget = c.on_set(lambda: seen.append("stopped"))
    >>> c.is_set(), c.wait(0)
    (False, False)
    >>> c.set(); c.set()
    >>> c.is_set(), seen
    (True, ['stopped'])
    """

    __slots__ = ("_callbacks", "_event", "_lock")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"<Cancel {'set' if self.is_set() else 'clear'}>"

    def is_set(self) -> bool:
        """Whether a stop was asked for."""
        return self._event.is_set()

    def set(self) -> None:
        """Ask for a stop (any thread); the callbacks run once, here."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("nbclaude: a stop callback failed")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until it is set or ``timeout`` seconds passed; ``True`` if it is set. A kernel
        interrupt (``KeyboardInterrupt``) ends the wait too."""
        return self._event.wait(timeout)

    def on_set(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` when it is set (at once if it already is); returns the function
        that forgets the callback."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                run_now = False
            else:
                run_now = True
        if run_now:
            callback()

        def forget() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return forget
