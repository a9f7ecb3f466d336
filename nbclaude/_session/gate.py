"""``TurnGate``: one turn at a time per session, and which turn is running now.

Turns are serialised: a second ``send`` from another thread waits until the first one ends,
and a turn started from inside an event callback of the running turn (same thread) is refused
at once instead of waiting for itself forever. :attr:`TurnGate.active` is the turn that is
sending or streaming, which ``Session.stop()`` stops and ``Session.busy`` reports.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from nbclaude._exceptions import InvalidRequestError

__all__ = ["Stoppable", "TurnGate"]


class Stoppable(Protocol):
    """What the gate knows of a turn: it can be stopped."""

    def close(self) -> None: ...


class TurnGate:
    """The session's turn lock and its running turn.

    Examples
    --------
    >>> gate = TurnGate()
    >>> gate.enter()
    >>> try:
    ...     gate.enter()  # again, in the same thread: refused, never a deadlock
    ... except Exception as exc:
    ...     print(type(exc).__name__)
    InvalidRequestError
    >>> gate.leave()
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        #: The turn sending or streaming now (``None`` between turns).
        self.active: Stoppable | None = None
        #: The tool call of the running turn that waits for the user's answer, if any: an
        #: ``approval`` event (name, input, where it is asked).
        self.waiting: Mapping[str, Any] | None = None

    def enter(self) -> None:
        """Wait until no other turn runs, then hold the gate (this thread's turn)."""
        me = threading.get_ident()
        if self._owner == me:
            raise InvalidRequestError(
                "A turn is already running in this thread (an event callback cannot send)."
            )
        self._lock.acquire()
        self._owner = me

    def leave(self) -> None:
        """Let the next turn in."""
        self._owner = None
        self._lock.release()

    def check_idle(self, action: str) -> None:
        """Refuse ``action`` (``"undo"``, ``"reset"``, ...) while a reply is streaming."""
        if self.active is not None:
            raise InvalidRequestError(
                f"Cannot {action} while a reply is streaming; stop it first (session.stop())."
            )
