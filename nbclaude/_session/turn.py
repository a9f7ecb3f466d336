"""``SessionStream``: one turn in progress, including the tool loop.

A turn sends the user message, streams the reply, and, when Claude calls tools, runs them
(asking first unless told not to), sends the results back and streams again, up to
``max_steps`` rounds. The history stays valid at every point (DESIGN.md §3): a failure rolls the
whole turn back; a stop keeps what was said, with every tool call answered.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from nbclaude._exceptions import APIError, InvalidRequestError, NbClaudeError
from nbclaude._types import Message, MessageParam

from .history import assistant_turn, empty_message, has_tool_blocks, is_blank_text, with_prefill
from .reply import Reply

if TYPE_CHECKING:
    from nbclaude._client.client import MessageStream
    from nbclaude._tools import ToolBox

    from .session import Session

__all__ = ["Approver", "SessionStream", "Turn", "ask_before_running"]

log = logging.getLogger("nbclaude")

Approver = Callable[[str, dict[str, Any]], bool]


@dataclass
class Turn:
    user: MessageParam
    prefill: str | None
    body: dict[str, Any]
    images: list[dict[str, Any]]
    messages: list[MessageParam]  # what was sent, before cache breakpoints


class SessionStream:
    """A turn in progress. Iterate it for the text; :attr:`reply` is set when it ends.

    Created by :meth:`Session.stream`. The request is sent when the ``with`` block is entered
    (or iteration starts). :meth:`close` stops it from any thread. With tools, one turn may
    take several requests (the tool loop); the text of every step streams through.
    """

    def __init__(
        self,
        session: Session,
        parts: Sequence[Any],
        *,
        prefill: str | None,
        record: bool,
        params: Mapping[str, Any],
        tools: Sequence[Any] | None = None,
        approve: Approver | None = None,
        auto_approve: bool = False,
        max_steps: int = 10,
        schema: Any = None,
        use_tools: bool = True,
    ) -> None:
        self._session = session
        self._use_tools = use_tools
        self._parts = parts
        self._prefill = prefill
        self._record = record
        self._params = dict(params)
        self._tools = list(tools or [])
        self._approve_arg = approve
        self._auto_approve = auto_approve
        self._max_steps = max_steps
        self._schema = schema
        self._toolbox: ToolBox | None = None
        self._stream: MessageStream | None = None
        self._started = False
        self._done = threading.Event()
        self._finish_lock = threading.Lock()
        self._iterating = False
        self._closed = False
        self._locked = False
        self._user: MessageParam | None = None
        self._start_index = 0
        self._outgoing: list[MessageParam] = []
        self._steps: list[Reply] = []
        self._results: list[dict[str, Any]] = []
        self._current_recorded = False
        self._images: list[dict[str, Any]] = []
        self._gen: Iterator[str] | None = None
        #: The finished :class:`Reply` (``None`` until the turn ends).
        self.reply: Reply | None = None

    def __repr__(self) -> str:
        state = "done" if self._done.is_set() else ("open" if self._started else "new")
        return f"<SessionStream {state}>"

    # -- start --------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        session = self._session
        me = threading.get_ident()
        if session._turn_owner == me:
            raise InvalidRequestError(
                "A turn is already running in this thread (an event callback cannot send)."
            )
        session._turn_lock.acquire()
        session._turn_owner = me
        self._locked = True
        try:
            self._prepare_and_send()
        except BaseException:
            self._unlock()
            self._done.set()
            raise

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self._session._turn_owner = None
            self._session._turn_lock.release()

    def _prepare_and_send(self) -> None:
        session = self._session
        self._setup_tools_and_schema()
        turn = session._build_turn(
            self._parts, prefill=self._prefill, params=self._params, keep_fitted=True
        )
        user, prefill, body = turn.user, turn.prefill, turn.body
        self._images = turn.images
        # Later requests of a tool loop continue from here (without the prefill message).
        self._outgoing = list(turn.messages[:-1] if prefill else turn.messages)
        client = session.client
        self._user = user
        self._prefill = prefill
        with session._state:
            session._active = self
            self._start_index = len(session.messages)
            if self._record:
                session.messages.append(user)
        session._emit(
            {
                "type": "turn_start",
                "index": self._start_index,
                "message": user,
                "prefill": prefill,
                "model": body["model"],
            }
        )
        try:
            self._open(client.stream(**body))
        except BaseException as exc:
            if self._closed and isinstance(exc, Exception):
                return  # stopped while waiting: the turn is already over; ignore a late error
            self._fail(exc)
            raise

    def _setup_tools_and_schema(self) -> None:
        from nbclaude._tools import ToolBox

        session = self._session
        runnable: list[Any] = []
        server: list[dict[str, Any]] = []
        for tool in [*session.tools, *self._tools]:
            if isinstance(tool, Mapping) and tool.get("type") not in (None, "custom"):
                server.append(dict(tool))  # a server tool (web search, ...): the API runs it
            else:
                runnable.append(tool)
        if (runnable or server) and self._use_tools:
            self._toolbox = ToolBox(runnable)
            self._params["tools"] = [*self._toolbox.specs(), *server]
        elif (runnable or server) and has_tool_blocks(session.messages):
            # No tools this turn, but the history holds tool calls: the API wants their
            # definitions, so send them and forbid calling any.
            self._params["tools"] = [*ToolBox(runnable).specs(), *server]
            self._params["tool_choice"] = {"type": "none"}
        if self._schema is not None:
            from nbclaude._schema import output_format

            config = dict(
                self._params.get("output_config") or session.params.get("output_config") or {}
            )
            config["format"] = output_format(self._schema)
            self._params["output_config"] = config

    def _open(self, stream: MessageStream) -> None:
        self._stream = stream
        self._current_recorded = False
        stream.__enter__()
        if self._closed:
            stream.close()

    def _approver(self) -> Approver | None:
        if self._auto_approve:
            return None
        return self._approve_arg or self._session.approver or ask_before_running

    # -- iteration ----------------------------------------------------------------------------

    def __enter__(self) -> SessionStream:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done.is_set():
            return
        if self._stream is not None:
            self._stream.close()
        self._finish(interrupted=True)

    def __iter__(self) -> Iterator[str]:
        if self._gen is None:
            self._start()
            self._gen = self._texts()
        return self._gen

    def _texts(self) -> Iterator[str]:
        if self._stream is None or self._done.is_set():
            return
        self._iterating = True
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
                if not self._run_tools(stream, message, calls):
                    self._finish(interrupted=False)  # the step limit was reached
                    return
                if self._closed:  # stopped while the tools ran: no further request
                    self._finish(interrupted=True)
                    return
                body = self._session._request_body(self._outgoing, self._params)
                self._open(self._session.client.stream(**body))
        except APIError as exc:
            self._fail(exc)
            raise
        except BaseException:
            # KeyboardInterrupt, GeneratorExit (the loop was left early), an error in the
            # caller's loop body: the reply was stopped, not failed.
            if self._stream is not None:
                self._stream.close()
            self._finish(interrupted=True)
            raise
        finally:
            self._iterating = False

    def _step_texts(self, stream: MessageStream) -> Iterator[str]:
        emit = self._session._emit
        for event in stream:
            if event.get("type") != "content_block_delta":
                continue
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text") or ""
                emit({"type": "delta", "kind": "text", "text": text})
                yield text
            elif dtype == "thinking_delta":
                emit({"type": "delta", "kind": "thinking", "text": delta.get("thinking", "")})

    def _record_step(self, message: MessageParam) -> None:
        self._outgoing.append(message)
        if self._record:
            with self._session._state:
                self._session.messages.append(message)

    def _run_tools(
        self, stream: MessageStream, message: Message, calls: list[dict[str, Any]]
    ) -> bool:
        """Run one round of tool calls and record it; ``False`` when the step limit stopped
        the loop (the calls are then answered "not run")."""
        from nbclaude._tools import ToolResult, run_tool_call

        session = self._session
        step = Reply(
            message, request_id=stream.request_id, prefill=None if self._steps else self._prefill
        )
        self._steps.append(step)
        session._add_usage(step.model or session.model, step.usage)
        content = [copy.deepcopy(b) for b in message["content"] if not is_blank_text(b)]
        if not self._steps[1:] and self._prefill:
            content = with_prefill(content, self._prefill)
        self._record_step({"role": "assistant", "content": content})
        self._current_recorded = True

        def unanswered(reason: str, block: Mapping[str, Any]) -> ToolResult:
            return ToolResult(
                {"type": "tool_result", "tool_use_id": block.get("id", ""), "content": reason,
                 "is_error": True},
                name=str(block.get("name", "")), input=block.get("input") or {},
            )  # fmt: skip

        results: list[dict[str, Any]] = []
        if len(self._steps) > self._max_steps:
            why = f"Not run: this turn reached its limit of {self._max_steps} tool steps."
            results = [unanswered(why, call) for call in calls]
            self._results += results
            self._record_step({"role": "user", "content": results})
            return False
        approve = self._approver()
        try:
            for call in calls:
                session._emit({"type": "tool_call", "id": call.get("id"), "name": call.get("name"),
                               "input": call.get("input")})  # fmt: skip
                result = run_tool_call(call, self._toolbox, approve=approve)
                results.append(result)
                session._emit({"type": "tool_result", "result": result})
        except BaseException:
            # Interrupted while a tool ran: answer every call, so the history stays valid.
            done = {r["tool_use_id"] for r in results}
            results += [
                unanswered("Interrupted by the user.", c) for c in calls if c.get("id") not in done
            ]
            self._results += results
            self._record_step({"role": "user", "content": results})
            raise
        self._results += results
        self._record_step({"role": "user", "content": results})
        return True

    def close(self) -> None:
        """Stop the reply now (any thread). What was generated so far is kept, marked
        ``interrupted``."""
        self._closed = True
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._started and not self._iterating and stream is not None:
            self._finish(interrupted=True)

    @property
    def done(self) -> bool:
        """Whether the turn has ended (finished, stopped or failed)."""
        return self._done.is_set()

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

    def _release(self) -> None:
        session = self._session
        with session._state:
            if session._active is self:
                session._active = None
        self._unlock()
        self._done.set()

    def _fail(self, exc: BaseException) -> None:
        with self._finish_lock:
            if self._done.is_set():
                return
            session = self._session
            with session._state:
                # Roll back the whole turn: our user message and any tool steps after it.
                start = self._start_index
                if (
                    self._record
                    and self._user is not None
                    and len(session.messages) > start
                    and session.messages[start] is self._user
                ):
                    del session.messages[start:]
            self._release()
        # Observers always learn that the turn ended, even on a KeyboardInterrupt.
        error = (
            exc
            if isinstance(exc, Exception)
            else NbClaudeError("Interrupted before the reply started; nothing was recorded.")
        )
        session._emit({"type": "error", "error": error})

    def _finish(self, *, interrupted: bool) -> None:
        with self._finish_lock:
            if self._done.is_set():
                return
            session = self._session
            stream = self._stream
            message: Message | None = None
            if stream is not None:
                message = stream.current_message if interrupted else stream.get_final_message()
            request_id = stream.request_id if stream is not None else None
            if message is None:
                message = empty_message(self._params.get("model") or session.model)
            first = not self._steps
            steps = self._steps[:-1] if self._current_recorded else self._steps
            reply = Reply(
                message,
                prefill=self._prefill
                if first or (self._current_recorded and len(self._steps) == 1)
                else None,
                request_id=request_id,
                interrupted=interrupted,
                images=self._images,
                steps=steps,
                tool_results=self._results,
                schema=self._schema,
            )
            recorded = False
            with session._state:
                if self._current_recorded:
                    recorded = self._record  # this step and its results are in the history
                elif self._record and self._user is not None:
                    assistant = assistant_turn(
                        message, self._prefill if first else None, interrupted=interrupted
                    )
                    if assistant is not None:
                        session.messages.append(assistant)
                        recorded = True
                    elif first and session.messages and session.messages[-1] is self._user:
                        session.messages.pop()  # nothing to keep: roll the turn back
                    else:
                        recorded = not first
                if (
                    not self._current_recorded
                    and stream is not None
                    and stream.current_message is not None
                ):
                    session._add_usage(reply.model or session.model, reply.usage)
            self.reply = reply
            self._release()
        session._emit({"type": "turn_end", "reply": reply, "recorded": recorded})


def ask_before_running(name: str, arguments: dict[str, Any]) -> bool:
    """The default approval: ask in the cell (or terminal) whether to run a tool call.

    A running notebook cell cannot receive widget button clicks (the kernel handles them only
    between cells), so the question is asked with ``input()``, which every front end shows as
    a text box under the cell. Where nobody can answer (a headless run), the call is declined:
    pass ``auto_approve=True`` to run tools without asking.
    """
    args = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    if len(args) > 300:
        args = args[:297] + "..."
    try:
        answer = input(f"Claude wants to run {name}({args}). Run it? [y/N] ")
    except (EOFError, Exception):
        log.warning("nbclaude: cannot ask whether to run %s (no input); declined.", name)
        return False
    return answer.strip().lower() in ("y", "yes")
