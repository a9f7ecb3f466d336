"""One round of tool calls inside a turn: ask, run, and answer every call.

Every ``tool_use`` block of a reply gets exactly one ``tool_result`` (the API rejects a history
where a call has no answer): a call that is declined, that fails, that is past the turn's step
limit or that an interrupt cut short is answered with an ``is_error`` result saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .events import APPROVAL, TOOL_CALL, TOOL_RESULT, ApprovalWait, Event

if TYPE_CHECKING:
    from nbclaude._tools import ToolBox, ToolResult

__all__ = ["Approver", "answer_calls", "ask_before_running", "unanswered"]

log = logging.getLogger("nbclaude")

#: ``approve(name, input) -> bool``, asked before a tool call runs.
Approver = Callable[[str, dict[str, Any]], bool]


def unanswered(reason: str, call: Mapping[str, Any]) -> ToolResult:
    """The ``is_error`` result of a call that was not run, saying why."""
    from nbclaude._tools import ToolResult

    return ToolResult(
        {"type": "tool_result", "tool_use_id": call.get("id", ""), "content": reason,
         "is_error": True},
        name=str(call.get("name", "")), input=call.get("input") or {},
    )  # fmt: skip


def answer_calls(
    calls: Sequence[dict[str, Any]],
    *,
    toolbox: ToolBox,
    approve: Approver | None,
    emit: Callable[[Event], None],
) -> tuple[list[ToolResult], BaseException | None]:
    """Run ``calls`` in order (asking ``approve`` first, unless it is ``None``).

    Returns one result per call, and the exception (a ``KeyboardInterrupt``, say) that cut the
    round short, if any: the calls it left are answered "Interrupted by the user." so the
    caller can record a valid history before raising it.
    """
    from nbclaude._tools import run_tool_call

    results: list[ToolResult] = []
    try:
        for call in calls:
            name, input_ = str(call.get("name") or ""), call.get("input") or {}
            call_id = str(call.get("id") or "")
            emit({"type": TOOL_CALL, "id": call_id, "name": name, "input": input_})
            asking = _announced(approve, call_id, emit) if approve is not None else None
            result = run_tool_call(call, toolbox, approve=asking)
            results.append(result)
            emit({"type": TOOL_RESULT, "result": result})
    except BaseException as exc:
        done = {r["tool_use_id"] for r in results}
        results += [
            unanswered("Interrupted by the user.", c) for c in calls if c.get("id") not in done
        ]
        return results, exc
    return results, None


def _announced(approve: Approver, call_id: str, emit: Callable[[Event], None]) -> Approver:
    """``approve``, telling everyone while it waits for the user's answer (an ``approval``
    event with ``waiting`` true, then false), and where it asks (its ``where`` attribute)."""
    where = str(getattr(approve, "where", "this cell"))

    def ask(name: str, arguments: dict[str, Any]) -> bool:
        wait: ApprovalWait = {"type": APPROVAL, "id": call_id, "name": name,
                              "input": arguments, "where": where, "waiting": True}  # fmt: skip
        emit(wait)
        try:
            return approve(name, arguments)
        finally:
            emit({**wait, "waiting": False})

    return ask


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
