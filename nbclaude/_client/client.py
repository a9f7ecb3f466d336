"""A thin client for Anthropic's Messages API on httpx.

It behaves like the official SDK where that matters (docs/api.md §8): the same headers and
credentials, the same retry rules and backoff, the same error classes. It differs on purpose:

- a stream that breaks after the 200 raises :class:`StreamError` instead of returning a
  truncated message quietly;
- it is bounded: a whole answer must come within ``deadline`` seconds, a stream may not go
  ``idle_timeout`` seconds without an event, bodies are read within size limits
  (:mod:`nbclaude._client.body`), error messages are cut for display;
- it is careful with the key: a request whose body holds it is refused before it leaves, a
  redirect to another origin is never followed, and no error carries or chains to anything that
  holds it (:mod:`nbclaude._client.send`, :mod:`nbclaude._client.failures`);
- a stop (:meth:`MessageStream.close`) ends a wait for headers or a retry back-off at once, and
  nothing is sent after it (:mod:`nbclaude._client.attempt`);
- ``httpx`` is imported only when the first request is made.
"""

from __future__ import annotations

import functools
import os
import platform
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from nbclaude._api.fields import API_VERSION
from nbclaude._api.limits import MAX_PAGE_LIMIT
from nbclaude._types import Message, ModelInfo
from nbclaude._version import __version__

from . import answers, attempt
from .body import ACCEPT_ENCODING, MAX_BODY_BYTES, MAX_RESULTS_BYTES
from .cancel import Cancel
from .credentials import Credentials
from .failures import bad_url
from .retry import INITIAL_RETRY_DELAY, OnRetry, retry_delay
from .send import Outgoing, Policy, prepare, send
from .stream import MessageStream

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_BASE_URL", "Client", "MessageStream", "retry_delay"]

DEFAULT_BASE_URL = "https://api.anthropic.com"


