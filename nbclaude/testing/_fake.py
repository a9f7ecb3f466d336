"""``FakeAnthropic``: the fake Messages API, as an httpx transport (and a loopback server).

Every request goes through :meth:`FakeAnthropic.respond`, which checks the headers, routes,
validates, consumes a script item and returns a :class:`Plan`: the status, the headers and the
body as parts (bytes, pauses, a connection drop). The in-process transport and the loopback
server (``_server.py``) only differ in how they play a plan.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from ._default import default_draft
from ._models import ModelRegistry
from ._script import (
    _DEFAULT,
    SSE,
    Cut,
    Delay,
    HTTPError,
    Message,
    RawResponse,
    RedactedThinking,
    Reply,
    ReplyItem,
    ScriptItem,
    StreamErrorEvent,
    Text,
    Thinking,
    ToolUse,
    error_defaults,
)
from ._validate import FakeAPIError, ParsedRequest, parse_request
from ._wire import Draft, Pause, draft_from_item, encode_event, finish, stream_events

if TYPE_CHECKING:
    from ._server import FakeServer

__all__ = ["CUT", "FakeAnthropic", "Plan", "RecordedRequest"]

API_VERSIONS = ("2023-06-01", "2026-10-21")
ORGANIZATION_ID = "00000000-0000-4000-8000-00000000fa4e"
_STATUS_OF_ERROR = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


class _Cut:
    def __repr__(self) -> str:
        return "CUT"


#: A plan part: drop the connection here.
CUT = _Cut()

Part = bytes | float | _Cut


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received.

    Attributes
    ----------
    method : str
        ``"POST"``, ``"GET"``, ...
    path : str
        The URL path, without the query (``"/v1/messages"``).
    query : dict
        The query parameters (``{"beta": "true"}``).
    headers : dict
        Header names in lower case; repeated headers joined with ``", "``.
    json : Any
        The parsed JSON body, or ``None`` (no body, or not JSON).
    body : bytes
        The raw body.

    Examples
    --------
    >>> r = RecordedRequest("GET", "/v1/models", {}, {"x-api-key": "k"}, None, b"")
    >>> r.path
    '/v1/models'
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes

    def __repr__(self) -> str:  # never show credentials
        return f"RecordedRequest({self.method} {self.path}, {len(self.body)} bytes)"


@dataclass(frozen=True)
class _Incoming:
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    request_id: str

    @property
    def beta(self) -> bool:
        return self.query.get("beta") == "true" or bool(self.headers.get("anthropic-beta"))


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


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _should_retry(status: int) -> str:
    return "true" if status in (408, 409, 429) or status >= 500 else "false"


class FakeAnthropic(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An offline fake of Anthropic's Messages API, strict like the real one.

    Use it in process as an httpx transport, or over a loopback HTTP server with
    :meth:`serve`. Each ``POST /v1/messages`` that passes validation consumes one script item;
    when the script is empty the deterministic default reply answers (it says it comes from an
    offline fake and describes what it received). Invalid requests get the API's 4xx answer
    and consume nothing.

    Parameters
    ----------
    replies : iterable of script items
        :class:`Text`, :class:`ToolUse`, :class:`Thinking`, :class:`Reply`, :class:`Message`,
        :class:`SSE`, :class:`RawResponse`, :class:`HTTPError`, :class:`StreamErrorEvent`,
        :class:`Cut`, :class:`Delay`, used in order.
    api_key : str, optional
        Requests must carry exactly this key (``x-api-key`` or ``Authorization: Bearer``);
        otherwise any non-empty key is accepted. Without any key: 401.
    models : iterable of str or dict, optional
        More model ids the fake accepts (or ``ModelInfo``-like dicts with ``max_tokens``...).

    Attributes
    ----------
    requests : list of RecordedRequest
        Every request received, in order (also invalid ones and ``GET``\\ s).

    Examples
    --------
    >>> import httpx
    >>> fake = FakeAnthropic([Text("Hello!")])
    >>> client = httpx.Client(transport=fake, base_url="https://api.anthropic.com",
    ...                       headers={"x-api-key": "k", "anthropic-version": "2023-06-01"})
    >>> r = client.post("/v1/messages", json={"model": "claude-haiku-4-5", "max_tokens": 50,
    ...                 "messages": [{"role": "user", "content": "Hi"}]})
    >>> r.json()["content"][0]["text"], r.json()["model"]
    ('Hello!', 'claude-haiku-4-5-20251001')
    >>> fake.requests[0].json["messages"][0]["content"]
    'Hi'
    """

    def __init__(
        self,
        replies: Iterable[ScriptItem] = (),
        *,
        api_key: str | None = None,
        models: Iterable[str | Mapping[str, Any]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._script: deque[ScriptItem] = deque()
        self._counters: dict[str, int] = {}
        self._api_key = api_key
        self._registry = ModelRegistry(models)
        self.requests: list[RecordedRequest] = []
        self.add(*replies)

    def __repr__(self) -> str:
        return f"FakeAnthropic({len(self._script)} scripted replies, {len(self.requests)} requests)"

    # -- script ----------------------------------------------------------------------------
    def add(self, *items: ScriptItem) -> None:
        """Append script items (answers to the next ``POST /v1/messages``)."""
        for item in items:
            if not isinstance(
                item,
                (
                    Text,
                    ToolUse,
                    Thinking,
                    RedactedThinking,
                    Reply,
                    Message,
                    SSE,
                    RawResponse,
                    HTTPError,
                    StreamErrorEvent,
                    Cut,
                    Delay,
                ),
            ):
                raise TypeError(
                    f"not a script item: {item!r}; use Text, ToolUse, Thinking, Reply, Message, "
                    "SSE, RawResponse, HTTPError, StreamErrorEvent, Cut or Delay"
                )
        with self._lock:
            self._script.extend(items)

    @property
    def pending(self) -> list[ScriptItem]:
        """The script items not used yet."""
        with self._lock:
            return list(self._script)

    def clear(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
        pad = {"req": 16, "msg": 18, "toolu": 16}.get(prefix, 16)
        head = "req_011CFake" if prefix == "req" else f"{prefix}_01Fake"
        return f"{head}{n:0{pad}d}"

    # -- the core --------------------------------------------------------------------------
    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Plan:
        """Answer one request (used by both transports).

        Parameters
        ----------
        method : str
            The HTTP method.
        target : str
            The request target: path and query (``/v1/messages?beta=true``) or a full URL.
        headers : Mapping
            The request headers, names in lower case.
        body : bytes
            The raw body.
        """
        parts = urlsplit(target)
        path = parts.path or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            parsed_json = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            parsed_json = None
        with self._lock:
            self.requests.append(
                RecordedRequest(method.upper(), path, query, dict(headers), parsed_json, body)
            )
        request_id = self._next_id("req")
        try:
            self._check_headers(headers)
            handler = self._route(method.upper(), path)
            plan = handler(_Incoming(path, query, headers, body, request_id))
        except FakeAPIError as exc:
            plan = _error_plan(exc.status, exc.type, exc.message, request_id=request_id)
        present = {k.lower() for k, _ in plan.headers}
        if "request-id" not in present:  # a replayed response keeps its recorded id
            plan.headers.insert(0, ("request-id", request_id))
        if "anthropic-organization-id" not in present:
            plan.headers.append(("anthropic-organization-id", ORGANIZATION_ID))
        return plan

    def _check_headers(self, headers: Mapping[str, str]) -> None:
        key = headers.get("x-api-key", "").strip()
        auth = headers.get("authorization", "").strip()
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not key and not bearer:
            raise FakeAPIError(401, "authentication_error", "x-api-key header is required")
        if self._api_key is not None:
            if key and key != self._api_key:
                raise FakeAPIError(401, "authentication_error", "invalid x-api-key")
            if not key and bearer != self._api_key:
                # CONSTRUCTED (the x-api-key variant is real)
                raise FakeAPIError(401, "authentication_error", "Invalid bearer token")
        version = headers.get("anthropic-version")
        if not version:
            # PROTOCOL.md §1.1
            raise FakeAPIError(
                400, "invalid_request_error", "anthropic-version: header is required"
            )
        if version not in API_VERSIONS:
            # CONSTRUCTED
            raise FakeAPIError(
                400,
                "invalid_request_error",
                f"anthropic-version: invalid version '{version}'; "
                f"use one of {', '.join(API_VERSIONS)}",
            )

    def _route(self, method: str, path: str) -> Callable[[_Incoming], Plan]:
        # The Message Batches endpoints (/v1/messages/batches...) slot in here later.
        routes: list[tuple[str, re.Pattern[str], Callable[[_Incoming], Plan]]] = [
            ("POST", re.compile(r"/v1/messages/count_tokens"), self._count_tokens),
            ("POST", re.compile(r"/v1/messages"), self._messages),
            ("GET", re.compile(r"/v1/models"), self._list_models),
            ("GET", re.compile(r"/v1/models/[^/]+"), self._get_model),
        ]
        path = path.rstrip("/") or "/"
        for verb, pattern, handler in routes:
            if verb == method and pattern.fullmatch(path):
                return handler
        raise FakeAPIError(404, "not_found_error", "Not found")  # CONSTRUCTED

    # -- endpoints -------------------------------------------------------------------------
    def _messages(self, req: _Incoming) -> Plan:
        parsed = parse_request("messages", req.body, self._registry, beta=req.beta)
        with self._lock:
            item = self._script.popleft() if self._script else None
        return self._plan(item, parsed, req.request_id)

    def _count_tokens(self, req: _Incoming) -> Plan:
        parsed = parse_request("count_tokens", req.body, self._registry, beta=req.beta)
        return _json_plan(200, {"input_tokens": parsed.input_tokens})

    def _list_models(self, req: _Incoming) -> Plan:
        query = req.query
        raw_limit = query.get("limit", "20")
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            # CONSTRUCTED
            raise FakeAPIError(
                400, "invalid_request_error", "limit: Input should be between 1 and 1000"
            )
        entries = self._registry.entries
        ids = [e.id for e in entries]
        start, stop = 0, len(entries)
        if "after_id" in query:
            if query["after_id"] not in ids:
                start = stop
            else:
                start = ids.index(query["after_id"]) + 1
            page = entries[start : start + limit]
            has_more = start + limit < stop
        elif "before_id" in query:
            stop = ids.index(query["before_id"]) if query["before_id"] in ids else 0
            start = max(0, stop - limit)
            page = entries[start:stop]
            has_more = start > 0
        else:
            page = entries[:limit]
            has_more = limit < stop
        data = [e.info() for e in page]
        return _json_plan(
            200,
            {
                "data": data,
                "has_more": has_more,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    def _get_model(self, req: _Incoming) -> Plan:
        model_id = req.path.rstrip("/").rsplit("/", 1)[-1]
        entry = self._registry.get(model_id)
        if entry is None:
            raise FakeAPIError(404, "not_found_error", f"model: {model_id}")
        return _json_plan(200, entry.info())

    # -- plans -----------------------------------------------------------------------------
    def _draft(self, item: ReplyItem | None, parsed: ParsedRequest) -> Draft:
        def tool_id() -> str:
            return self._next_id("toolu")

        if item is None:
            return default_draft(parsed, tool_id)
        return draft_from_item(item, tool_id)

    def _plan(self, item: ScriptItem | None, parsed: ParsedRequest, request_id: str) -> Plan:
        if isinstance(item, Delay):
            plan = self._plan(item.reply, parsed, request_id)
            plan.latency += item.seconds
            return plan
        if isinstance(item, HTTPError):
            return _http_error_plan(item, request_id)
        if isinstance(item, SSE):
            body = item.body.encode("utf-8") if isinstance(item.body, str) else bytes(item.body)
            headers = {
                "content-type": "text/event-stream; charset=utf-8",
                "cache-control": "no-cache",
            }
            headers.update({k.lower(): v for k, v in (item.headers or {}).items()})
            return Plan(
                item.status,
                list(headers.items()),
                _chunks(body, item.chunk_size, item.delay),
                latency=item.latency,
                chunked=True,
                coalesce=not item.chunk_size,
            )
        if isinstance(item, RawResponse):
            return _raw_plan(item)
        if isinstance(item, (StreamErrorEvent, Cut)):
            return self._broken_plan(item, parsed, request_id)
        draft = self._draft(item, parsed)
        done = finish(draft, parsed, self._next_id("msg"))
        extra = [(k.lower(), v) for k, v in (draft.headers or {}).items()]
        if not parsed.stream:
            plan = _json_plan(200, done.message)
        else:
            events = stream_events(done)
            plan = _stream_plan([p if isinstance(p, Pause) else encode_event(p) for p in events])
        plan.headers.extend(extra)
        plan.latency = draft.latency
        return plan

    def _broken_plan(
        self, item: StreamErrorEvent | Cut, parsed: ParsedRequest, request_id: str
    ) -> Plan:
        reply = Text(item.after) if isinstance(item.after, str) else item.reply
        after = None if isinstance(item.after, str) else item.after
        draft = self._draft(reply, parsed)
        done = finish(draft, parsed, self._next_id("msg"))
        if not parsed.stream:
            if isinstance(item, StreamErrorEvent):
                status = _STATUS_OF_ERROR.get(item.type, 500)
                return _error_plan(status, item.type, item.message, request_id=request_id)
            body = _json_bytes(done.message)
            plan = _json_plan(200, done.message)
            plan.parts = [body[: len(body) // 2], CUT]
            plan.latency = item.latency
            return plan
        events = stream_events(done)
        out: list[Part] = []
        deltas = [
            i
            for i, ev in enumerate(events)
            if not isinstance(ev, Pause) and ev["type"] == "content_block_delta"
        ]
        n = len(deltas) if after is None else min(after, len(deltas))
        if after == 0:
            cut_at = 1  # right after message_start
        elif n:
            cut_at = deltas[n - 1] + 1
        else:  # a reply without deltas: everything up to message_delta
            cut_at = next(
                i
                for i, ev in enumerate(events)
                if not isinstance(ev, Pause) and ev["type"] == "message_delta"
            )
        for ev in events[:cut_at]:
            out.append(ev if isinstance(ev, Pause) else encode_event(ev))
        while out and isinstance(out[-1], float):
            out.pop()
        if isinstance(item, StreamErrorEvent):
            out.append(
                encode_event(
                    {"type": "error", "error": {"type": item.type, "message": item.message}}
                )
            )
        else:
            out.append(CUT)
        plan = _stream_plan(out)
        plan.latency = item.latency
        return plan

    # -- in process ------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request in process (``httpx.Client(transport=fake)``)."""
        body = request.read()
        plan = self.respond(request.method, str(request.url), _headers(request), body)
        read_timeout = _read_timeout(request)
        if plan.latency > 0:
            if read_timeout is not None and plan.latency > read_timeout:
                threading.Event().wait(read_timeout)
                raise httpx.ReadTimeout("The read operation timed out", request=request)
            threading.Event().wait(plan.latency)
        return httpx.Response(
            plan.status,
            headers=_response_headers(plan),
            stream=_SyncStream(plan.parts, read_timeout, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request in process (``httpx.AsyncClient(transport=fake)``)."""
        body = await request.aread()
        plan = self.respond(request.method, str(request.url), _headers(request), body)
        read_timeout = _read_timeout(request)
        if plan.latency > 0:
            if read_timeout is not None and plan.latency > read_timeout:
                await asyncio.sleep(read_timeout)
                raise httpx.ReadTimeout("The read operation timed out", request=request)
            await asyncio.sleep(plan.latency)
        return httpx.Response(
            plan.status,
            headers=_response_headers(plan),
            stream=_AsyncStream(plan.parts, read_timeout, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
        )

    def close(self) -> None:
        """Nothing to release (an httpx client closes its transport; the fake stays usable)."""

    async def aclose(self) -> None:
        """Nothing to release."""

    # -- loopback --------------------------------------------------------------------------
    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
        """Start a loopback HTTP server for this fake, in a background thread.

        Use it as a context manager; ``server.url`` is ``"http://127.0.0.1:PORT"``.

        Examples
        --------
        >>> with FakeAnthropic().serve() as server:
        ...     server.url.startswith("http://127.0.0.1:")
        True
        """
        from ._server import FakeServer

        return FakeServer(self, host=host, port=port)


# -- plan builders ---------------------------------------------------------------------------
def _json_plan(status: int, obj: Any) -> Plan:
    body = _json_bytes(obj)
    return Plan(status, [("content-type", "application/json")], [body])


def _stream_plan(parts: list[Part]) -> Plan:
    headers = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]
    return Plan(200, headers, parts, chunked=True)


def _error_plan(status: int, type: str, message: str, *, request_id: str | None) -> Plan:
    body = {"type": "error", "error": {"type": type, "message": message}, "request_id": request_id}
    plan = _json_plan(status, body)
    plan.headers.append(("x-should-retry", _should_retry(status)))
    return plan


def _http_error_plan(item: HTTPError, request_id: str) -> Plan:
    type_, message = error_defaults(item.status)
    type_ = item.type or type_
    message = item.message if item.message is not None else message
    if item.body is not None:
        if isinstance(item.body, Mapping):
            body = _json_bytes(item.body)
        elif isinstance(item.body, str):
            body = item.body.encode("utf-8")
        else:
            body = bytes(item.body)
    else:
        envelope: dict[str, Any] = {
            "type": "error",
            "error": {"type": type_, "message": message},
            "request_id": request_id if item.request_id is _DEFAULT else item.request_id,
        }
        body = _json_bytes(envelope)
    headers: dict[str, str] = {
        "content-type": "application/json",
        "x-should-retry": _should_retry(item.status),
    }
    for k, v in (item.headers or {}).items():
        if v is None:
            headers.pop(k.lower(), None)
        else:
            headers[k.lower()] = v
    return Plan(item.status, list(headers.items()), [body], latency=item.latency)


def _raw_plan(item: RawResponse) -> Plan:
    headers: dict[str, str] = {}
    if isinstance(item.body, (Mapping, list, tuple)):
        body = _json_bytes(item.body)
        headers["content-type"] = "application/json"
    elif isinstance(item.body, str):
        body = item.body.encode("utf-8")
    elif isinstance(item.body, (bytes, bytearray, memoryview)):
        body = bytes(item.body)
    else:
        body = _json_bytes(list(item.body))
        headers["content-type"] = "application/json"
    for k, v in (item.headers or {}).items():
        headers[k.lower()] = v
    for hop in ("content-length", "transfer-encoding", "connection", "content-encoding"):
        headers.pop(hop, None)  # framing is ours; recorded bodies are stored decoded
    chunked = headers.get("content-type", "").startswith("text/event-stream")
    return Plan(
        item.status,
        list(headers.items()),
        _chunks(body, item.chunk_size, item.delay),
        latency=item.latency,
        chunked=chunked,
        coalesce=not item.chunk_size,
    )


def _chunks(body: bytes, size: int | None, delay: float) -> list[Part]:
    if not size:
        return [body]
    out: list[Part] = []
    for i in range(0, len(body), size):
        if out and delay > 0:
            out.append(Pause(delay))
        out.append(body[i : i + size])
    return out


def _response_headers(plan: Plan) -> list[tuple[str, str]]:
    headers = list(plan.headers)
    if plan.chunked:
        headers.append(("transfer-encoding", "chunked"))
    else:
        size = sum(len(p) for p in plan.parts if isinstance(p, bytes))
        if CUT in plan.parts:
            size *= 2  # announce the whole body; the drop happens halfway
        headers.append(("content-length", str(size)))
    return headers


def _headers(request: httpx.Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in request.headers.multi_items():
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read") if isinstance(timeout, Mapping) else None
    return float(value) if isinstance(value, (int, float)) else None


class _SyncStream(httpx.SyncByteStream):
    """A response body played in process; ``close()`` ends a pending pause at once."""

    def __init__(self, parts: list[Part], read_timeout: float | None, request: httpx.Request):
        self._parts = parts
        self._read_timeout = read_timeout
        self._request = request
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for part in self._parts:
            if self._closed.is_set():
                return
            if isinstance(part, _Cut):
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)",
                    request=self._request,
                )
            if isinstance(part, float):
                timeout = self._read_timeout
                if timeout is not None and part > timeout:
                    if self._closed.wait(timeout):
                        return
                    raise httpx.ReadTimeout("The read operation timed out", request=self._request)
                if self._closed.wait(part):
                    return
                continue
            yield part

    def close(self) -> None:
        self._closed.set()


class _AsyncStream(httpx.AsyncByteStream):
    """The async twin of :class:`_SyncStream`."""

    def __init__(self, parts: list[Part], read_timeout: float | None, request: httpx.Request):
        self._parts = parts
        self._read_timeout = read_timeout
        self._request = request
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            if self._closed:
                return
            if isinstance(part, _Cut):
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)",
                    request=self._request,
                )
            if isinstance(part, float):
                timeout = self._read_timeout
                if timeout is not None and part > timeout:
                    await asyncio.sleep(timeout)
                    raise httpx.ReadTimeout("The read operation timed out", request=self._request)
                await asyncio.sleep(part)
                continue
            yield part

    async def aclose(self) -> None:
        self._closed = True
