"""The turns a ChatWidget starts: sent from its message box (with attached images), sent again
by Retry, and what the user typed given back when a turn fails.

Each turn runs on a worker thread (never in the comm handler, so Stop is handled at once);
the session's events show it in every widget. What the user typed is never lost: a turn that
was refused before it was sent, or that failed later (an HTTP error after the retries, a
broken stream), puts its text back into the message box (a ``draft`` message).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nbclaude._exceptions import NbClaudeError

from . import protocol as proto
from .images import Attachments
from .tools import Approvals, StoppedWhileAskingError

if TYPE_CHECKING:
    from nbclaude._session.session import Session

__all__ = ["Turns", "parts_of"]


def parts_of(message: Mapping[str, Any]) -> list[Any]:
    """The parts that recreate a user message (for Retry).

    Examples
    --------
    >>> parts_of({"role": "user", "content": "Hi"})
    ['Hi']
    """
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    return [dict(b) for b in content or [] if isinstance(b, Mapping)]


def _text_of(parts: list[Any]) -> str:
    """The typed text among a message's parts (what goes back into the box)."""
    texts: list[str] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping) and part.get("type") == "text":
            texts.append(str(part.get("text") or ""))
    return "\n\n".join(t for t in texts if t)


class Turns:
    """Starts this widget's turns and gives back what a failed one was asked.

    The widget hands it what it needs: its session, its attachments and tool approvals,
    ``post`` (a custom message to the views), ``show_error(exc, retry=...)``,
    ``clear_error()``, ``start_worker(target, name)`` and ``use_tools()`` (the switch).
    :attr:`retry_parts` is the message of the last turn started on the session (Retry sends
    it again), set by the widget from the ``turn_start`` events.
    """

    def __init__(
        self,
        session: Session,
        *,
        attachments: Attachments,
        approvals: Approvals,
        post: Callable[[dict[str, Any]], None],
        show_error: Callable[..., None],
        clear_error: Callable[[], None],
        start_worker: Callable[[Callable[[], None], str], object],
        use_tools: Callable[[], bool],
    ) -> None:
        self._session = session
        self._attachments = attachments
        self._approvals = approvals
        self._post = post
        self._show_error = show_error
        self._clear_error = clear_error
        self._start_worker = start_worker
        self._use_tools = use_tools
        #: The parts of the last turn's user message, for Retry (``None``: nothing to retry).
        self.retry_parts: list[Any] | None = None

    def send(self, text: str, ids: list[str]) -> None:
        """A ``send`` message: wait for the attached images, then run the turn."""
        futures = self._attachments.take(ids)

        def run() -> None:
            blocks: list[Any] = []
            for future in futures:
                try:
                    blocks.append(future.result(timeout=60))
                except Exception as exc:
                    self._give_back(text)
                    self._show_error(exc, retry=False)
                    return
            parts = [*blocks, text] if text.strip() else blocks
            if parts:
                self.run(parts, draft=text)

        self._clear_error()
        self._start_worker(run, "nbclaude-widget-turn")

    def retry(self) -> None:
        """A ``retry`` message: send the last turn's message again."""
        parts = self.retry_parts
        if parts:
            self._clear_error()
            self._start_worker(
                lambda: self.run(parts, draft=_text_of(parts)), "nbclaude-widget-turn"
            )

    def run(self, parts: list[Any], *, draft: str = "") -> None:
        """Run one turn (worker thread). Events update the view; when it fails, before it was
        sent or after, ``draft`` goes back into the message box."""
        started: list[bool] = []

        def seen(event: Mapping[str, Any]) -> None:
            if event.get("type") == "turn_start":
                started.append(True)

        unsubscribe = self._session.subscribe(seen)
        self._approvals.start_turn()
        try:
            self._session.send(*parts, **self.tool_options())
        except StoppedWhileAskingError:
            pass  # Stop during an approval: the session kept the turn, marked stopped
        except Exception as exc:
            self._give_back(draft)
            if not (started and isinstance(exc, NbClaudeError)):  # else its error event showed it
                self._show_error(exc, retry=False)
        finally:
            unsubscribe()

    def tool_options(self) -> dict[str, Any]:
        """What this widget's turns pass to ``Session.send`` about tools."""
        if not self._use_tools():
            return {"use_tools": False}
        return {"approve": self._approvals.approver} if self._session.tools else {}

    def _give_back(self, text: str) -> None:
        if text:
            self._post({"type": proto.DRAFT, "text": text})
