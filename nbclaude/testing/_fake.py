"""``FakeAnthropic``: the fake Messages API, as an httpx transport (and a loopback server).

Every request goes through :meth:`FakeAnthropic.respond`, which checks the headers, routes,
validates, consumes a script item and returns a :class:`Plan`: the status, the headers and the
body as parts (bytes, pauses, a connection drop). The in-process transport (``_inprocess.py``)
and the loopback server (``_server.py``, given ``respond`` as a callable) only differ in how
they play a plan. The request is read by ``_incoming.py`` (:class:`RecordedRequest`); a script
item becomes its plan in ``_item_plans.py``. The batch endpoints (``_batches.py``) get the two
things they need from the fake as callables: "answer one request" and "make the next id".
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, MutableSequence
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from nbclaude._api.fields import API_VERSIONS

from ._batch_request import answer
from ._batches import FakeBatches
from ._caching import PromptCache
from ._incoming import Incoming, RecordedRequest, receive
from ._inprocess import play, play_async, request_headers
from ._item_plans import is_reply, plan_for
from ._model_routes import get_model, list_models
from ._models import ModelRegistry
from ._plans import Plan, error_plan, json_bytes, json_plan
from ._ratelimit import RateLimits
from ._request import FakeAPIError
from ._script import (
    SSE,
    Cut,
    Delay,
    HTTPError,
    Message,
    RawResponse,
    RedactedThinking,
    Reply,
    ScriptItem,
    StreamErrorEvent,
    Text,
    Thinking,
    ToolUse,
)
from ._server import FakeServer
from ._threads import ThreadStore
from ._validate import parse_request

__all__ = ["FakeAnthropic", "RecordedRequest"]

ORGANIZATION_ID = "00000000-0000-4000-8000-00000000fa4e"


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
    keep_requests : int, optional
        Keep only the last this many requests in :attr:`requests` (``0``: none). Default: all,
        for tests that inspect them; a long-lived fake (the offline backend) bounds it, since
        each request holds the whole conversation.
    today : datetime.date or str, optional
        The day the fake lives on, for model lifecycles (a model retired on or before it
        answers 404); default: the real UTC date.
    rate_limits : dict, optional
        Per-minute ``requests`` / ``input-tokens`` / ``output-tokens`` limits the
        ``anthropic-ratelimit-*`` headers report (``_ratelimit.py``; never enforced).

    Attributes
    ----------
    requests : list or deque of RecordedRequest
        The requests received, in order (also invalid ones and ``GET``\\ s).
    batches : FakeBatches
        The Message Batches endpoints' state and simulated clock
        (``fake.batches.pace(per_poll=1)``, ``fake.batches.advance()``; see ``_batches.py``).
    prompt_cache : PromptCache
        The simulated prompt cache (``fake.prompt_cache.advance(301)`` lets 5-minute entries
        expire; ``_caching.py``).
    threads : ThreadStore
        The server-held conversations of the beta ``thread`` field (``_threads.py``).

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
        keep_requests: int | None = None,
        today: dt.date | str | None = None,
        rate_limits: Mapping[str, int] | None = None,
    ) -> None:
        if keep_requests is not None and keep_requests < 0:
            raise ValueError("FakeAnthropic(keep_requests=): a number >= 0, or None for all")
        self._lock = threading.Lock()
        self._script: deque[ScriptItem] = deque()
        self._counters: dict[str, int] = {}
        self._api_key = api_key
        self._registry = ModelRegistry(models, today=today)
        self.requests: MutableSequence[RecordedRequest] = (
            [] if keep_requests is None else deque(maxlen=keep_requests)
        )
        self.batches = FakeBatches(self._answer_in_batch, self._next_id)
        self.prompt_cache = PromptCache()
        self.threads = ThreadStore()
        self._rates = RateLimits(dict(rate_limits) if rate_limits else None)
        self.add(*replies)

    def __repr__(self) -> str:
        return f"FakeAnthropic({len(self._script)} scripted replies, {len(self.requests)} requests)"

    # -- script ----------------------------------------------------------------------------
    def add(self, *items: ScriptItem) -> None:
        """Append script items (answers to the next ``POST /v1/messages``).

        Examples
        --------
        >>> fake = FakeAnthropic()
        >>> fake.add(HTTPError(529), Text("Hello after a retry"))
        >>> [type(i).__name__ for i in fake.pending]
        ['HTTPError', 'Text']
        """
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
        """Forget the recorded requests (the script is kept).

        Examples
        --------
        >>> fake = FakeAnthropic()
        >>> fake.clear()
        >>> fake.requests
        []
        """
        with self._lock:
            self.requests.clear()

    def _take(self) -> ScriptItem | None:
        """The next script item, removed from the script (``None`` when it is empty)."""
        with self._lock:
            return self._script.popleft() if self._script else None

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
        record, origin = receive(method, target, headers, body)
        with self._lock:
            self.requests.append(record)
        request_id = self._next_id("req")
        try:
            self._check_headers(headers)
            handler = self._route(record.method, record.path)
            items = tuple(parse_qsl(urlsplit(target).query, keep_blank_values=True))
            incoming = Incoming(
                record.path, record.query, headers, body, request_id, origin, query_items=items
            )
            plan = handler(incoming)
        except FakeAPIError as exc:
            plan = error_plan(
                exc.status, exc.type, exc.message, request_id=request_id, details=exc.details
            )
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
            # docs/api.md §1.1
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

    def _route(self, method: str, path: str) -> Callable[[Incoming], Plan]:
        batches = self.batches
        routes: list[tuple[str, re.Pattern[str], Callable[[Incoming], Plan]]] = [
            ("POST", re.compile(r"/v1/messages/batches"), batches.create),
            ("GET", re.compile(r"/v1/messages/batches"), batches.list),
            ("GET", re.compile(r"/v1/messages/batches/[^/]+"), batches.retrieve),
            ("DELETE", re.compile(r"/v1/messages/batches/[^/]+"), batches.delete),
            ("POST", re.compile(r"/v1/messages/batches/[^/]+/cancel"), batches.cancel),
            ("GET", re.compile(r"/v1/messages/batches/[^/]+/results"), batches.results),
            ("POST", re.compile(r"/v1/messages/count_tokens"), self._count_tokens),
            ("POST", re.compile(r"/v1/messages"), self._messages),
            ("GET", re.compile(r"/v1/models"), partial(list_models, self._registry)),
            ("GET", re.compile(r"/v1/models/[^/]+"), partial(get_model, self._registry)),
        ]
        path = path.rstrip("/") or "/"
        for verb, pattern, handler in routes:
            if verb == method and pattern.fullmatch(path):
                return handler
        raise FakeAPIError(404, "not_found_error", "Not found")  # CONSTRUCTED

    # -- endpoints -------------------------------------------------------------------------
    def _messages(self, req: Incoming) -> Plan:
        body, pending = req.body, None
        if req.beta and b'"thread"' in body:  # server-held conversation: put its history back
            try:
                obj = json.loads(body)
            except ValueError:
                obj = None  # parse_request says what is wrong with it
            if isinstance(obj, dict) and "thread" in obj:
                full, pending = self.threads.expand(obj)
                body = json_bytes(full)
        answered: list[dict[str, Any]] = []
        try:
            parsed = parse_request("messages", body, self._registry, beta=req.beta)
            item = self._take()
            if is_reply(item):
                self.prompt_cache.apply(parsed, cache_min=parsed.entry.cache_min)
            plan = plan_for(item, parsed, req.request_id, self._next_id, answered.append)
        finally:
            if not answered:
                self.threads.release(pending)
        if answered:
            message = answered[0]
            if pending is not None:
                self.threads.store(pending, message)
            usage = message.get("usage") or {}
            whole = sum(
                int(usage.get(k) or 0)
                for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
            present = {k for k, _ in plan.headers}
            plan.headers += [
                (k, v)
                for k, v in self._rates.headers(
                    input_tokens=whole, output_tokens=int(usage.get("output_tokens") or 0)
                )
                if k not in present
            ]
        return plan

    def _count_tokens(self, req: Incoming) -> Plan:
        parsed = parse_request("count_tokens", req.body, self._registry, beta=req.beta)
        return json_plan(200, {"input_tokens": parsed.input_tokens})

    def _answer_in_batch(self, params: dict[str, Any], beta: bool) -> dict[str, Any]:
        """One request of a batch, answered like a non-streaming ``POST /v1/messages``."""
        return answer(
            params, beta=beta, registry=self._registry, take=self._take, next_id=self._next_id
        )

    # -- in process ------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request in process (``httpx.Client(transport=fake)``)."""
        body = request.read()
        return play(
            self.respond(request.method, str(request.url), request_headers(request), body), request
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer an httpx request in process (``httpx.AsyncClient(transport=fake)``)."""
        body = await request.aread()
        plan = self.respond(request.method, str(request.url), request_headers(request), body)
        return await play_async(plan, request)

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
        return FakeServer(self.respond, host=host, port=port)
