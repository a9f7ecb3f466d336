"""``ChatWidget``: the chat UI (anywidget) on a shared :class:`~nbclaude.Session`.

How it works (the protocol is in :mod:`nbclaude._widget.protocol` and ``js/protocol.js``; the parts
are the modules beside this one: ``transcript``, ``feed``, ``live``, ``turns``, ``tools``,
``images``, ``saved``):

* The widget subscribes to its session, so turns from anywhere (this widget, another widget,
  ``%%claude``, ``Session.send``) show up live in every widget on that session.
* Turns started here run in a worker thread, never in the comm handler, so "Stop" is handled
  at once (it closes the HTTP stream; the partial reply is kept, marked as stopped).
* Deltas go to the front end as custom messages, coalesced every ~100 ms and carrying only new
  text; the transcript, rebuilt from ``session.messages``, goes whole once per view and then
  only what changed (``feed``).
* Images come from the browser as binary buffers and go through ``nbclaude.image``'s pipeline.
* Tools: the "Let Claude use tools" switch (``use_tools``) decides whether this widget's turns
  may call ``session.tools``; each call of a turn started here waits for "Run tool" / "Deny
  tool" in this widget. Tool calls of other turns (``%%claude`` asks in its cell) are shown.
* Every failure shows in the widget's error banner (with Retry when it makes sense) and in the
  kernel log: exceptions in comm handlers would otherwise vanish. A failed turn gives its text
  back to the message box; what streamed before a failure stays on screen, marked.
* Displayed, the widget also displays a copy of its conversation for the saved notebook
  (``saved``): readable without a kernel, hidden while the widget lives.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nbclaude._client.credentials import secrets
from nbclaude._exceptions import NbClaudeError
from nbclaude._session.shared import current
from nbclaude._session.shared import current as shared_session
from nbclaude._session.transcript_format import Transcript, transcript

from . import protocol as proto
from . import transcript as tr
from .feed import TranscriptFeed
from .images import Attachments
from .live import LiveTurn, retry_wait
from .saved import SavedCopy
from .settings import apply_setting, budget_of, model_list
from .tools import Approvals
from .tools import tool_names as names_of_tools
from .turns import Turns, parts_of

if TYPE_CHECKING:
    from nbclaude._session.session import Session

__all__ = ["ChatWidget"]

log = logging.getLogger("nbclaude.widget")

_STATIC = Path(__file__).parent / "static"


def _bundle(name: str) -> Path:
    path = _STATIC / name
    if not path.is_file():
        raise NbClaudeError(
            f"The ChatWidget front end is missing ({path} was not built).",
            hint=(
                "Reinstall nbclaude (pip install nbclaude), or in a source checkout run "
                "`npm ci && npm run build`."
            ),
        )
    return path


class ChatWidget(anywidget.AnyWidget):
    """A chat with Claude in a notebook, on the same session as ``%%claude``.

    Type in the box (Enter sends, Shift+Enter adds a line), attach images with the button, by
    pasting or by dropping them, stop a reply with Stop, change the model, system prompt and
    max tokens under Settings. The transcript is the session's history: turns made with
    ``%%claude`` or ``Session.send`` appear here while they stream, and the next ``%%claude``
    continues what was said here. Several widgets on one session stay in sync.

    Tools: put Python functions in ``session.tools`` and Claude may call them from the widget
    ("Let Claude use tools" under Settings, on by default). Each call waits for "Run tool" or
    "Deny tool" (or "Always allow" that tool for the rest of the chat); tool calls, their
    results and Claude's thinking show collapsed in the transcript.

    Parameters
    ----------
    session : Session, optional
        The conversation to show and continue; defaults to :func:`nbclaude.get_session`.

    Examples
    --------
    >>> import nbclaude
    >>> chat = nbclaude.ChatWidget()          # doctest: +SKIP
    >>> chat                                  # doctest: +SKIP
    >>> nbclaude.ChatWidget(session=nbclaude.Session(model="claude-haiku-4-5"))  # doctest: +SKIP
    >>> def add(a: float, b: float) -> float:
    ...     "Add two numbers."
    ...     return a + b
    >>> nbclaude.get_session().tools.append(add)  # doctest: +SKIP
    """

    # anywidget reads these files (and, with ANYWIDGET_HMR=1 in a source checkout, reloads
    # them live); when the bundle is missing, __init__ says how to build it.
    if (_STATIC / "widget.js").is_file() and (_STATIC / "widget.css").is_file():
        _esm = _STATIC / "widget.js"
        _css = _STATIC / "widget.css"

    busy = traitlets.Bool(False).tag(sync=True)
    usage = traitlets.Dict().tag(sync=True)
    cost = traitlets.Float(None, allow_none=True).tag(sync=True)
    budget = traitlets.Float(None, allow_none=True).tag(sync=True)
    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    system = traitlets.Unicode("").tag(sync=True)
    max_tokens = traitlets.Int(1024).tag(sync=True)
    error = traitlets.Instance(dict, allow_none=True).tag(sync=True)
    tool_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    use_tools = traitlets.Bool(True).tag(sync=True)
    approval = traitlets.Instance(dict, allow_none=True).tag(sync=True)
    saved_id = traitlets.Unicode("").tag(sync=True)
    shared = traitlets.Bool(False).tag(sync=True)

    def __init__(self, session: Session | None = None, **kwargs: Any) -> None:
        from nbclaude._session.session import Session, get_session

        if session is None:
            session = get_session()
        elif not isinstance(session, Session):
            raise TypeError(
                f"ChatWidget(session=...) needs an nbclaude.Session, not {type(session).__name__}"
            )
        self._session = session
        self._out_lock = threading.RLock()  # one sender at a time: turn thread vs comm handler
        self._syncing = False
        self._workers: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._attachments = Attachments(self._post, self._start_worker)
        self._approvals = Approvals(self._show_approval)
        self._turn = LiveTurn(self._post)
        self._feed = TranscriptFeed(self._post, self._out_lock)
        self._turns = Turns(
            session,
            attachments=self._attachments,
            approvals=self._approvals,
            post=self._post,
            show_error=self._show_error,
            clear_error=lambda: self._set(error=None),
            start_worker=self._start_worker,
            use_tools=lambda: bool(self.use_tools),
        )
        saved_id = uuid.uuid4().hex
        self._saved = SavedCopy(saved_id, self._saved_state)
        self._shown = 0  # len(session.messages) when the transcript trait was last made
        self._names_key: tuple[int, ...] | None = None
        _bundle("widget.js")
        _bundle("widget.css")
        super().__init__(saved_id=saved_id, **kwargs)
        self._refresh()
        self._unsubscribe = session.subscribe(self._on_event)
        self.on_msg(self._on_view_message)
        self.observe(self._on_setting, names=["model", "system", "max_tokens"])
        self._start_worker(self._load_models, "nbclaude-widget-models")

    # -- public -------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        """The session this widget shows and continues."""
        return self._session

    @property
    def transcript(self) -> list[proto.Entry]:
        """The conversation as the widget shows it (one entry per message; a reply with its
        tool rounds is one entry)."""
        return self._feed.entries

    def close(self) -> None:
        """Close the widget: stop listening to the session, drop pending images."""
        # Also runs from __del__ on a widget whose __init__ failed: nothing may be assumed.
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
            self._unsubscribe = None
        turn = getattr(self, "_turn", None)
        if turn is not None:
            turn.end()
        attachments = getattr(self, "_attachments", None)
        if attachments is not None:
            attachments.clear()
        approvals = getattr(self, "_approvals", None)
        if approvals is not None:
            approvals.stop()  # a turn waiting for this widget's answer ends (stopped)
        saved = getattr(self, "_saved", None)
        if saved is not None:
            saved.close()  # the saved copy keeps the conversation as it is now
        super().close()

    def __repr__(self) -> str:
        return f"ChatWidget(session={self._session!r})"

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display the widget, and beside it the copy of its conversation that the saved
        notebook keeps (``saved``: readable without a kernel; hidden while the widget lives)."""
        from IPython.display import display

        bundle = self._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, raw=True, metadata=metadata)  # type: ignore[no-untyped-call]
        self._saved.show()

    def _saved_state(self) -> tuple[list[proto.Entry], Transcript]:
        s = self._session
        turns = transcript(
            "widget",
            s.history.snapshot(),
            model=s.model,
            session=s.id,
            shared=s is current(),
            system=s.system,
            secrets=secrets(s.client),
        )
        return self.transcript, turns

    # -- state -> traits ----------------------------------------------------------------------

    def _refresh(self) -> None:
        """Copy everything the front end shows from the session into the traits."""
        s = self._session
        messages = s.history.snapshot()
        tools = list(s.tools)
        busy = s.busy
        entries = tr.transcript(
            messages, s.history.facts(messages), results=dict(self._turn.results), running=busy
        )
        self._shown = len(messages)
        with self._out_lock, self.hold_sync():
            self._syncing = True
            try:
                self._feed.update(entries)
                if not busy:  # once a turn ended (not at each of its steps)
                    self._saved.changed()
                self.busy = busy
                self.usage = s.usage
                self.cost = s.cost
                self.budget = budget_of(s)
                self.model = s.model
                self.system = proto.system_text(s.system)
                self.max_tokens = s.max_tokens
                self.shared = s is shared_session()
                self._refresh_tool_names(tools)
            finally:
                self._syncing = False

    def _refresh_tool_names(self, tools: list[Any]) -> None:
        key = tuple(id(t) for t in tools)
        if key != self._names_key:
            self._names_key = key
            self.tool_names = names_of_tools(tools)

    def _set(self, **traits: Any) -> None:
        with self._out_lock, self.hold_sync():
            self._syncing = True
            try:
                for name, value in traits.items():
                    setattr(self, name, value)
            finally:
                self._syncing = False

    def _post(self, msg: dict[str, Any]) -> None:
        with self._out_lock:
            self.send(msg)

    def _show_approval(self, approval: proto.Approval | None) -> None:
        self._set(approval=None if approval is None else dict(approval))

    def _show_error(self, error: BaseException, *, retry: bool) -> None:
        if not isinstance(error, NbClaudeError):
            log.error("nbclaude ChatWidget: unexpected error", exc_info=error)
        self._set(error=dict(proto.banner(error, retry=retry)))

    def _start_worker(self, target: Callable[[], None], name: str) -> threading.Thread:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # never lose an exception in a thread
                self._show_error(exc, retry=False)

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._workers = [t for t in self._workers if t.is_alive()]
        self._workers.append(thread)
        thread.start()
        return thread

    def _load_models(self) -> None:
        self._set(models=model_list(self._session))

    # -- session events (called in the thread that runs the turn) -----------------------------

    def _on_event(self, event: Mapping[str, Any]) -> None:
        try:
            self._handle_event(event)
        except Exception as exc:
            self._show_error(exc, retry=False)

    def _handle_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        turn = self._turn
        if kind == "delta":
            turn.add(str(event.get("kind") or "text"), str(event.get("text") or ""))
        elif kind == "tool_call":
            self._approvals.call_id = str(event.get("id") or "")
            recorded = len(self._session.history) != self._shown
            if recorded:  # a tool round was recorded: show it, and stream the next step afresh
                turn.step()
                self._refresh()
                self._post({"type": proto.STEP})
        elif kind == "tool_result":
            result = event.get("result")
            if isinstance(result, Mapping) and result.get("tool_use_id"):
                turn.results[str(result["tool_use_id"])] = result
                self._refresh()
        elif kind == "turn_start":
            self._turns.retry_parts = parts_of(event.get("message") or {})
            turn.start(event)
            self._refresh()
            self._set(busy=True, error=None)
            start = {k: event.get(k) for k in ("index", "model", "prefill")}
            self._post({"type": proto.TURN_START, **start})
        elif kind in ("turn_end", "error"):
            turn.end()
            reply = event.get("reply")
            error = event.get("error")
            end: dict[str, Any] = {
                "type": proto.TURN_END,
                "interrupted": kind == "error" or bool(getattr(reply, "interrupted", False)),
            }
            if isinstance(error, BaseException):  # before the rolled-back transcript: the view
                end["error"] = proto.banner(error, retry=False)["message"]  # keeps what came
            self._post(end)
            self._refresh()
            if isinstance(error, BaseException):
                self._show_error(error, retry=self._turns.retry_parts is not None)
            self._set(busy=self._session.busy)
        elif kind == "retry":  # the request failed and is tried again after a wait
            self._post(retry_wait(event))
        elif kind == "stop":  # Stop in any widget on the session, or session.stop() in a cell
            self._approvals.stop()
        elif kind in ("undo", "reset", "change"):
            if kind == "reset":
                self._approvals.forget()
            self._refresh()

    # -- front-end messages (called in the comm handler: must return quickly) ------------------

    def _on_view_message(self, _widget: Any, content: Any, buffers: list[Any] | None) -> None:
        try:
            self._dispatch(content if isinstance(content, dict) else {}, buffers or [])
        except Exception as exc:
            self._show_error(exc, retry=False)

    def _dispatch(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        kind = msg.get("type")
        if kind == proto.SEND:
            ids = [str(i) for i in msg.get("attachments") or []]
            self._turns.send(str(msg.get("text") or ""), ids)
        elif kind == proto.STOP:
            self._session.stop()  # its "stop" event ends the wait of whichever widget asks
        elif kind == proto.APPROVE:
            self._approvals.answer(msg)
        elif kind == proto.RETRY:
            self._turns.retry()
        elif kind == proto.DISMISS:
            self._set(error=None)
        elif kind == proto.CLEAR:
            self._session.reset()
            self._turns.retry_parts = None
            self._set(error=None)
        elif kind == proto.UNDO:
            self._session.undo()
        elif kind == proto.ATTACH:
            self._attachments.add(msg, buffers)
        elif kind == proto.DETACH:
            self._attachments.remove(str(msg.get("id")))
        elif kind == proto.SYNC:
            if msg.get("transcript"):
                self._feed.send_snapshot()
            live = self._turn.snapshot()
            if live is not None:
                self._post(live)
            tools = list(self._session.tools)
            with self._out_lock, self.hold_sync():
                self._refresh_tool_names(tools)

    # -- settings from the front end ----------------------------------------------------------

    def _on_setting(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        try:
            apply_setting(self._session, change["name"], change["new"])
        except (ValueError, TypeError, NbClaudeError) as exc:
            self._show_error(exc, retry=False)
            self._refresh()
