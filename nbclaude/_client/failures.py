"""Transport failures (httpx's exceptions) -> nbclaude's :class:`~nbclaude.APIError` classes.

httpx's exceptions carry the request (``exc.request.headers`` holds the key), so none may reach
user code, nor be the ``__cause__`` or ``__context__`` of one that does. :func:`translate`
reads what it needs from one (its kind and its text, the credentials removed) and returns a
new, clean error; callers raise that outside their ``except`` block, so nothing chains to the
original.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from nbclaude._exceptions import APIConnectionError, APIError, APITimeoutError

from .body import BodyTooLargeError, UndecodableBodyError

__all__ = ["Failure", "bad_url", "translate"]


class Failure(NamedTuple):
    """A transport failure, made clean: the error to raise, whether to retry, and a few words
    for a retry notice (``"Connection failed (ConnectError)"``)."""

    error: APIError
    retry: bool
    reason: str


def bad_url(url: str, why: str) -> APIConnectionError:
    """The error for a base URL that cannot be used (never retried: nothing was sent)."""
    return APIConnectionError(
        f"The base URL {url!r} cannot be used: {why}. Nothing was sent.",
        hint="Set ANTHROPIC_BASE_URL (or Client(base_url=...)) to an http:// or https:// URL, "
        "or unset it to use https://api.anthropic.com.",
        attempts=0,
    )


def _detail(exc: BaseException, redact: Callable[[str], str]) -> str:
    text = " ".join(redact(str(exc)).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def translate(exc: BaseException, *, url: str, redact: Callable[[str], str]) -> Failure | None:
    """The clean error for a failure of one attempt, or ``None`` when ``exc`` is none of
    httpx's (nor a body that is too large or undecodable): the caller lets it go."""
    import httpx

    if isinstance(exc, BodyTooLargeError):
        error: APIError = APIConnectionError(
            f"The answer from {_origin(url)} was {exc}: more than any reply of the API, so "
            "nbclaude stopped reading it.",
            hint="Check ANTHROPIC_BASE_URL: that server is not the API.",
        )
        return Failure(error, False, "Answer too large")
    if isinstance(exc, (UndecodableBodyError, httpx.DecodingError)):
        error = APIConnectionError(
            f"The answer from {_origin(url)} could not be decoded ({_detail(exc, redact)}).",
            hint="Check ANTHROPIC_BASE_URL and any proxy in between.",
        )
        return Failure(error, False, "Undecodable answer")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Failure(bad_url(url, "it is not an http:// or https:// URL"), False, "Bad URL")
    if isinstance(exc, httpx.InvalidURL):
        return Failure(bad_url(url, _detail(exc, redact)), False, "Bad URL")
    if isinstance(exc, httpx.TimeoutException):
        what = {
            "ConnectTimeout": "connecting took too long",
            "ReadTimeout": "the API did not answer in time",
            "WriteTimeout": "sending the request took too long",
            "PoolTimeout": "no connection was free in time",
        }.get(type(exc).__name__, "a timeout expired")
        error = APITimeoutError(f"The request timed out: {what} ({type(exc).__name__}).")
        return Failure(error, True, "Timed out")
    if isinstance(exc, httpx.LocalProtocolError):
        error = APIConnectionError(f"The request could not be sent ({_detail(exc, redact)}).")
        return Failure(error, False, "Bad request")
    if isinstance(exc, httpx.RemoteProtocolError):
        error = APIConnectionError(
            f"The server at {_origin(url)} broke the HTTP protocol ({_detail(exc, redact)})."
        )
        return Failure(error, True, f"Connection broken ({type(exc).__name__})")
    if isinstance(exc, (httpx.HTTPError, httpx.StreamError, OSError)):
        error = APIConnectionError(
            f"Connection error talking to {_origin(url)}: {_detail(exc, redact)}."
        )
        return Failure(error, True, f"Connection failed ({type(exc).__name__})")
    return None


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}" if host else url
