"""The copy of a ChatWidget's conversation that the saved notebook keeps.

A widget output needs its kernel: reopened without one, JupyterLab shows "Error displaying
widget: model not found" and does not fall back to another MIME type of that output. So the
widget displays itself plus a second output of its own, a ``display_data`` with

* ``text/html``: the conversation, readable (:mod:`nbclaude._widget.saved_html`: safe HTML with
  our own thumbnails), which JupyterLab, Notebook 7, nbconvert and GitHub show without a kernel;
* ``metadata["nbclaude"]``: the machine-readable turns, ``{"version": 1, "kind": "widget",
  "messages": [...], "model": ..., "session": ...}`` (``Session.from_notebook`` reads it);
  images are their thumbnails there, and document files a line saying they were left out;

kept up to date with ``update_display`` as the chat goes on (after each change, coalesced on a
thread of its own, so a turn never waits for it). While the widget lives, its views hide this
output (the ``saved_id`` trait names it: ``js/view.js`` adds a CSS rule for it), so the page
never shows the conversation twice.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from nbclaude._session.transcript_format import KEY, Transcript

from . import protocol as proto
from .saved_html import conversation_html, placeholder_html

__all__ = ["SavedCopy"]

log = logging.getLogger("nbclaude.widget")

#: How long changes are gathered before the copy is written again (seconds).
SAVE_DELAY = 0.3


class SavedCopy:
    """The saved-notebook copy of one widget's conversation (all its outputs).

    ``state()`` returns ``(entries, turns)`` as they are now: the transcript entries and the
    machine-readable turns (:func:`nbclaude._session.transcript_format.transcript`, the format
    every output of a saved notebook uses); it is called on the saver's thread. :meth:`show`
    displays a new copy (beside a view of the widget); :meth:`changed` says the conversation
    changed, and the copies are written again a moment later; :meth:`close` writes what is
    pending and stops.

    Examples
    --------
    >>> from nbclaude._session.transcript_format import transcript
    >>> copy = SavedCopy("ab12", lambda: ([], transcript("widget", [],
    ...                                               model="claude-haiku-4-5", session="s1")))
    >>> data, metadata = copy.bundle()
    >>> sorted(data), metadata["nbclaude"]["kind"], metadata["nbclaude"]["session"]
    (['text/html', 'text/plain'], 'widget', 's1')
    >>> copy.close()
    """

    def __init__(
        self,
        saved_id: str,
        state: Callable[[], tuple[Sequence[proto.Entry], Transcript]],
    ) -> None:
        self.saved_id = saved_id
        self.display_id = f"nbclaude-chat-{saved_id}"
        self._state = state
        self._cond = threading.Condition()
        self._shown = False
        self._dirty = False
        self._closed = False
        self._last: str | None = None
        self._thread: threading.Thread | None = None

    def bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The output's data (``text/html``, ``text/plain``) and metadata now."""
        entries, turns = self._state()
        count = len(entries)
        model = turns["model"]
        data = {
            "text/html": conversation_html(entries, saved_id=self.saved_id, model=model),
            "text/plain": (
                f"Chat with Claude: {count:,} message{'' if count == 1 else 's'} "
                "(the saved copy of a ChatWidget)"
            ),
        }
        return data, {KEY: turns}

    def show(self) -> None:
        """Display a copy (a new output) beside the widget being displayed now: a line at
        once, the conversation a moment later from the saver's thread (so the cell, and the
        view waiting for it, never wait for a long chat's HTML)."""
        from IPython.display import display

        data = {
            "text/html": placeholder_html(self.saved_id),
            "text/plain": "Chat with Claude (the saved copy of a ChatWidget is being written)",
        }
        with self._cond:
            self._last = None
            self._shown = True
        display(data, raw=True, metadata={}, display_id=self.display_id)  # type: ignore[no-untyped-call]
        self.changed()

    def changed(self) -> None:
        """The conversation changed: write the copies again soon (on the saver's thread)."""
        with self._cond:
            if not self._shown or self._closed:
                return
            self._dirty = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="nbclaude-widget-saved", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> None:
        """Write the copies now if the conversation changed since they were written."""
        with self._cond:
            if not self._dirty:
                return
            self._dirty = False
        try:
            self._write()
        except Exception:  # never lose the chat over its copy: say so in the kernel log
            log.exception("nbclaude ChatWidget: could not update the saved copy")

    def _write(self) -> None:
        from IPython.display import update_display

        data, metadata = self.bundle()
        text = json.dumps([data, metadata], sort_keys=True)
        if text == self._last:
            return
        self._last = text
        update_display(data, raw=True, metadata=metadata, display_id=self.display_id)  # type: ignore[no-untyped-call]

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._closed)
                if self._closed:
                    return
                self._cond.wait_for(lambda: self._closed, timeout=SAVE_DELAY)
            self.flush()

    def close(self) -> None:
        """Write what is pending, and stop the saver's thread."""
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
