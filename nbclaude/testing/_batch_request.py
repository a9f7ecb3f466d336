"""One Message Batch request in the fake: the batch body's validation, and the answer to one
request (validated like ``POST /v1/messages``, answered from the script or the default reply).

:func:`answer` is given what it needs from the fake as values and callables (the model
registry, "take the next script item", "make the next id"), never the fake itself. See
``_batches.py`` for the rules; texts marked ``# CONSTRUCTED`` are our best guess in the
API's style, ``# real (issues)`` ones were read off real API answers in public GitHub issues.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nbclaude._api.limits import MAX_BATCH_BYTES, MAX_BATCH_REQUESTS

from ._item_plans import NextId, draft_for
from ._models import ModelRegistry
from ._plans import json_bytes
from ._request import FakeAPIError, ParsedRequest, bad, check_keys
from ._script import (
    SSE,
    Cut,
    Delay,
    HTTPError,
    RawResponse,
    ScriptItem,
    StreamErrorEvent,
    error_defaults,
)
from ._validate import parse_request
from ._wire import finish

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "AnswerRequest",
    "Item",
    "answer",
    "errored",
    "parse_batch",
]

#: Answers one request of a batch: ``answer(params, beta) -> result`` (the ``result`` of its
#: line in the results file: ``{"type": "succeeded", "message": ...}``, ``errored``, ...).
AnswerRequest = Callable[[dict[str, Any], bool], dict[str, Any]]

_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass
class Item:
    """One request of a batch, and its result once processed."""

    custom_id: str
    params: dict[str, Any]
    result: dict[str, Any] | None = None  # {"type": "succeeded" | "errored" | ..., ...}


def errored(error_type: str, message: str) -> dict[str, Any]:
    """An ``errored`` result carrying the API's error envelope."""
    return {
        "type": "errored",
        "error": {"type": "error", "error": {"type": error_type, "message": message}},
    }


def answer(
    params: dict[str, Any],
    *,
    beta: bool,
    registry: ModelRegistry,
    take: Callable[[], ScriptItem | None],
    next_id: NextId,
) -> dict[str, Any]:
    """The result of one request, answered like a non-streaming ``POST /v1/messages``.

    Parameters
    ----------
    params : dict
        The request's ``params``.
    beta : bool
        Whether the batch was created with the beta API (beta fields accepted).
    registry : ModelRegistry
        The models the fake knows.
    take : callable
        Takes the next script item (``None`` when the script is empty: the default reply);
        called only for a valid request.
    next_id : callable
        ``next_id("msg")`` makes the next message id (``"toolu"``: a tool call's).

    Examples
    --------
    >>> import itertools
    >>> count = itertools.count(1)
    >>> result = answer(
    ...     {"model": "claude-haiku-4-5", "max_tokens": 0, "messages": []}, beta=False,
    ...     registry=ModelRegistry(), take=lambda: None, next_id=lambda p: f"{p}_{next(count)}")
    >>> result["error"]["error"]["message"]
    'max_tokens: Input should be greater than or equal to 1'
    """
    if params.get("stream") not in (None, False):
        return errored("invalid_request_error", "stream: Input should be False")  # CONSTRUCTED
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens < 1:
        # CONSTRUCTED: the batch guide says max_tokens 0 (cache pre-warming) is refused.
        return errored(
            "invalid_request_error", "max_tokens: Input should be greater than or equal to 1"
        )
    try:
        parsed = parse_request("messages", json_bytes(params), registry, beta=beta)
    except FakeAPIError as exc:
        return errored(exc.type, exc.message)
    return _answer(take(), parsed, next_id)


def _answer(item: ScriptItem | None, parsed: ParsedRequest, next_id: NextId) -> dict[str, Any]:
    if isinstance(item, Delay):
        return _answer(item.reply, parsed, next_id)
    if isinstance(item, HTTPError):
        type_, message = error_defaults(item.status)
        if isinstance(item.body, Mapping) and isinstance(item.body.get("error"), Mapping):
            err = item.body["error"]
            return errored(str(err.get("type") or type_), str(err.get("message") or ""))
        return errored(item.type or type_, item.message if item.message is not None else message)
    if isinstance(item, StreamErrorEvent):
        return errored(item.type, item.message)
    if isinstance(item, Cut):
        return errored("api_error", "Internal server error")  # real (issues): the API's 500
    if isinstance(item, SSE):
        return _from_sse(item.body)
    if isinstance(item, RawResponse):
        return _from_raw(item)
    done = finish(draft_for(item, parsed, next_id), parsed, next_id("msg"))
    usage = done.message.get("usage")
    if isinstance(usage, dict) and "service_tier" in usage:
        usage["service_tier"] = "batch"
    return {"type": "succeeded", "message": done.message}


