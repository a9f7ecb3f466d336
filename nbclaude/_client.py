"""A thin client for Anthropic's Messages API on httpx.

It behaves like the official SDK where that matters (PROTOCOL.md §8): the same headers and
credentials, the same retry rules and backoff, the same error classes. It differs on purpose in
two places: a stream that breaks after the 200 raises :class:`StreamError` instead of returning
a truncated message quietly, and ``httpx`` is imported only when the first request is made.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import os
import platform
import random
import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    MissingAPIKeyError,
    StreamError,
    status_error,
)
from ._models_info import API_VERSION
from ._sse import SSEDecoder
from ._streaming import MessageAccumulator
from ._types import Message, ModelInfo, StreamEvent
from ._version import __version__

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_BASE_URL", "Client", "MessageStream", "retry_delay"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
_REDACTED = "<redacted>"


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    rand: float | None = None,
    initial: float = INITIAL_RETRY_DELAY,
) -> float:
    """Seconds to wait before the next attempt, exactly as the official SDK computes it.

    A ``retry-after-ms`` header (milliseconds), else ``retry-after`` (seconds or an HTTP date),
    is obeyed when it asks for more than 0 and at most 60 seconds. Otherwise the delay is
    ``min(0.5 * 2**retries_taken, 8)`` seconds minus up to 25 % jitter.

    Examples
    --------
    >>> retry_delay(0, rand=0.0), retry_delay(1, rand=0.0), retry_delay(10, rand=0.0)
    (0.5, 1.0, 8.0)
    >>> retry_delay(0, {"retry-after": "3"})
    3.0
    >>> retry_delay(0, {"retry-after": "120"}, rand=1.0)  # over 60 s: ignored, jittered backoff
    0.375
    """
    if headers:
        hint = _parse_retry_after(headers)
        if hint is not None and 0 < hint <= 60:
            return hint
    base = min(initial * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
    jitter = 1 - 0.25 * (random.random() if rand is None else rand)
    return max(base * jitter, 0.0)


def _parse_retry_after(headers: Mapping[str, str]) -> float | None:
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - time.time()


def _should_retry(status: int, headers: Mapping[str, str]) -> bool:
    flag = headers.get("x-should-retry")
    if flag == "true":
        return True
    if flag == "false":
        return False
    return status in (408, 409, 429) or status >= 500


class Client:
    """A client for the Messages API.

    Parameters
    ----------
    api_key : str, optional
        Defaults to ``$ANTHROPIC_API_KEY``. Sent as ``x-api-key``.
    auth_token : str, optional
        Defaults to ``$ANTHROPIC_AUTH_TOKEN``. Sent as ``Authorization: Bearer``.
    base_url : str, optional
        Defaults to ``$ANTHROPIC_BASE_URL`` or ``https://api.anthropic.com``.
    timeout : float
        Seconds to wait for each read (connecting has 5 s), as in the official SDK.
    max_retries : int
        Retries after a retryable failure (408, 409, 429, 5xx, connection errors, timeouts).
    transport : httpx.BaseTransport, optional
        The network seam: for example ``nbclaude.testing.FakeAnthropic()``.
    api_version : str
        The ``anthropic-version`` header.

    A missing key is reported when a request is made (:class:`MissingAPIKeyError`), not here.
    The key never appears in ``repr``, errors or logs.

    Examples
    --------
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> client = Client(api_key="sk-ant-example", transport=FakeAnthropic([Text("Hello!")]))
    >>> msg = client.create(model="claude-haiku-4-5", max_tokens=100,
    ...                     messages=[{"role": "user", "content": "Hello, Claude"}])
    >>> msg["content"][0]["text"]
    'Hello!'
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        auth_token: str | None = None,
        base_url: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        api_version: str = API_VERSION,
    ) -> None:
        self._api_key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        self._auth_token = (
            auth_token if auth_token is not None else os.environ.get("ANTHROPIC_AUTH_TOKEN")
        )
        self.base_url = (
            base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.api_version = api_version
        self._transport = transport
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        self._initial_retry_delay = INITIAL_RETRY_DELAY

    def __repr__(self) -> str:
        key = "<set>" if self._api_key else None
        return (
            f"Client(base_url={self.base_url!r}, api_key={key}, "
            f"timeout={self.timeout}, max_retries={self.max_retries})"
        )

    @property
    def has_credentials(self) -> bool:
        """Whether an API key or auth token is configured."""
        return bool(self._api_key or self._auth_token)

    @property
    def transport(self) -> httpx.BaseTransport | None:
        """The transport given to the constructor (``None`` means the network)."""
        return self._transport

    # -- public API ---------------------------------------------------------------------------

    def create(self, **body: Any) -> Message:
        """Send ``POST /v1/messages`` and return the Message dict.

        The keyword arguments are the request body (``model``, ``max_tokens``, ``messages``,
        ``system``, ...), sent as given.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic([Text("Hi")]))
        >>> c.create(model="claude-haiku-4-5", max_tokens=10,
        ...          messages=[{"role": "user", "content": "Hello"}])["stop_reason"]
        'end_turn'
        """
        body.pop("stream", None)
        response = self._send("POST", "/v1/messages", body=body)
        return cast(Message, self._json(response))

    def stream(self, **body: Any) -> MessageStream:
        """Start a streaming ``POST /v1/messages``; use it as a context manager.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic([Text("Hi there")]))
        >>> with c.stream(model="claude-haiku-4-5", max_tokens=10,
        ...               messages=[{"role": "user", "content": "Hello"}]) as st:
        ...     text = "".join(st.text_stream)
        >>> text, st.get_final_message()["stop_reason"]
        ('Hi there', 'end_turn')
        """
        return MessageStream(self, body)

    def count_tokens(self, **body: Any) -> int:
        """``POST /v1/messages/count_tokens``: the input tokens the request would use.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic())
        >>> c.count_tokens(model="claude-haiku-4-5",
        ...                messages=[{"role": "user", "content": "Hello"}]) > 0
        True
        """
        body.pop("max_tokens", None)
        body.pop("stream", None)
        response = self._send("POST", "/v1/messages/count_tokens", body=body)
        return int(self._json(response)["input_tokens"])

    def models(self) -> list[ModelInfo]:
        """``GET /v1/models``, following every page; newest first.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic())
        >>> any(m["id"] == "claude-haiku-4-5" for m in c.models())
        True
        """
        out: list[ModelInfo] = []
        params: dict[str, Any] = {"limit": 1000}
        while True:
            page = self._json(self._send("GET", "/v1/models", params=params))
            data = page.get("data") or []
            out.extend(data)
            if not page.get("has_more") or not data:
                return out
            params = {"limit": 1000, "after_id": page.get("last_id") or data[-1]["id"]}

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Any other endpoint: send the request (with retries) and return the parsed JSON, or
        the text when the response is not JSON (``/v1/messages/batches/{id}/results`` is
        JSON Lines). ``headers`` are added to (or replace) the usual ones.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic())
        >>> c.request("GET", "/v1/models/claude-haiku-4-5")["id"]
        'claude-haiku-4-5'
        """
        response = self._send(method, path, body=body, params=params, headers=headers)
        if "json" in response.headers.get("content-type", "") and not path.endswith("/results"):
            return self._json(response)
        return response.text

    def close(self) -> None:
        """Close the connection pool."""
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _httpx(self) -> httpx.Client:
        http = self._http
        if http is not None:
            return http
        with self._lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client(
                    transport=self._transport,
                    timeout=httpx.Timeout(self.timeout, connect=5.0),
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                    follow_redirects=True,
                )
            return self._http

    def _headers(self) -> dict[str, str]:
        if not self._api_key and not self._auth_token:
            raise MissingAPIKeyError()
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "anthropic-version": self.api_version,
            "user-agent": _user_agent(),
        }
        if self._api_key:
            headers["x-api-key"] = self._api_key
        if self._auth_token:
            headers["authorization"] = f"Bearer {self._auth_token}"
        return headers

    def _scrub(self, text: str) -> str:
        for secret in (self._api_key, self._auth_token):
            if secret and secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
        cancel: threading.Event | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response (streaming responses are left open)."""
        import httpx

        extra = headers
        headers = self._headers()
        if extra:
            headers.update({k.lower(): v for k, v in extra.items()})
        http = self._httpx()
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        url = self.base_url + path
        retries_taken = 0
        while True:
            request = http.build_request(
                method, url, content=content, params=params, headers=headers
            )
            try:
                response = http.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                if retries_taken < self.max_retries and not _cancelled(cancel):
                    retries_taken = self._wait(retries_taken, None, cancel)
                    continue
                raise APITimeoutError(
                    f"Request timed out ({type(exc).__name__}) after "
                    f"{retries_taken + 1} attempt(s)."
                ) from None
            except httpx.TransportError as exc:
                if retries_taken < self.max_retries and not _cancelled(cancel):
                    retries_taken = self._wait(retries_taken, None, cancel)
                    continue
                detail = self._scrub(str(exc)) or type(exc).__name__
                raise APIConnectionError(
                    f"Connection error: {detail} (after {retries_taken + 1} attempt(s))."
                ) from None
            status = response.status_code
            if 200 <= status < 300:
                return response
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
            if (
                _should_retry(status, resp_headers)
                and retries_taken < self.max_retries
                and not _cancelled(cancel)
            ):
                response.close()
                retries_taken = self._wait(retries_taken, resp_headers, cancel)
                continue
            raise self._status_error(response, resp_headers)

    def _wait(
        self,
        retries_taken: int,
        headers: Mapping[str, str] | None,
        cancel: threading.Event | None,
    ) -> int:
        delay = retry_delay(retries_taken, headers, initial=self._initial_retry_delay)
        if cancel is not None:
            cancel.wait(delay)
        else:
            time.sleep(delay)
        return retries_taken + 1

    def _status_error(self, response: httpx.Response, headers: Mapping[str, str]) -> APIStatusError:
        try:
            raw = response.read()
        except Exception:
            raw = b""
        finally:
            response.close()
        text = self._scrub(raw.decode("utf-8", "replace"))
        body: Any
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        return status_error(
            response.status_code,
            body,
            request_id=headers.get("request-id"),
            headers=headers,
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise APIConnectionError(
                f"The API answered {response.status_code} with a body that is not JSON."
            ) from None
        finally:
            response.close()


@functools.cache
def _user_agent() -> str:
    return (
        f"nbclaude/{__version__} (Python {platform.python_version()}; "
        f"{platform.system() or 'unknown'})"
    )


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _scan_json(text: str) -> Any:
    """``json.loads`` for one SSE ``data`` payload, calling the C scanner directly (this is
    the hot path of streaming); anything unusual goes through ``json.loads`` for its checks."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text) and text[end:].strip():
        return json.loads(text)  # raises: trailing garbage
    return value


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


class MessageStream:
    """A streaming reply. Use it as a context manager and iterate it.

    Iterating yields every event dict as it arrives; :attr:`text_stream` yields just the text;
    :meth:`get_final_message` returns the accumulated Message. A stream that breaks after the
    200 (an SSE ``error`` event, or the connection ending before ``message_stop``) raises
    :class:`~nbclaude.StreamError` from the iteration, with the partial Message attached.
    :meth:`close` ends the HTTP stream at once, from any thread; the iteration then simply stops
    and :attr:`closed` is ``True``.

    Examples
    --------
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic([Text("one two")]))
    >>> with c.stream(model="claude-haiku-4-5", max_tokens=10,
    ...               messages=[{"role": "user", "content": "Count"}]) as st:
    ...     types = [event["type"] for event in st]
    >>> types[0], types[-1]
    ('message_start', 'message_stop')
    """

    def __init__(self, client: Client, body: Mapping[str, Any]) -> None:
        self._client = client
        self._body = {**body, "stream": True}
        self._response: httpx.Response | None = None
        self._acc = MessageAccumulator()
        self._cancel = threading.Event()
        self._events: Iterator[StreamEvent] | None = None
        self._finished = False
        self._open_lock = threading.Lock()
        #: The ``request-id`` response header, once the response has arrived.
        self.request_id: str | None = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("done" if self._finished else "open")
        return f"<MessageStream {state} request_id={self.request_id!r}>"

    # -- context manager ----------------------------------------------------------------------

    def __enter__(self) -> MessageStream:
        self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    # -- iteration ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._events is None:
            self._events = self._iter_events()
        return self._events

    @property
    def text_stream(self) -> Iterator[str]:
        """Iterate over the text deltas only."""
        for event in self:
            if event.get("type") == "content_block_delta":
                delta = event["delta"]
                if delta.get("type") == "text_delta":
                    yield delta["text"]

    def get_final_message(self) -> Message:
        """Read the stream to its end and return the Message.

        After :meth:`close` this is the partial Message (``stop_reason`` ``None``).
        """
        for _ in self:
            pass
        return self._acc.final()

    @property
    def current_message(self) -> Message | None:
        """The Message as accumulated so far (``None`` before ``message_start``)."""
        return self._acc.snapshot() if self._acc.started else None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called before the stream finished."""
        return self._cancel.is_set() and not self._finished

    def close(self) -> None:
        """End the HTTP stream now (safe from any thread, e.g. a Stop button)."""
        self._cancel.set()
        self._release()

    # -- internals ----------------------------------------------------------------------------

    def _open(self) -> httpx.Response:
        with self._open_lock:
            if self._response is None:
                if self._cancel.is_set():
                    raise StreamError("The stream was closed before it started.")
                self._response = self._client._send(
                    "POST", "/v1/messages", body=self._body, stream=True, cancel=self._cancel
                )
                self.request_id = self._response.headers.get("request-id")
                if self._cancel.is_set():
                    self._release()
            return self._response

    def _release(self) -> None:
        response = self._response
        if response is None:
            return
        # Shut the socket down first: a plain close() from another thread does not wake a
        # thread blocked reading it, shutdown() does.
        stream = response.extensions.get("network_stream")
        if stream is not None:
            sock = stream.get_extra_info("socket")
            if sock is not None:
                import socket

                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            response.close()

    def _iter_events(self) -> Iterator[StreamEvent]:
        import httpx

        response = self._open()
        decoder = SSEDecoder()
        feed = self._acc.feed
        try:
            for chunk in response.iter_bytes():
                for sse in decoder.feed(chunk):
                    try:
                        event = _scan_json(sse.data)
                    except ValueError:
                        if sse.event in ("message", "ping"):
                            continue
                        raise self._broken(f"invalid JSON in {sse.event!r} event") from None
                    if sse.event == "error" or (
                        sse.event == "message" and event.get("type") == "error"
                    ):
                        raise self._error_event(event)
                    feed(event)
                    yield event
        except (httpx.TransportError, httpx.StreamError, OSError) as exc:
            if self._cancel.is_set():
                return
            raise self._broken(
                f"the connection broke ({type(exc).__name__}) before the reply finished"
            ) from None
        finally:
            self._release()
        if self._cancel.is_set() and not self._acc.stopped:
            return
        if not self._acc.stopped:
            raise self._broken("the stream ended before message_stop")
        self._finished = True

    def _partial(self) -> Message | None:
        return self._acc.snapshot() if self._acc.started else None

    def _broken(self, why: str) -> StreamError:
        return StreamError(
            f"The reply stream broke: {why}.",
            partial=self._partial(),
            request_id=self.request_id,
        )

    def _error_event(self, event: Mapping[str, Any]) -> StreamError:
        err = event.get("error")
        if not isinstance(err, dict):
            err = {}
        etype = err.get("type") if isinstance(err.get("type"), str) else None
        message = self._client._scrub(str(err.get("message") or "error event"))
        hint = None
        if etype == "overloaded_error":
            hint = "The API is overloaded; try again in a minute."
        return StreamError(
            f"The API sent an error during the reply: {etype}: {message}",
            partial=self._partial(),
            type=etype,
            request_id=self.request_id,
            hint=hint,
        )
