"""``SessionStream``: one turn in progress, including the tool loop.

A turn sends the user message, streams the reply, and, when Claude calls tools, runs them
(asking first unless told not to), sends the results back and streams again, up to
``max_steps`` rounds. It works with the session's parts (:class:`TurnContext`: history, usage,
events, request builder, gate), never with the ``Session`` itself.

The states, in order (:class:`State`)::

    NEW ──> PREPARING ──> SENDING ──> STREAMING ──> DONE
                             ^            │
                             └── TOOLS <──┘   (a reply with tool calls, within max_steps)

- PREPARING holds the session's gate and builds the request; an error there ends the turn
  with nothing recorded.
- SENDING waits for the response to start; STREAMING reads it (text flows to the caller).
- TOOLS has recorded the reply's tool calls and runs them; their results are recorded too.
- DONE: finished (``reply`` set), stopped (``reply`` set, ``interrupted``) or failed (the
  history is as it was before the turn). Observers hear ``turn_end`` or ``error`` either way.

History rules (docs/architecture.md, "History rules"): a failure rolls the whole turn back,
tool rounds included (a stream broken after text arrived too: its ``StreamError`` says so and
holds the text); a stop keeps what was said, with every tool call answered. Each wait for a
retry is a ``retry`` event (``Session.stop()`` cancels it: nothing more is sent).
"""

from __future__ import annotations

import copy
import enum
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from nbclaude._exceptions import BudgetExceededError, NbClaudeError, PolicyError, StreamError
from nbclaude._types import Message, MessageParam

from .events import APPROVAL, DELTA, ERROR, RETRY, TURN_END, TURN_START, Event
from .history import facts_of
from .options import TurnContext, TurnOptions
from .reply import Reply
from .rules import assistant_turn, empty_message, is_blank_text, with_prefill
from .tool_round import Approver, answer_calls, ask_before_running, unanswered

if TYPE_CHECKING:
    from nbclaude._client.client import MessageStream
    from nbclaude._client.retry import RetryNotice
    from nbclaude._tools import ToolBox

__all__ = ["SessionStream", "State"]


class State(enum.Enum):
    """Where a turn is (see the module docstring)."""

    NEW = "new"
    PREPARING = "preparing"
    SENDING = "sending"
    STREAMING = "streaming"
    TOOLS = "tools"
    DONE = "done"


