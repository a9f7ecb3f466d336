"""Tools in the ChatWidget: the names behind the "Let Claude use tools" switch, and the
"Run tool" / "Deny tool" question each call of a turn started in the widget waits for.

The question is the ``approval`` trait; the answer comes back as an ``approve`` message, in
the comm handler, while the turn's worker thread waits. Stop (in any widget on the session,
or ``session.stop()`` in a cell: the session's ``stop`` event) ends the wait and asks nothing
more in that turn; the session then answers the open calls "Interrupted by the user.".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import protocol as proto

__all__ = ["WHERE", "Approvals", "StoppedWhileAskingError", "tool_names"]

#: Who asks, as the session's ``approval`` events say it (``where``), for a ``%%claude`` cell
#: started while a call waits here: "waiting for your answer in the chat widget: get_weather".
WHERE = "the chat widget"

log = logging.getLogger("nbclaude.widget")


def tool_names(tools: list[Any]) -> list[str]:
    """The names of ``session.tools`` as the API will see them.

    Examples
    --------
    >>> def add(a: int, b: int) -> int:
    ...     "Add two numbers."
    ...     return a + b
    >>> tool_names([add, {"type": "web_search_20250305", "name": "web_search"}])
    ['add', 'web_search']
    """
    from nbclaude._tools.define import Tool

    names: list[str] = []
    for item in tools:
        if isinstance(item, Mapping):
            names.append(str(item.get("name") or item.get("type") or "?"))
            continue
        try:
            names.append(Tool(item).name)
        except Exception:  # a broken tool: sending will say what is wrong with it
            names.append(str(getattr(item, "__name__", type(item).__name__)))
    return names


class StoppedWhileAskingError(Exception):
    """Raised by the widget's approver when Stop was pressed: ends the tool loop at once (the
    session answers the open calls "Interrupted by the user." and keeps the turn, stopped)."""


@dataclass
class _Pending:
    """A tool call waiting for the user's answer."""

    id: str
    name: str
    answered: threading.Event = field(default_factory=threading.Event)
    allow: bool = False
    always: bool = False
    stopped: bool = False


class _Approver:
    """``approve(name, input) -> bool`` with a ``where`` (for the session's ``approval``
    events)."""

    where = WHERE

    def __init__(self, ask: Callable[[str, dict[str, Any]], bool]) -> None:
        self._ask = ask

    def __call__(self, name: str, arguments: dict[str, Any]) -> bool:
        return self._ask(name, arguments)


class Approvals:
    """The tool calls one widget asks about: the one waiting now, and the tools the user
    allowed for the rest of the chat ("Always allow").

    ``show`` puts a question into the ``approval`` trait (``None`` clears it). :meth:`ask` is
    the approver of the widget's turns (it blocks their worker thread); :meth:`answer` and
    :meth:`stop` come from other threads and return at once.

    Examples
    --------
    >>> import threading
    >>> shown = []
    >>> approvals = Approvals(shown.append)
    >>> approvals.call_id = "toolu_1"
    >>> threading.Timer(0.05, approvals.answer, [{"id": "toolu_1", "allow": True}]).start()
    >>> approvals.ask("add", {"a": 1})
    True
    >>> [a and a["name"] for a in shown]
    ['add', None]
    """

    def __init__(self, show: Callable[[proto.Approval | None], None]) -> None:
        self._show = show
        #: The id of the tool call the session announced last (its ``tool_call`` event).
        self.call_id = ""
        self._pending: _Pending | None = None
        self._lock = threading.Lock()
        self._allowed: set[str] = set()
        self._stopping = False

    @property
    def approver(self) -> Callable[[str, dict[str, Any]], bool]:
        """The approver the widget's turns pass to ``Session.send``: :meth:`ask`, saying where
        it asks (its ``where`` attribute, :data:`WHERE`)."""
        return _Approver(self.ask)

    def start_turn(self) -> None:
        """A turn of this widget starts: a Stop before it no longer counts."""
        with self._lock:
            self._stopping = False

    def forget(self) -> None:
        """A new chat (``Session.reset``): "Always allow" lasts for one chat."""
        self._allowed.clear()

    def ask(self, name: str, arguments: dict[str, Any]) -> bool:
        """Ask in the widget whether to run a tool call (the turn's worker thread waits)."""
        if name in self._allowed and not self._stopping:
            return True
        pending = _Pending(id=self.call_id, name=name)
        with self._lock:  # Stop either sees this call or has already been pressed
            if self._stopping:
                raise StoppedWhileAskingError()
            self._pending = pending
        try:
            self._show(proto.approval(pending.id, name, arguments))
            pending.answered.wait()
        finally:
            with self._lock:
                if self._pending is pending:
                    self._pending = None
            try:
                self._show(None)
            except Exception:  # the widget was closed meanwhile
                log.debug("nbclaude ChatWidget: could not clear the approval", exc_info=True)
        if pending.stopped:
            raise StoppedWhileAskingError()
        if pending.allow and pending.always:
            self._allowed.add(name)
        return pending.allow

    def answer(self, msg: Mapping[str, Any]) -> None:
        """The user clicked "Run tool" or "Deny tool" (an ``approve`` message)."""
        with self._lock:
            pending = self._pending
            if pending is None or pending.id != str(msg.get("id") or ""):
                return  # a stale answer (another view answered first, or the turn ended)
            pending.allow = msg.get("allow") is True
            pending.always = msg.get("always") is True
            self._pending = None
        pending.answered.set()

    def stop(self) -> None:
        """Stop was pressed (or the widget closed): end the wait, and ask nothing more in this
        turn."""
        with self._lock:
            self._stopping = True
            pending, self._pending = self._pending, None
        if pending is not None:
            pending.stopped = True
            pending.answered.set()
