"""A plan: how to answer one request (status, headers, body parts with pauses and drops),
and the builders that make plans for JSON, streams, errors and replayed responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nbclaude._exceptions import STATUS_OF_ERROR_TYPE

from ._script import HTTPError, RawResponse, error_defaults, is_default
from ._wire import Pause

__all__ = [
    "CUT",
    "STATUS_OF_ERROR",
    "DropMark",
    "Part",
    "Plan",
    "chunks",
    "error_plan",
    "http_error_plan",
    "json_bytes",
    "json_plan",
    "raw_plan",
    "stream_plan",
]

STATUS_OF_ERROR = STATUS_OF_ERROR_TYPE  # one table, in nbclaude._exceptions


class DropMark:
    """The type of :data:`CUT` (a plan part that drops the connection)."""

    def __repr__(self) -> str:
        return "CUT"


#: A plan part: drop the connection here.
CUT = DropMark()

Part = bytes | float | DropMark


@dataclass
class Plan:
    """How to answer one request: status, headers, then body parts.

    ``parts`` holds bytes to send, floats (seconds to pause, interruptible) and :data:`CUT`
    (drop the connection). ``chunked`` is true for streams (no ``content-length``).
    """

    status: int
    headers: list[tuple[str, str]]
    parts: list[Part] = field(default_factory=list)
    latency: float = 0.0
    chunked: bool = False
    coalesce: bool = True  # the server may join parts with no pause between them


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def should_retry(status: int) -> str:
    return "true" if status in (408, 409, 429) or status >= 500 else "false"


def json_plan(status: int, obj: Any) -> Plan:
    body = json_bytes(obj)
    return Plan(status, [("content-type", "application/json")], [body])


def stream_plan(parts: list[Part]) -> Plan:
    headers = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]
    return Plan(200, headers, parts, chunked=True)


def error_plan(
    status: int,
    type: str,
    message: str,
    *,
    request_id: str | None,
    details: Mapping[str, Any] | None = None,
) -> Plan:
    error: dict[str, Any] = {"type": type, "message": message}
    if details is not None:
        error["details"] = dict(details)  # SDK 2.17: error.details.error_code
    body = {"type": "error", "error": error, "request_id": request_id}
    plan = json_plan(status, body)
    plan.headers.append(("x-should-retry", should_retry(status)))
    return plan


def http_error_plan(item: HTTPError, request_id: str) -> Plan:
    type_, message = error_defaults(item.status)
    type_ = item.type or type_
    message = item.message if item.message is not None else message
    if item.body is not None:
        if isinstance(item.body, Mapping):
            body = json_bytes(item.body)
        elif isinstance(item.body, str):
            body = item.body.encode("utf-8")
        else:
            body = bytes(item.body)
    else:
        envelope: dict[str, Any] = {
            "type": "error",
            "error": {"type": type_, "message": message},
            "request_id": request_id if is_default(item.request_id) else item.request_id,
        }
        body = json_bytes(envelope)
    headers: dict[str, str] = {
        "content-type": "application/json",
        "x-should-retry": should_retry(item.status),
    }
    for k, v in (item.headers or {}).items():
        if v is None:
            headers.pop(k.lower(), None)
        else:
            headers[k.lower()] = v
    return Plan(item.status, list(headers.items()), [body], latency=item.latency)


def raw_plan(item: RawResponse) -> Plan:
    headers: dict[str, str] = {}
    if isinstance(item.body, (Mapping, list, tuple)):
        body = json_bytes(item.body)
        headers["content-type"] = "application/json"
    elif isinstance(item.body, str):
        body = item.body.encode("utf-8")
    elif isinstance(item.body, (bytes, bytearray, memoryview)):
        body = bytes(item.body)
    else:
        body = json_bytes(list(item.body))
        headers["content-type"] = "application/json"
    for k, v in (item.headers or {}).items():
        headers[k.lower()] = v
    for hop in ("content-length", "transfer-encoding", "connection", "content-encoding"):
        headers.pop(hop, None)  # framing is ours; recorded bodies are stored decoded
    chunked = headers.get("content-type", "").startswith("text/event-stream")
    return Plan(
        item.status,
        list(headers.items()),
        chunks(body, item.chunk_size, item.delay),
        latency=item.latency,
        chunked=chunked,
        coalesce=not item.chunk_size,
    )


def chunks(body: bytes, size: int | None, delay: float) -> list[Part]:
    if not size:
        return [body]
    out: list[Part] = []
    for i in range(0, len(body), size):
        if out and delay > 0:
            out.append(Pause(delay))
        out.append(body[i : i + size])
    return out