class SessionStream:
    """A turn in progress. Iterate it for the text; :attr:`reply` is set when it ends.

    Created by :meth:`Session.stream`. The request is sent when the ``with`` block is entered
    (or iteration starts). :meth:`close` stops it from any thread. With tools, one turn may
    take several requests (the tool loop); the text of every step streams through.
    """

    def __init__(self, context: TurnContext, parts: Sequence[Any], options: TurnOptions) -> None:
        self._ctx = context
        self._parts = parts
        self._options = options
        self._state = State.NEW
        self._ended = threading.Event()
        self._end_lock = threading.Lock()
        self._stop_asked = False
        self._consuming = False  # a caller is inside the iteration (it ends the turn itself)
        self._params: dict[str, Any] = dict(options.params)
        self._prefill: str | None = None
        self._toolbox: ToolBox | None = None
        self._stream: MessageStream | None = None
        self._user: MessageParam | None = None
        self._start = 0  # the index of the user message in the history
        self._outgoing: list[MessageParam] = []  # what the next request of the loop sends
        self._images: list[dict[str, Any]] = []
        self._steps: list[Reply] = []  # one per recorded tool round
        self._results: list[dict[str, Any]] = []
        self._last_assistant: MessageParam | None = None  # the turn's last one in the history
        self._texts: Iterator[str] | None = None
        #: The finished :class:`Reply` (``None`` until the turn ends).
        self.reply: Reply | None = None

    def __repr__(self) -> str:
        state = {State.NEW: "new", State.DONE: "done"}.get(self._state, "open")
        return f"<SessionStream {state}>"

    @property
    def state(self) -> State:
        """Where the turn is now."""
        return self._state

    # -- start --------------------------------------------------------------------------------

    def _begin(self) -> None:
        if self._state is not State.NEW:
            return
        self._ctx.gate.enter()
        self._state = State.PREPARING
        try:
            self._prepare_and_send()
        except BaseException:
            if self._state is State.PREPARING:  # nothing was sent: nothing else ends the turn
                self._state = State.DONE
                self._ctx.gate.leave()
                self._ended.set()
            raise

    def _prepare_and_send(self) -> None:
        ctx, options = self._ctx, self._options
        self._setup_tools_and_schema()
        out = ctx.builder.turn(
            self._parts,
            prefill=options.prefill,
            params=self._params,
            history=ctx.history.sendable(),
        )
        client = ctx.client()
        self._user, self._prefill, self._images = out.user, out.prefill, out.images
        # Later requests of a tool loop continue from here (without the prefill message).
        self._outgoing = list(out.messages[:-1] if out.prefill else out.messages)
        with ctx.history.lock:
            for index, message in out.refitted.items():  # images made smaller: keep them so
                ctx.history.put(index, message)  # the same refusal cannot come back next turn
            self._start = len(ctx.history)
            if options.record:
                ctx.history.append(out.user)
            ctx.gate.active = self
            self._state = State.SENDING
        try:
            ctx.events.emit({"type": TURN_START, "index": self._start, "message": out.user,
                             "prefill": out.prefill, "model": out.body["model"]})  # fmt: skip
            self._open(client.stream(on_retry=self._retrying, **out.body))
        except BaseException as exc:
            if self._stop_asked and isinstance(exc, Exception):
                # Stopped while waiting: a late error does not fail a stopped turn.
                self._finish(interrupted=True)
                return
            self._fail(exc)
            raise

    def _setup_tools_and_schema(self) -> None:
        ctx, options = self._ctx, self._options
        tools = [*ctx.tools(), *options.tools]
        if tools and options.use_tools:
            self._toolbox, self._params["tools"] = ctx.builder.tool_definitions(tools)
        elif tools and ctx.history.has_tool_blocks():
            # No tools this turn, but the history holds tool calls: the API wants their
            # definitions, so send them and forbid calling any.
            _, self._params["tools"] = ctx.builder.tool_definitions(tools)
            self._params["tool_choice"] = {"type": "none"}
        if options.schema is not None:
            self._params = ctx.builder.with_schema(self._params, options.schema)

    def _open(self, stream: MessageStream) -> None:
        self._stream = stream
        self._state = State.SENDING
        if not self._stop_asked:  # stopped before this: the request is never sent
            stream.__enter__()
        self._state = State.STREAMING
        if self._stop_asked:
            stream.close()

    def _retrying(self, notice: RetryNotice) -> None:
        """The client is about to wait before trying again: tell the observers."""
        self._ctx.events.emit(
            {"type": RETRY, "attempt": notice.attempt, "attempts": notice.attempts,
             "wait": notice.wait, "status": notice.status, "reason": notice.reason,
             "text": str(notice)}
        )  # fmt: skip

    def _approver(self) -> Approver | None:
        options = self._options
        if options.auto_approve:
            return None
        return options.approve or self._ctx.approver() or ask_before_running

    # -- iteration ----------------------------------------------------------------------------

    def __enter__(self) -> SessionStream:
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ended.is_set():
            return
        if self._stream is not None:
            self._stream.close()
        self._finish(interrupted=True)

    def __iter__(self) -> Iterator[str]:
        if self._texts is None:
            self._begin()
            self._texts = self._run()
        return self._texts

    def _run(self) -> Iterator[str]:
        if self._stream is None or self._ended.is_set():
            return
        self._consuming = True
        try:
            while True:
                stream = self._stream
                yield from self._step_texts(stream)
                if stream.closed:
                    self._finish(interrupted=True)
                    return
                message = stream.get_final_message()
                calls = [b for b in message["content"] if b.get("type") == "tool_use"]
                if not (
                    calls and self._toolbox is not None and message.get("stop_reason") == "tool_use"
                ):
                    self._finish(interrupted=False)
                    return
                if not self._tool_round(stream, message, calls, self._toolbox):
                    self._finish(interrupted=False)  # the step limit was reached
                    return
                if self._stop_asked:  # stopped while the tools ran: no further request
                    self._finish(interrupted=True)
                    return
                body = self._ctx.builder.body(self._outgoing, self._params)
                self._open(self._ctx.client().stream(on_retry=self._retrying, **body))
        except (BudgetExceededError, PolicyError):
            # The next request of the loop was refused before it was sent: what was done (and
            # paid for) stays, with every tool call answered, like a stop.
            self._finish(interrupted=True)
            raise
        except NbClaudeError as exc:  # a request of the loop failed, or was refused
            self._fail(exc)
            raise
        except BaseException:
            # KeyboardInterrupt, GeneratorExit (the loop was left early, or the caller's loop
            # body raised): the reply was stopped, not failed.
            if self._stream is not None:
                self._stream.close()
            self._finish(interrupted=True)
            raise
        finally:
            self._consuming = False

    def _step_texts(self, stream: MessageStream) -> Iterator[str]:
        emit = self._ctx.events.emit
        for event in stream:
            if event.get("type") != "content_block_delta":
                continue
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text") or ""
                emit({"type": DELTA, "kind": "text", "text": text})
                yield text
            elif dtype == "thinking_delta":
                emit({"type": DELTA, "kind": "thinking", "text": delta.get("thinking", "")})

    def _record(self, message: MessageParam) -> None:
        self._outgoing.append(message)
        if self._options.record:
            self._ctx.history.append(message)
            if message["role"] == "assistant":
                self._last_assistant = message

    def _tool_round(
        self, stream: MessageStream, message: Message, calls: list[dict[str, Any]], box: ToolBox
    ) -> bool:
        """Record the reply's tool calls, run them and record their results; ``False`` when
        the step limit stopped the loop (the calls are then answered "not run")."""
        first = not self._steps
        step = Reply(
            message, request_id=stream.request_id, prefill=self._prefill if first else None
        )
        self._steps.append(step)
        self._ctx.usage.add(step.model or self._ctx.builder.model(self._params), step.usage)
        content = [copy.deepcopy(b) for b in message["content"] if not is_blank_text(b)]
        if first and self._prefill:
            content = with_prefill(content, self._prefill)
        self._record({"role": "assistant", "content": content})
        self._state = State.TOOLS
        limit = self._options.max_steps
        if len(self._steps) > limit:
            why = f"Not run: this turn reached its limit of {limit} tool steps."
            results, interrupted = [unanswered(why, call) for call in calls], None
        else:
            results, interrupted = answer_calls(
                calls, toolbox=box, approve=self._approver(), emit=self._emit_round
            )
        self._results += results
        self._record({"role": "user", "content": list(results)})
        if interrupted is not None:
            raise interrupted
        return len(self._steps) <= limit

    def close(self) -> None:
        """Stop the reply now (any thread). What was generated so far is kept, marked
        ``interrupted``."""
        self._stop_asked = True
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._state is not State.NEW and not self._consuming and stream is not None:
            self._finish(interrupted=True)

    @property
    def done(self) -> bool:
        """Whether the turn has ended (finished, stopped or failed)."""
        return self._ended.is_set()

    @property
    def text(self) -> str:
        """The text so far (while streaming) or the reply's text."""
        if self.reply is not None:
            return self.reply.text
        stream = self._stream
        message = stream.current_message if stream is not None else None
        if not message:
            return ""
        return "".join(b.get("text") or "" for b in message["content"] if b.get("type") == "text")

    # -- endings ------------------------------------------------------------------------------

    def _emit_round(self, event: Event) -> None:
        """A tool round's events; the gate keeps the call that waits for an answer."""
        if event["type"] == APPROVAL:
            self._ctx.gate.waiting = event if event["waiting"] else None
        self._ctx.events.emit(event)

    def _release(self) -> None:
        gate = self._ctx.gate
        with self._ctx.history.lock:
            if gate.active is self:
                gate.active = None
                gate.waiting = None
        self._state = State.DONE
        gate.leave()
        self._ended.set()

    def _fail(self, exc: BaseException) -> None:
        with self._end_lock:
            if self._ended.is_set():
                return
            if self._options.record and self._user is not None:
                # Roll back the whole turn: our user message and any tool rounds after it.
                self._ctx.history.rollback(self._start, self._user)
            if isinstance(exc, StreamError):
                _say_what_was_kept(exc, recorded=self._options.record and self._user is not None)
            self._release()
        # Observers always learn that the turn ended, even on a KeyboardInterrupt.
        error = (
            exc
            if isinstance(exc, Exception)
            else NbClaudeError("Interrupted before the reply started; nothing was recorded.")
        )
        self._ctx.events.emit({"type": ERROR, "error": error})

    def _finish(self, *, interrupted: bool) -> None:
        with self._end_lock:
            if self._ended.is_set():
                return
            reply, recorded = self._make_reply(interrupted=interrupted)
            self.reply = reply
            self._release()
        self._ctx.events.emit({"type": TURN_END, "reply": reply, "recorded": recorded})

    def _make_reply(self, *, interrupted: bool) -> tuple[Reply, bool]:
        """The turn's :class:`Reply`, recorded in the history as the rules say."""
        ctx, record = self._ctx, self._options.record
        stream = self._stream
        message: Message | None = None
        if stream is not None:
            message = stream.current_message if interrupted else stream.get_final_message()
        if message is None:
            message = empty_message(ctx.builder.model(self._params))
        first = not self._steps
        step_recorded = self._state is State.TOOLS  # this reply's tool round is in the history
        reply = Reply(
            message,
            prefill=self._prefill if first or (step_recorded and len(self._steps) == 1) else None,
            request_id=stream.request_id if stream is not None else None,
            interrupted=interrupted,
            images=self._images,
            steps=self._steps[:-1] if step_recorded else self._steps,
            tool_results=self._results,
            schema=self._options.schema,
        )
        recorded = False
        with ctx.history.lock:
            if step_recorded:
                recorded = record
            elif record and self._user is not None:
                assistant = assistant_turn(
                    message, self._prefill if first else None, interrupted=interrupted
                )
                if assistant is not None:
                    ctx.history.append(assistant)
                    self._last_assistant = assistant
                    recorded = True
                elif first and ctx.history.drop_last(self._user):
                    pass  # nothing to keep: the turn is rolled back
                else:
                    recorded = not first
            if recorded and self._last_assistant is not None:
                ctx.history.note_reply(self._last_assistant, facts_of(reply))
            if not step_recorded and stream is not None and stream.current_message is not None:
                ctx.usage.add(reply.model or ctx.builder.model(self._params), reply.usage)
        return reply, recorded


def _say_what_was_kept(error: StreamError, *, recorded: bool) -> None:
    """Tell, in the error, what became of the text that arrived before the stream broke."""
    partial = error.partial if isinstance(error.partial, dict) else {}
    n = sum(len(b.get("text") or "") for b in partial.get("content") or [] if isinstance(b, dict))
    where = "the turn was rolled back" if recorded else "nothing was recorded"
    if n:
        error.hint = (f"The {n:,} characters that arrived are not in the history ({where}; "
                      "they are in the error's .partial): ask again.")  # fmt: skip
