"""``ChatWidget``: the chat UI (anywidget) on a shared :class:`~nbclaude.Session`.

How it works (the protocol is in :mod:`nbclaude._protocol` and ``js/protocol.js``):

* The widget subscribes to its session, so turns from anywhere (this widget, another widget,
  ``%%claude``, ``Session.send``) show up live in every widget on that session.
* Turns started here run in a worker thread, never in the comm handler, so "Stop" is handled
  at once (it closes the HTTP stream; the partial reply is kept, marked as stopped).
* Deltas go to the front end as custom messages, coalesced every ~100 ms and carrying only new
  text; the finished transcript lives in the ``transcript`` trait.
* Images come from the browser as binary buffers and go through ``nbclaude.image``'s pipeline.
* Tools: the "Let Claude use tools" switch (``use_tools``) decides whether this widget's turns
  may call ``session.tools``. Each call of a turn started here waits for "Run tool" / "Deny
  tool" in this widget (the ``approval`` trait; Stop denies it and ends the turn). Tool calls
  from other turns (``%%claude`` asks in its cell) are only shown. Calls, their results and
  thinking appear collapsed in the transcript, rebuilt from ``session.messages``.
* Every failure shows in the widget's error banner (with Retry when it makes sense) and in the
  kernel log: exceptions in comm handlers would otherwise vanish.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from . import _protocol as proto
from ._exceptions import ImageError, NbClaudeError
from ._models_info import FALLBACK_MODELS

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["ChatWidget"]

log = logging.getLogger("nbclaude.widget")

_STATIC = Path(__file__).parent / "static"
#: How often deltas are sent to the front end while a reply streams (seconds).
DELTA_INTERVAL = 0.1


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


class _DeltaPump:
    """Collects text deltas and sends them at most every ``interval`` seconds, in order."""

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


# Reply facts (model, tokens, stopped) by id() of the recorded assistant message, shared by
# all widgets; the message itself is kept so a reused id() can never match.
_METAS: dict[int, tuple[Mapping[str, Any], proto.Meta]] = {}
_METAS_LOCK = threading.Lock()
_METAS_MAX = 4096


def _remember_meta(message: Mapping[str, Any], meta: proto.Meta) -> None:
    with _METAS_LOCK:
        if len(_METAS) >= _METAS_MAX:
            _METAS.pop(next(iter(_METAS)))
        _METAS[id(message)] = (message, meta)


def _metas_for(messages: list[Any]) -> dict[int, proto.Meta]:
    with _METAS_LOCK:
        out: dict[int, proto.Meta] = {}
        for m in messages:
            found = _METAS.get(id(m))
            if found is not None and found[0] is m:
                out[id(m)] = found[1]
        return out


class _StoppedWhileAskingError(Exception):
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


def _tool_names(tools: list[Any]) -> list[str]:
    """The names of ``session.tools`` as the API will see them."""
    from ._tool_def import Tool

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

    transcript = traitlets.List(traitlets.Dict()).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    usage = traitlets.Dict().tag(sync=True)
    cost = traitlets.Float(None, allow_none=True).tag(sync=True)
    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    system = traitlets.Unicode("").tag(sync=True)
    max_tokens = traitlets.Int(1024).tag(sync=True)
    error = traitlets.Instance(dict, allow_none=True).tag(sync=True)
    tool_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    use_tools = traitlets.Bool(True).tag(sync=True)
    approval = traitlets.Instance(dict, allow_none=True).tag(sync=True)

    def __init__(self, session: Session | None = None, **kwargs: Any) -> None:
        from ._session import Session, get_session

        if session is None:
            session = get_session()
        elif not isinstance(session, Session):
            raise TypeError(
                f"ChatWidget(session=...) needs an nbclaude.Session, not {type(session).__name__}"
            )
        self._session = session
        self._out_lock = threading.RLock()  # one sender at a time: turn thread vs comm handler
        self._syncing = False
        self._pump: _DeltaPump | None = None
        self._live: dict[str, Any] | None = None
        self._retry_parts: list[Any] | None = None
        self._attachments: dict[str, Future[dict[str, Any]]] = {}
        self._workers: list[threading.Thread] = []
        self._unsubscribe: Callable[[], None] | None = None
        # tools: results of the running turn not yet in the history, the call being asked
        # about, tools allowed for the rest of the chat, and Stop pressed during our turn
        self._results: dict[str, Mapping[str, Any]] = {}
        self._shown = 0  # len(session.messages) when the transcript trait was last made
        self._call_id = ""
        self._pending: _Pending | None = None
        self._pending_lock = threading.Lock()
        self._allowed: set[str] = set()
        self._stopping = False
        self._names_key: tuple[int, ...] | None = None
        _bundle("widget.js")
        _bundle("widget.css")
        super().__init__(**kwargs)
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

    def close(self) -> None:
        """Close the widget: stop listening to the session, drop pending images."""
        # Also runs from __del__ on a widget whose __init__ failed: nothing may be assumed.
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
            self._unsubscribe = None
        pump = getattr(self, "_pump", None)
        if pump is not None:
            pump.close()
            self._pump = None
        getattr(self, "_attachments", {}).clear()
        if hasattr(self, "_pending_lock"):
            self._stop_asking()  # a turn waiting for this widget's answer ends (stopped)
        super().close()

    def __repr__(self) -> str:
        return f"ChatWidget(session={self._session!r})"

    # -- state -> traits ----------------------------------------------------------------------

    def _refresh(self) -> None:
        """Copy everything the front end shows from the session into the traits."""
        s = self._session
        with s._state:
            messages = list(s.messages)
            tools = list(s.tools)
        busy = s.busy
        entries = proto.transcript(
            messages, _metas_for(messages), results=dict(self._results), running=busy
        )
        self._shown = len(messages)
        with self._out_lock, self.hold_sync():
            self._syncing = True
            try:
                self.transcript = [dict(e) for e in entries]
                self.busy = busy
                self.usage = s.usage
                self.cost = s.cost
                self.model = s.model
                self.system = proto.system_text(s.system)
                self.max_tokens = s.max_tokens
                self._refresh_tool_names(tools)
            finally:
                self._syncing = False

    def _refresh_tool_names(self, tools: list[Any]) -> None:
        key = tuple(id(t) for t in tools)
        if key != self._names_key:
            self._names_key = key
            self.tool_names = _tool_names(tools)

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
        try:
            choices = proto.model_choices(self._session.models())
        except Exception:  # no key yet, offline, network: the built-in list will do
            choices = []
        if not choices:
            choices = proto.model_choices(FALLBACK_MODELS)
        self._set(models=choices)

    # -- session events (called in the thread that runs the turn) -----------------------------

    def _on_event(self, event: Mapping[str, Any]) -> None:
        try:
            self._handle_event(event)
        except Exception as exc:
            self._show_error(exc, retry=False)

    def _handle_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "delta":
            text = str(event.get("text") or "")
            live = self._live
            if live is not None:
                key = "thinking" if event.get("kind") == "thinking" else "text"
                live[key] += text
            pump = self._pump
            if pump is not None:
                pump.push(str(event.get("kind") or "text"), text)
        elif kind == "tool_call":
            self._call_id = str(event.get("id") or "")
            with self._session._state:
                recorded = len(self._session.messages) != self._shown
            if recorded:  # a tool round was recorded: show it, and stream the next step afresh
                self._end_pump()
                live = self._live
                if live is not None:
                    live.update(text="", thinking="", prefill=None)
                self._refresh()
                self._post({"type": proto.STEP})
                self._pump = _DeltaPump(self._post, DELTA_INTERVAL)
        elif kind == "tool_result":
            result = event.get("result")
            if isinstance(result, Mapping) and result.get("tool_use_id"):
                self._results[str(result["tool_use_id"])] = result
                self._refresh()
        elif kind == "turn_start":
            message = event.get("message") or {}
            self._retry_parts = _parts_of(message)
            self._results = {}
            self._live = {
                "index": event.get("index"),
                "model": event.get("model"),
                "prefill": event.get("prefill"),
                "text": "",
                "thinking": "",
            }
            old = self._pump
            if old is not None:
                old.close()
            self._refresh()
            self._set(busy=True, error=None)
            self._post(
                {
                    "type": proto.TURN_START,
                    "index": event.get("index"),
                    "model": event.get("model"),
                    "prefill": event.get("prefill"),
                }
            )
            self._pump = _DeltaPump(self._post, DELTA_INTERVAL)
        elif kind == "turn_end":
            self._end_pump()
            reply = event.get("reply")
            if reply is not None and event.get("recorded"):
                last = self._last_reply_message()
                if last is not None:
                    _remember_meta(last, _meta_of(reply))
            self._live = None
            self._results = {}
            self._refresh()
            interrupted = bool(getattr(reply, "interrupted", False))
            self._post({"type": proto.TURN_END, "interrupted": interrupted})
            self._set(busy=self._session.busy)
        elif kind == "error":
            self._end_pump()
            self._live = None
            self._results = {}
            self._refresh()
            self._post({"type": proto.TURN_END, "interrupted": True})
            error = event.get("error")
            if isinstance(error, BaseException):
                self._show_error(error, retry=self._retry_parts is not None)
            self._set(busy=self._session.busy)
        elif kind == "stop":  # Stop in any widget on the session, or session.stop() in a cell
            self._stop_asking()
        elif kind in ("undo", "reset", "change"):
            if kind == "reset":
                self._allowed.clear()  # "always allow" lasts for one chat
            self._refresh()

    def _last_reply_message(self) -> Mapping[str, Any] | None:
        """The last assistant message of the turn that just ended (after its tool rounds)."""
        start = self._live.get("index") if self._live is not None else None
        with self._session._state:
            messages = self._session.messages
            first = start if isinstance(start, int) else len(messages) - 1
            found: Mapping[str, Any] | None = None
            for message in reversed(messages[max(first, 0) :]):
                if message.get("role") == "assistant":
                    found = message
                    break
        return found

    def _end_pump(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.close()

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
            self._send_turn(str(msg.get("text") or ""), ids)
        elif kind == proto.STOP:
            self._session.stop()  # its "stop" event ends the wait of whichever widget asks
        elif kind == proto.APPROVE:
            self._answer(msg)
        elif kind == proto.RETRY:
            parts = self._retry_parts
            if parts:
                self._set(error=None)
                self._start_worker(lambda: self._run_turn(parts), "nbclaude-widget-turn")
        elif kind == proto.DISMISS:
            self._set(error=None)
        elif kind == proto.CLEAR:
            self._session.reset()
            self._retry_parts = None
            self._set(error=None)
        elif kind == proto.UNDO:
            self._session.undo()
        elif kind == proto.ATTACH:
            self._attach(msg, buffers)
        elif kind == proto.DETACH:
            self._attachments.pop(str(msg.get("id")), None)
        elif kind == proto.SYNC:
            live = self._live
            if live is not None:
                self._post({"type": proto.LIVE, **live})
            with self._session._state:
                tools = list(self._session.tools)
            with self._out_lock, self.hold_sync():
                self._refresh_tool_names(tools)

    def _attach(self, msg: Mapping[str, Any], buffers: list[Any]) -> None:
        att_id = str(msg.get("id") or "")
        name = str(msg.get("name") or "image")
        future: Future[dict[str, Any]] = Future()
        self._attachments[att_id] = future

        def fail(text: str) -> None:
            future.set_exception(ImageError(text))
            self._post({"type": proto.ATTACHED, "id": att_id, "ok": False, "error": text})

        if not buffers:
            fail(f"{name}: no image data arrived; attach it again.")
            return
        data = bytes(buffers[0])
        if len(data) > proto.MAX_UPLOAD_BYTES:
            fail(f"{name} is too large ({len(data) / 2**20:.1f} MB); the limit is 20 MB.")
            return

        def convert() -> None:
            from ._images import image_from_bytes

            try:
                block = image_from_bytes(data, origin=name)
            except ImageError as exc:
                fail(str(exc))
                return
            except Exception as exc:
                log.exception("nbclaude ChatWidget: converting %s failed", name)
                fail(f"{name} could not be read as an image ({type(exc).__name__}).")
                return
            future.set_result(block)
            self._post({"type": proto.ATTACHED, "id": att_id, "ok": True})

        self._start_worker(convert, "nbclaude-widget-image")

    def _send_turn(self, text: str, ids: list[str]) -> None:
        futures = [self._attachments.pop(i) for i in ids if i in self._attachments]
        self._attachments.clear()  # anything not sent now was removed in the browser

        def run() -> None:
            blocks: list[Any] = []
            for future in futures:
                try:
                    blocks.append(future.result(timeout=60))
                except Exception as exc:
                    self._post({"type": proto.DRAFT, "text": text})
                    self._show_error(exc, retry=False)
                    return
            parts = [*blocks, text] if text.strip() else blocks
            if not parts:
                return
            self._run_turn(parts, draft=text)

        self._set(error=None)
        self._start_worker(run, "nbclaude-widget-turn")

    def _run_turn(self, parts: list[Any], *, draft: str = "") -> None:
        """Run one turn (worker thread). Events update the view; errors before the turn
        started (nothing was sent) put the text back into the composer."""
        started: list[bool] = []

        def seen(event: Mapping[str, Any]) -> None:
            if event.get("type") == "turn_start":
                started.append(True)

        unsubscribe = self._session.subscribe(seen)
        with self._pending_lock:
            self._stopping = False
        try:
            self._session.send(*parts, **self._tool_options())
        except _StoppedWhileAskingError:
            pass  # Stop during an approval: the session kept the turn, marked stopped
        except NbClaudeError as exc:
            if not started:  # refused before sending: no error event was emitted
                if draft:
                    self._post({"type": proto.DRAFT, "text": draft})
                self._show_error(exc, retry=False)
        except Exception as exc:
            if not started and draft:
                self._post({"type": proto.DRAFT, "text": draft})
            self._show_error(exc, retry=False)
        finally:
            unsubscribe()

    # -- tools --------------------------------------------------------------------------------

    def _tool_options(self) -> dict[str, Any]:
        """What this widget's turns pass to ``Session.send`` about tools."""
        if not self.use_tools:
            return {"use_tools": False}
        return {"approve": self._approve} if self._session.tools else {}

    def _approve(self, name: str, arguments: dict[str, Any]) -> bool:
        """Ask in the widget whether to run a tool call (runs in the turn's worker thread)."""
        if name in self._allowed and not self._stopping:
            return True
        pending = _Pending(id=self._call_id, name=name)
        with self._pending_lock:  # Stop either sees this call or has already been pressed
            if self._stopping:
                raise _StoppedWhileAskingError()
            self._pending = pending
        try:
            self._set(approval=dict(proto.approval(pending.id, name, arguments)))
            pending.answered.wait()
        finally:
            with self._pending_lock:
                if self._pending is pending:
                    self._pending = None
            try:
                self._set(approval=None)
            except Exception:  # the widget was closed meanwhile
                log.debug("nbclaude ChatWidget: could not clear the approval", exc_info=True)
        if pending.stopped:
            raise _StoppedWhileAskingError()
        if pending.allow and pending.always:
            self._allowed.add(name)
        return pending.allow

    def _answer(self, msg: Mapping[str, Any]) -> None:
        """The user clicked "Run tool" or "Deny tool" (comm handler: returns at once)."""
        with self._pending_lock:
            pending = self._pending
            if pending is None or pending.id != str(msg.get("id") or ""):
                return  # a stale answer (another view answered first, or the turn ended)
            pending.allow = msg.get("allow") is True
            pending.always = msg.get("always") is True
            self._pending = None
        pending.answered.set()

    def _stop_asking(self) -> None:
        """Stop was pressed (or the widget closed): end the wait, and ask nothing more in this
        turn."""
        with self._pending_lock:
            self._stopping = True
            pending, self._pending = self._pending, None
        if pending is not None:
            pending.stopped = True
            pending.answered.set()

    # -- settings from the front end ----------------------------------------------------------

    def _on_setting(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        name, value = change["name"], change["new"]
        s = self._session
        try:
            if name == "model" and value and value != s.model:
                s.model = str(value)
            elif name == "system" and value != proto.system_text(s.system):
                s.system = str(value) or None
            elif name == "max_tokens" and value != s.max_tokens:
                s.max_tokens = int(value)
        except (ValueError, TypeError, NbClaudeError) as exc:
            self._show_error(exc, retry=False)
            self._refresh()


def _parts_of(message: Mapping[str, Any]) -> list[Any]:
    """The parts that recreate a user message (for Retry)."""
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    return [dict(b) for b in content or [] if isinstance(b, Mapping)]


def _meta_of(reply: Any) -> proto.Meta:
    usage = getattr(reply, "usage", None) or {}
    meta: proto.Meta = {
        "model": str(getattr(reply, "model", "") or ""),
        "stop_reason": getattr(reply, "stop_reason", None),
        "interrupted": bool(getattr(reply, "interrupted", False)),
        "output_tokens": int(usage.get("output_tokens") or 0),
    }
    cost = getattr(reply, "cost", None)
    if isinstance(cost, (int, float)):
        meta["cost"] = float(cost)
    return meta
