"""Sending one API request: the credentials check, the retries, the redirects, the limits.

:class:`Outgoing` is a request ready to go (its body serialised once and checked for the
credentials: :mod:`nbclaude._client.scan`). :func:`send` sends it and returns a 2xx
:class:`~nbclaude._client.attempt.Outcome`, or raises a clean :class:`~nbclaude.APIError`:

- **Retries** follow the official SDK (docs/api.md §8): ``x-should-retry`` first, then 408,
  409, 429 and 5xx, and every connection error or timeout, at most ``max_retries`` times, with
  its backoff and ``retry-after`` handling. Before each wait ``on_retry`` hears a
  :class:`~nbclaude._client.retry.RetryNotice`. A stop (``Cancel``) ends the wait, and then
  nothing more is sent.
- **Redirects** are followed only to the same origin (scheme, host and port: the key may go
  there) and only when the method and body survive (307 and 308; any 3xx for GET), at most five
  times; any other redirect is a :class:`~nbclaude.RedirectError` saying where it pointed.
- **Limits**: a non-streamed request must be answered, body and retries included, within its
  ``deadline``; a streamed one must start within ``idle`` seconds (then the stream's own idle
  timeout applies); bodies are read within :mod:`nbclaude._client.body`'s limits.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from nbclaude._exceptions import (
    APIError,
    APIStatusError,
    APITimeoutError,
    RedirectError,
    SecretInRequestError,
    status_error,
)

from . import attempt
from .body import MAX_BODY_BYTES
from .cancel import Cancel
from .failures import bad_url, translate
from .retry import OnRetry, RetryNotice, attempts_note, retry_delay, should_retry, status_reason
from .scan import Patterns, find_secret

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_REDIRECTS", "Outgoing", "Policy", "prepare", "send"]

log = logging.getLogger("nbclaude")

#: Same-origin redirects followed for one request.
MAX_REDIRECTS = 5


def prepare(
    method: str,
    base_url: str,
    path: str,
    *,
    body: Any,
    params: Mapping[str, Any] | None,
    headers: dict[str, str],
    stream: bool,
    patterns: Patterns,
) -> Outgoing:
    """A request ready to go: its URL checked (http or https), its body serialised and checked
    for the credentials (:class:`~nbclaude._exceptions.SecretInRequestError` when it holds
    one: nothing is sent)."""
    url = base_url + path
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("http", "https"):
        why = f"its scheme is {scheme!r}" if scheme else "it has no http:// or https://"
        raise bad_url(base_url, f"{why}; the API is reached over http(s)")
    content = None
    if body is not None:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        found = find_secret(body, content, patterns)
        if found is not None:
            place = f"at {found.where}" if found.where else "in the request body"
            raise SecretInRequestError(
                f"nbclaude refused to send this request: {found.what} is in it ({found.how}), "
                f"{place}. Nothing was sent.",
                where=found.where,
            )
    return Outgoing(method, url, content=content, headers=headers, params=params, stream=stream)


class Outgoing:
    """A request ready to send: method, URL, headers and the serialised body. Its ``repr``
    shows neither the body nor the headers."""

    __slots__ = ("content", "headers", "method", "params", "stream", "url")

    def __init__(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None,
        headers: dict[str, str],
        params: Mapping[str, Any] | None = None,
        stream: bool = False,
    ) -> None:
        self.method = method
        self.url = url
        self.content = content
        self.headers = headers
        self.params = params
        self.stream = stream

    def __repr__(self) -> str:
        size = f", {len(self.content):,} bytes" if self.content is not None else ""
        return f"<Outgoing {self.method} {self.url}{size}>"


@dataclass(frozen=True)
class Policy:
    """How a client sends: its retries and limits (see :class:`~nbclaude.Client`)."""

    max_retries: int
    initial_delay: float
    timeout: float
    deadline: float | None
    idle: float | None
    redact: Callable[[str], str]
    on_retry: tuple[OnRetry, ...] = ()
    limit: int = MAX_BODY_BYTES


def _notify(policy: Policy, notice: RetryNotice) -> None:
    for hook in policy.on_retry:
        try:
            hook(notice)
        except Exception:
            log.exception("nbclaude: an on_retry callback failed")


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _redirect_target(
    out: Outgoing, url: httpx.URL, response: httpx.Response, policy: Policy
) -> httpx.URL:
    """Where a same-origin redirect goes, or raise the :class:`RedirectError`."""
    status = response.status_code
    location = response.headers.get("location")
    if not location:
        raise RedirectError(
            f"The server answered {status} (a redirect) with no location.",
            status_code=status,
        )
    target = url.join(location)
    if not _same_origin(url, target):
        where, why = "another origin", "your API key would go there"
    elif status in (307, 308) or out.method in ("GET", "HEAD"):
        return target
    else:
        where, why = "the same server", f"a {status} turns {out.method} into GET"
    shown = policy.redact(str(target))[:300]
    error = RedirectError(
        f"The server at {url.scheme}://{url.netloc.decode()} answered {status}, a redirect to "
        f"{shown} ({where}); nbclaude did not follow it: {why}. Nothing was sent there.",
        status_code=status,
        headers={k.lower(): policy.redact(v) for k, v in response.headers.items()},
    )
    error.location = policy.redact(str(target))
    raise error


def _status(response: httpx.Response, content: bytes | None, policy: Policy) -> APIStatusError:
    headers = {k.lower(): policy.redact(v) for k, v in response.headers.items()}
    text = policy.redact((content or b"").decode("utf-8", "replace"))
    body: Any
    try:
        body = json.loads(text)
    except ValueError:
        from .body import describe

        kind = headers.get("content-type", "")
        if text.strip() and "html" in kind.lower():
            body = describe(kind, text.encode())
        else:
            body = text
    return status_error(
        response.status_code, body, request_id=headers.get("request-id"), headers=headers
    )


class _Failed(NamedTuple):
    error: APIError
    retry: bool
    reason: str
    status: int | None = None
    headers: Mapping[str, str] | None = None


def _failed(outcome: attempt.Outcome, url: httpx.URL, policy: Policy) -> _Failed:
    """The clean error of a failed exchange (a transport error, or a non-2xx answer)."""
    if outcome.error is not None:
        if isinstance(outcome.error, attempt.StoppedError):
            raise attempt.StoppedError
        translated = translate(outcome.error, url=str(url), redact=policy.redact)
        if translated is None:
            raise outcome.error  # not httpx's (a bug): let it go as it is
        return _Failed(*translated)
    response = outcome.response
    assert response is not None
    error = _status(response, outcome.content, policy)
    headers = {k.lower(): v for k, v in response.headers.items()}
    code = response.status_code
    return _Failed(error, should_retry(code, headers), status_reason(code), code, headers)


def send(http: httpx.Client, out: Outgoing, policy: Policy, *, cancel: Cancel) -> attempt.Outcome:
    """Send ``out`` with retries; return the 2xx outcome (a stream's body left unread).

    Raises
    ------
    APIError
        A clean error (never an httpx exception, nothing chained to one); ``attempts`` says
        how many requests were sent.
    attempt.StoppedError
        ``cancel`` was set: nothing more was sent.
    """
    import httpx

    started = time.monotonic()
    deadline = started + policy.deadline if (policy.deadline and not out.stream) else None
    read = min(policy.timeout, policy.idle) if (out.stream and policy.idle) else policy.timeout
    timeout = httpx.Timeout(read, connect=min(5.0, read))
    url = httpx.URL(out.url)
    attempts = hops = 0
    while True:
        if cancel.is_set():
            raise attempt.StoppedError
        attempts += 1
        wait = policy.idle if out.stream else None
        if deadline is not None:
            wait = max(deadline - time.monotonic(), 0.0)

        def build(
            trace: Callable[[str, dict[str, Any]], None], target: httpx.URL = url
        ) -> httpx.Request:
            return http.build_request(
                out.method,
                target,
                content=out.content,
                params=out.params,
                headers=out.headers,
                timeout=timeout,
                extensions={"trace": trace},
            )

        try:
            outcome = attempt.exchange(
                http, build, cancel=cancel, stream=out.stream, wait=wait, limit=policy.limit
            )
        except attempt.ExpiredError:
            if deadline is not None:
                what = f"No complete answer within the client's deadline of {policy.deadline:g} s."
            else:
                what = f"The API did not start answering within {policy.idle:g} s."
            failed = _Failed(APITimeoutError(what), deadline is None, "Timed out")
        else:
            response = outcome.response
            code = response.status_code if response is not None else 0
            if response is not None and 300 <= code < 400 and code != 304:
                url = _redirect_target(out, url, response, policy)
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise RedirectError(
                        f"More than {MAX_REDIRECTS} redirects within {url.host}: a loop. Nothing "
                        "more was sent.",
                        status_code=code,
                    )
                attempts -= 1  # a redirect followed is not a retry
                continue
            if response is not None and 200 <= code < 300:
                return outcome
            failed = _failed(outcome, url, policy)
        _retry_or_raise(failed, attempts, deadline, policy)
        delay = retry_delay(attempts - 1, failed.headers, initial=policy.initial_delay)
        if deadline is not None and time.monotonic() + delay >= deadline:
            _give_up(failed.error, attempts, "no time left before the deadline")
        notice = RetryNotice(
            attempt=attempts + 1,
            attempts=policy.max_retries + 1,
            wait=delay,
            status=failed.status,
            reason=failed.reason,
            request_id=failed.error.request_id,
        )
        _notify(policy, notice)
        if cancel.wait(delay):
            raise attempt.StoppedError


def _retry_or_raise(failed: _Failed, attempts: int, deadline: float | None, policy: Policy) -> None:
    """Return when ``failed`` is to be tried again; raise its error otherwise."""
    if failed.retry and attempts <= policy.max_retries:
        return
    why_not = ""
    if failed.retry and policy.max_retries == 0:
        why_not = "retries are off"
    elif not failed.retry and (failed.headers or {}).get("x-should-retry") == "false":
        why_not = "the server said not to retry"
    _give_up(failed.error, attempts, why_not)


def _give_up(error: APIError, attempts: int, why_not: str) -> None:
    error.attempts = attempts
    if attempts > 1 or why_not or isinstance(error, APIStatusError):
        error.hint = f"{attempts_note(attempts, why_not=why_not)} {error.hint}".strip()
    raise error
