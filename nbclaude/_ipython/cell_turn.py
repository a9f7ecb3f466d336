"""One ``%%claude`` turn in a cell: the live output, the tool calls as they happen, the
retry countdown, the line that says why the turn has not started yet (another turn runs, perhaps
waiting for a tool call's approval in the chat widget), and the final output.

The turn's events are those of the whole session (the widget's turns too): the cell reacts only
to its own, which begin once its turn holds the session's gate (docs/architecture.md, "Events").
"""

from __future__ import annotations

from typing import Any

from nbclaude._exceptions import NbClaudeError
from nbclaude._session.autosave import Autosave
from nbclaude._session.events import DELTA, RETRY, TOOL_CALL, TOOL_RESULT, TURN_START, Event
from nbclaude._session.formats import shown_as
from nbclaude._session.reply import Reply, tool_details
from nbclaude._session.session import Session, get_session
from nbclaude._session.turn import State

from .display import LiveMarkdown, finish_broken, finish_reply
from .errors import Interrupted
from .options import schema_option, tools_option
from .waiting import TurnWait

__all__ = ["run_turn"]


def run_turn(
    session: Session,
    parts: list[Any],
    args: Any,
    params: dict[str, Any],
    *,
    fmt: str,
    warnings: list[str],
    shell: Any,
    interval: float,
    stream: bool,
    keeper: Autosave,
) -> Reply:
    """Run one ``%%claude`` turn of ``session`` into the cell and return its reply.

    ``args`` are the cell's parsed options, ``params`` the request settings they give,
    ``warnings`` what the prompt's interpolation said (shown under the reply).

    Raises
    ------
    Interrupted
        On an interrupt (what arrived is kept, or nothing was recorded).
    NbClaudeError
        When the request fails (what arrived stays on screen, marked).

    Examples
    --------
    In a notebook, after ``%load_ext nbclaude``, the cell magic calls it::

        %%claude --once
        What is a hint?
    """
    live = LiveMarkdown(
        interval=interval,
        plain=fmt == "text",
        placeholder="*Claude is writing…*" if fmt != "text" else "…",
    )
    streaming = stream and not args.no_stream
    calls: dict[str, Any] = {}
    started: dict[str, Any] = {}  # the turn_start event: where the turn sits
    received: list[str] = []  # what streamed, kept on screen if the stream breaks

    def on_tool(event: Event) -> None:  # show each call, and each retry, as it happens
        if st.state is State.NEW:  # another turn's (this one waits for the gate)
            return
        if event["type"] == DELTA:
            live.waited()
        elif event["type"] == RETRY:
            live.retrying(event)
        elif event["type"] == TURN_START and not started:
            if wait is not None:
                wait.stop()  # this turn holds the gate now: the busy line goes
            started.update(event)
        elif event["type"] == TOOL_CALL:
            live.waited()
            calls[event["id"]] = event
        elif event["type"] == TOOL_RESULT and streaming and fmt != "text":
            result = event["result"]
            call = calls.get(str(result.get("tool_use_id")), {})
            live.note(tool_details({"name": call.get("name"), "input": call.get("input")}, result))

    st = session.stream(
        *parts,
        prefill=args.prefill,
        record=not args.once,
        tools=tools_option(args.tools, shell.user_ns),
        auto_approve=args.auto_approve,
        max_steps=args.max_steps,
        schema=schema_option(args.schema, shell.user_ns),
        **params,
    )
    unsubscribe = session.subscribe(on_tool)
    wait: TurnWait | None = None
    try:
        if session.busy:  # another turn runs (the widget's, perhaps waiting for an approval)
            wait = TurnWait(session, live.status)
            wait.start()  # an interrupt from here on is this cell's, like one in the wait
        with st:
            if args.prefill and streaming:
                live.feed(args.prefill.rstrip())
            for text in st:
                received.append(text)
                if streaming:
                    live.feed(text)
    except KeyboardInterrupt:
        if wait is not None:
            wait.stop(remove=False)
        if st.reply is None:
            live.clear()
            raise Interrupted("stopped before the reply started; nothing was recorded.") from None
        _show(shell, live, st.reply, fmt, warnings, started)
        raise Interrupted(
            "the reply was stopped; what arrived is kept above (and in the history)."
        ) from None
    except NbClaudeError:
        if wait is not None:
            wait.stop(remove=False)
        finish_broken(live, session, received, args.prefill, fmt=fmt, started=started)
        raise
    finally:
        unsubscribe()
        if wait is not None:
            wait.stop()
        live.waited()  # no retry line outlives the turn
        keeper.flush(timeout=1.0)  # on disk before the cell ends (a kill loses nothing)
    assert st.reply is not None
    _show(shell, live, st.reply, fmt, warnings, started)
    return st.reply


def _show(
    shell: Any, live: Any, reply: Reply, fmt: str, warnings: list[str], started: dict[str, Any]
) -> None:
    shown = shown_as(reply, fmt)
    if shown.code is not None:
        shell.set_next_input(shown.code, replace=False)
    finish_reply(live, get_session(), reply, shown, fmt=fmt, warnings=warnings, started=started)
    if shown.problem is not None:
        raise shown.problem
