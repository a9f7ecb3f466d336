"""A thin client for Anthropic's Messages API on httpx.

It behaves like the official SDK where that matters (docs/api.md §8): the same headers and
credentials, the same retry rules and backoff, the same error classes. It differs on purpose in
two places: a stream that breaks after the 200 raises :class:`StreamError` instead of returning
a truncated message quietly, and ``httpx`` is imported only when the first request is made.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from nbclaude._api.fields import API_VERSION
from nbclaude._api.limits import MAX_PAGE_LIMIT
from nbclaude._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    status_error,
)
from nbclaude._types import Message, ModelInfo
from nbclaude._version import __version__

from .credentials import Credentials
from .retry import INITIAL_RETRY_DELAY, retry_delay, should_retry
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
    The key never appears in ``repr``, errors or logs: it is held by :attr:`credentials`, which
    adds it to each request as httpx sends it.

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
        self._credentials = Credentials.from_environment(api_key, auth_token)
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
        key = "<set>" if self._credentials.has_api_key else None
        return (
            f"Client(base_url={self.base_url!r}, api_key={key}, "
            f"timeout={self.timeout}, max_retries={self.max_retries})"
        )

    @property
    def has_credentials(self) -> bool:
        """Whether an API key or auth token is configured."""
        return self._credentials.configured

    @property
    def credentials(self) -> Credentials:
        """The API key and auth token (their ``repr`` is redacted); see
        :func:`nbclaude._client.credentials.secrets` for the strings never to show."""
        return self._credentials

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
        body = {**body, "stream": True}

        def open_response(cancel: threading.Event) -> httpx.Response:
            return self._send("POST", "/v1/messages", body=body, stream=True, cancel=cancel)

        return MessageStream(open_response, redact=self._credentials.redact)

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
        >>> any(m["id"].startswith("claude-haiku-4-5") for m in c.models())
        True
        """
        out: list[ModelInfo] = []
        params: dict[str, Any] = {"limit": MAX_PAGE_LIMIT}
        while True:
            page = self._json(self._send("GET", "/v1/models", params=params))
            data = page.get("data") or []
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
                    auth=self._credentials,
                    transport=self._transport,
                    timeout=httpx.Timeout(self.timeout, connect=5.0),
                    limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                    follow_redirects=True,
                )
            return self._http

    def _headers(self) -> dict[str, str]:
        """The usual headers; the credentials are added by httpx's auth step."""
        return {
            "accept": "application/json",
            "content-type": "application/json",
            "anthropic-version": self.api_version,
            "user-agent": _user_agent(),
        }

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

        self._credentials.require()
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
                detail = self._credentials.redact(str(exc)) or type(exc).__name__
                raise APIConnectionError(
                    f"Connection error: {detail} (after {retries_taken + 1} attempt(s))."
                ) from None
            status = response.status_code
            if 200 <= status < 300:
                return response
            resp_headers = {k.lower(): v for k, v in response.headers.items()}
            if (
                should_retry(status, resp_headers)
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
        text = self._credentials.redact(raw.decode("utf-8", "replace"))
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


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()
