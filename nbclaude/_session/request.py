"""What a turn sends: the request body, and the user turn built from its parts.

``request_body`` merges the session's settings with a turn's overrides (only fields someone set
are sent), turns a thinking budget into the right form for the model, and adds prompt-cache
breakpoints. ``build_turn`` makes the user message from its parts, refuses prefill on models that
reject it, and keeps the request within the API's limits (the guard rail).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from nbclaude._api.models import PREFILL_EXAMPLE_MODEL, supports_prefill, thinking_mode
from nbclaude._exceptions import InvalidRequestError
from nbclaude._types import MessageParam

from .cache import add_cache_breakpoints
from .history import sendable, text_only
from .turn import Turn

if TYPE_CHECKING:
    from .session import Session

__all__ = ["COUNT_TOKENS_FIELDS", "build_turn", "check_prefill", "request_body"]

#: The request fields ``/v1/messages/count_tokens`` accepts (PROTOCOL.md §7).
COUNT_TOKENS_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config",
     "cache_control", "mcp_servers", "context_management"}
)  # fmt: skip


def request_body(
    session: Session, messages: list[MessageParam], params: Mapping[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": params.get("model") or session._model,
        "max_tokens": params.get("max_tokens", session._max_tokens),
        "messages": messages,
    }
    system = params.get("system", session._system)
    if system:
        body["system"] = system
    for key, value in {**session.params, **params}.items():
        if key not in ("model", "max_tokens", "system"):
            body[key] = value
    thinking = body.get("thinking")
    if isinstance(thinking, int) and not isinstance(thinking, bool):
        # thinking=BUDGET: adaptive on models that want it, else enabled with the budget
        # (max_tokens must exceed the budget, so the reply keeps its own allowance).
        if thinking_mode(body["model"]) == "adaptive":
            body["thinking"] = {"type": "adaptive"}
        else:
            body["thinking"] = {"type": "enabled", "budget_tokens": thinking}
            if body["max_tokens"] <= thinking:
                body["max_tokens"] = thinking + body["max_tokens"]
    if session.cache:
        add_cache_breakpoints(body)
    return body


def check_prefill(session: Session, model: str) -> None:
    """Refuse prefill, before anything is sent, on a model that rejects it (the 4.6
    generation and later), saying what to do instead."""
    with session._state:
        known = session._models
    if supports_prefill(model, known) is False:
        raise InvalidRequestError(
            f"{model} does not accept prefill (a final assistant message): models of "
            "the 4.6 generation and later reject it. Instead, say what you want in "
            "the system prompt (e.g. 'Answer with the letter only'), ask for "
            "structured output (schema=...), or use a model that accepts prefill, "
            f"such as {PREFILL_EXAMPLE_MODEL}."
        )


def build_turn(
    session: Session,
    parts: Sequence[Any],
    *,
    prefill: str | None,
    params: Mapping[str, Any],
    keep_fitted: bool,
) -> Turn:
    """Everything a turn sends: the user message, the checked prefill and the body."""
    from nbclaude._content.blocks import fit_messages, to_blocks

    blocks = to_blocks(*parts)
    prefill = prefill.rstrip() if prefill else None
    if not blocks:
        raise InvalidRequestError("Nothing to send: the message is empty.")
    model = params.get("model") or session._model
    if prefill:
        check_prefill(session, model)
    text = text_only(blocks)
    user: MessageParam = {"role": "user", "content": text if text is not None else blocks}
    with session._state:
        history = [sendable(m) for m in session.messages]
    outgoing = [*history, user]
    if prefill:
        outgoing.append({"role": "assistant", "content": prefill})
    system = params.get("system", session._system)
    overhead = len(json.dumps(system, ensure_ascii=False)) if system else 0
    fitted = cast("list[MessageParam]", fit_messages(outgoing, overhead=overhead))
    if any(new is not old for new, old in zip(fitted, outgoing, strict=True)):
        # Images were downscaled to fit the request limits: keep the fitted copies in the
        # history too, so the same error cannot come back on every later turn.
        user = fitted[len(history)]
        if keep_fitted:
            with session._state:
                for i in range(min(len(history), len(session.messages))):
                    if fitted[i] is not outgoing[i]:
                        session.messages[i] = fitted[i]
    images = [b for b in blocks if b.get("type") == "image"]
    return Turn(user, prefill, request_body(session, fitted, params), images, fitted)