class Client:
    """A client for the Messages API.

    Parameters
    ----------
    api_key : str, optional
        Defaults to ``$ANTHROPIC_API_KEY`` (in Colab, with no variable set, to Colab Secrets'
        ``ANTHROPIC_API_KEY``, read at the first request). Sent as ``x-api-key``.
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
    deadline : float or None
        The most seconds a non-streamed request (``create``, ``count_tokens``, ``models``,
        ``request``) may take in all, retries included: a server that answers one byte at a
        time cannot hold it longer. ``None``: no deadline (only ``timeout`` per read).
    idle_timeout : float or None
        The most seconds a stream may wait for its response to start, and then for each next
        event (``ping`` events count): a stream that trickles bytes but no events ends with
        :class:`~nbclaude.StreamError`. ``None``: only ``timeout`` per read.
    on_retry : callable, optional
        ``on_retry(notice)`` before each wait for a retry, with a
        :class:`~nbclaude._client.retry.RetryNotice` (``str(notice)`` is a line to show:
        ``"Rate limited (429) — retrying in 4 s (attempt 2 of 3)…"``). A request may bring its
        own as well (``create(..., on_retry=)``, ``stream(..., on_retry=)``).

    A missing key is reported when a request is made (:class:`MissingAPIKeyError`), not here.
    The key never appears in ``repr``, errors or logs: it is held by :attr:`credentials`, which
    adds it to each request as httpx sends it, and a request whose body holds it is refused
    (:class:`~nbclaude._exceptions.SecretInRequestError`).

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
        deadline: float | None = 600.0,
        idle_timeout: float | None = 600.0,
        on_retry: OnRetry | None = None,
    ) -> None:
        self._credentials = Credentials.from_environment(api_key, auth_token)
        del api_key, auth_token  # from here on only the Credentials hold them
        for name, value in (("timeout", timeout), ("deadline", deadline),
                            ("idle_timeout", idle_timeout)):  # fmt: skip
            if value is not None and not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name} must be a number of seconds above 0, not {value!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
        self.base_url = (
            base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.api_version = api_version
        self.deadline = deadline
        self.idle_timeout = idle_timeout
        self.on_retry = on_retry
        self._transport = transport
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        self._initial_retry_delay = INITIAL_RETRY_DELAY

    def __repr__(self) -> str:
        key = "<set>" if self._credentials.has_api_key else None
        return (
            f"Client(base_url={self.base_url!r}, api_key={key}, "
            f"timeout={self.timeout}, max_retries={self.max_retries})"
        )

    @property
    def has_credentials(self) -> bool:
        """Whether an API key or auth token is configured (or will be read from Colab
        Secrets)."""
        return self._credentials.configured

    @property
    def credentials(self) -> Credentials:
        """The API key and auth token (their ``repr`` is redacted; ``credentials.source`` says
        where they came from); see :func:`nbclaude._client.credentials.secrets` for the
        strings never to show."""
        return self._credentials

    @property
    def transport(self) -> httpx.BaseTransport | None:
        """The transport given to the constructor (``None`` means the network)."""
        return self._transport

    # -- public API ---------------------------------------------------------------------------

    def create(self, *, on_retry: OnRetry | None = None, **body: Any) -> Message:
        """Send ``POST /v1/messages`` and return the Message dict.

        The keyword arguments are the request body (``model``, ``max_tokens``, ``messages``,
        ``system``, ...), sent as given; ``on_retry`` is this request's retry callback.

        Raises
        ------
        APIError
            The API's error, or :class:`~nbclaude._exceptions.UnexpectedResponseError` when
            the answer is not a Message (an error envelope sent with a 200 raises its error).

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic([Text("Hi")]))
        >>> c.create(model="claude-haiku-4-5", max_tokens=10,
        ...          messages=[{"role": "user", "content": "Hello"}])["stop_reason"]
        'end_turn'
        """
        body.pop("stream", None)
        out = self._outgoing("POST", "/v1/messages", body=body)
        outcome = self._send(out, on_retry=on_retry)
        message = answers.json_of(outcome, self._answer, what="a Message")
        answers.require(isinstance(message, dict) and isinstance(message.get("content"), list),
                        message, what="a Message")  # fmt: skip
        return cast(Message, message)

    def stream(self, *, on_retry: OnRetry | None = None, **body: Any) -> MessageStream:
        """Start a streaming ``POST /v1/messages``; use it as a context manager.

        The request is checked now (a body holding the key is refused here) and sent when the
        stream is entered.

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
        out = self._outgoing("POST", "/v1/messages", body={**body, "stream": True}, stream=True)

        def open_response(cancel: Cancel) -> httpx.Response:
            outcome = self._send(out, cancel=cancel, on_retry=on_retry)
            response = outcome.response
            assert response is not None
            if outcome.content is not None:
                answers.not_a_stream(response, outcome.content, self._answer)
            return response

        return MessageStream(
            open_response, redact=self._credentials.redact, idle_timeout=self.idle_timeout
        )

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
        out = self._outgoing("POST", "/v1/messages/count_tokens", body=body)
        answer = answers.json_of(self._send(out), self._answer, what="a token count")
        answers.require(isinstance(answer, dict) and isinstance(answer.get("input_tokens"), int),
                        answer, what="a token count")  # fmt: skip
        return int(answer["input_tokens"])

    def models(self) -> list[ModelInfo]:
        """``GET /v1/models``, following every page; newest first.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic())
        >>> any(m["id"].startswith("claude-haiku-4-5") for m in c.models())
        True
        """
        out: list[ModelInfo] = []
        params: dict[str, Any] = {"limit": MAX_PAGE_LIMIT}
        while True:
            request = self._outgoing("GET", "/v1/models", params=params)
            page = answers.json_of(self._send(request), self._answer, what="a page of models")
            data = page.get("data") if isinstance(page, dict) else None
            answers.require(isinstance(data, list), page, what="a page of models")
            assert isinstance(data, list)
            out.extend(data)
            if not page.get("has_more") or not data:
                return out
            params = {"limit": MAX_PAGE_LIMIT, "after_id": page.get("last_id") or data[-1]["id"]}

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
        >>> c.request("GET", "/v1/models/claude-haiku-4-5")["display_name"]
        'Claude Haiku 4.5'
        """
        out = self._outgoing(method, path, body=body, params=params, headers=headers)
        results = path.endswith("/results")
        outcome = self._send(out, limit=MAX_RESULTS_BYTES if results else MAX_BODY_BYTES)
        response = outcome.response
        assert response is not None
        if "json" in response.headers.get("content-type", "") and not results:
            return answers.json_of(outcome, self._answer, what="JSON")
        return (outcome.content or b"").decode(response.encoding or "utf-8", "replace")

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
                    auth=self._credentials,
                    transport=self._transport,
                    timeout=httpx.Timeout(self.timeout, connect=5.0),
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                    follow_redirects=False,  # followed by send(), and only to the same origin
                )
            return self._http

    def _headers(self) -> dict[str, str]:
        """The usual headers; the credentials are added by httpx's auth step."""
        return {
            "accept": "application/json",
            "accept-encoding": ACCEPT_ENCODING,
            "content-type": "application/json",
            "anthropic-version": self.api_version,
            "user-agent": _user_agent(),
        }

    def _outgoing(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> Outgoing:
        """The request, ready to go (see :func:`nbclaude._client.send.prepare`)."""
        all_headers = self._headers()
        if headers:
            all_headers.update({k.lower(): v for k, v in headers.items()})
        return prepare(
            method,
            self.base_url,
            path,
            body=body,
            params=params,
            headers=all_headers,
            stream=stream,
            patterns=self._credentials.patterns(),
        )

    @property
    def _answer(self) -> answers.Context:
        return answers.Context(self.base_url, self._credentials.redact)

    def _policy(self, on_retry: OnRetry | None, limit: int) -> Policy:
        hooks = tuple(h for h in (self.on_retry, on_retry) if h is not None)
        return Policy(
            max_retries=self.max_retries,
            initial_delay=self._initial_retry_delay,
            timeout=self.timeout,
            deadline=self.deadline,
            idle=self.idle_timeout,
            redact=self._credentials.redact,
            on_retry=hooks,
            limit=limit,
        )

    def _send(
        self,
        out: Outgoing,
        *,
        cancel: Cancel | None = None,
        on_retry: OnRetry | None = None,
        limit: int = MAX_BODY_BYTES,
    ) -> attempt.Outcome:
        """Send with retries; return a 2xx outcome (a stream's response left open)."""
        self._credentials.require()
        import httpx

        try:
            httpx.URL(out.url)
        except httpx.InvalidURL:
            invalid = True
        else:
            invalid = False
        if invalid:  # raised here, not in the except block: nothing chains to httpx's error
            raise bad_url(self.base_url, "it is not a valid URL")
        policy = self._policy(on_retry, limit)
        stop = cancel if cancel is not None else Cancel()
        return send(self._httpx(), out, policy, cancel=stop)


@functools.cache
def _user_agent() -> str:
    return (
        f"nbclaude/{__version__} (Python {platform.python_version()}; "
        f"{platform.system() or 'unknown'})"
    )