def parse_batch(raw: bytes) -> list[Item]:
    """Validate a ``POST /v1/messages/batches`` body: the batch, not each request's params."""
    if len(raw) > MAX_BATCH_BYTES:
        # Message from the docs' errors page, as for /v1/messages.
        raise FakeAPIError(
            413, "request_too_large", "Request exceeds the maximum allowed number of bytes."
        )
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"The request body is not valid JSON: {exc}") from None  # real prefix
    if not isinstance(body, dict):
        raise bad("body: Input should be a valid dictionary")  # CONSTRUCTED
    check_keys(body, frozenset({"requests"}), "")
    requests = body.get("requests")
    if "requests" not in body:
        raise bad("requests: Field required")  # CONSTRUCTED (pydantic style)
    if not isinstance(requests, list):
        raise bad("requests: Input should be a valid list")  # CONSTRUCTED
    if not requests:
        # CONSTRUCTED (pydantic style)
        raise bad("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > MAX_BATCH_REQUESTS:
        # CONSTRUCTED (pydantic style)
        raise bad(
            f"requests: List should have at most {MAX_BATCH_REQUESTS} items after validation, "
            f"not {len(requests)}"
        )
    items: list[Item] = []
    seen: dict[str, int] = {}
    for i, request in enumerate(requests):
        path = f"requests.{i}."
        if not isinstance(request, dict):
            raise bad(f"requests.{i}: Input should be a valid dictionary")  # CONSTRUCTED
        check_keys(request, frozenset({"custom_id", "params"}), path)
        if "custom_id" not in request:
            raise bad(f"{path}custom_id: Field required")  # CONSTRUCTED
        custom_id = request["custom_id"]
        if not isinstance(custom_id, str):
            raise bad(f"{path}custom_id: Input should be a valid string")  # CONSTRUCTED
        if not custom_id:
            raise bad(f"{path}custom_id: String should have at least 1 character")  # CONSTRUCTED
        if len(custom_id) > 64:
            raise bad(f"{path}custom_id: String should have at most 64 characters")  # real (issues)
        if not _CUSTOM_ID.match(custom_id):
            # CONSTRUCTED (pydantic style)
            raise bad(f"{path}custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        if custom_id in seen:
            # CONSTRUCTED
            raise bad(
                f"{path}custom_id: Duplicate custom_id '{custom_id}' (also used by "
                f"requests.{seen[custom_id]}); custom_id must be unique within a Message Batch."
            )
        seen[custom_id] = i
        if "params" not in request:
            raise bad(f"{path}params: Field required")  # CONSTRUCTED
        params = request["params"]
        if not isinstance(params, dict):
            raise bad(f"{path}params: Input should be a valid dictionary")  # CONSTRUCTED
        items.append(Item(custom_id, params))
    return items


def _from_raw(item: RawResponse) -> dict[str, Any]:
    body: Any = item.body
    if isinstance(body, (bytes, bytearray, memoryview, str)):
        try:
            body = json.loads(bytes(body) if not isinstance(body, str) else body)
        except ValueError:
            body = None
    if 200 <= item.status < 300 and isinstance(body, Mapping) and body.get("type") == "message":
        return {"type": "succeeded", "message": dict(body)}
    type_, message = error_defaults(item.status if item.status >= 400 else 500)
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        err = body["error"]
        return errored(str(err.get("type") or type_), str(err.get("message") or message))
    return errored(type_, message)


def _from_sse(raw: str | bytes) -> dict[str, Any]:
    from nbclaude._api.accumulate import MessageAccumulator
    from nbclaude._api.sse import iter_sse

    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    acc = MessageAccumulator()
    for sse in iter_sse([data]):
        try:
            event = json.loads(sse.data)
        except ValueError:
            continue
        if sse.event == "error":
            err = event.get("error") if isinstance(event, Mapping) else None
            err = err if isinstance(err, Mapping) else {}
            return errored(str(err.get("type") or "api_error"), str(err.get("message") or ""))
        if isinstance(event, dict):
            acc.feed(event)
    if not acc.stopped:
        return errored("api_error", "Internal server error")  # real (issues): the API's 500
    return {"type": "succeeded", "message": dict(acc.final())}
