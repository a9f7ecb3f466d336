"""Script items: what the fake answers to the next ``POST /v1/messages``.

Each item is an immutable dataclass. Reply items (:class:`Text`, :class:`ToolUse`,
:class:`Thinking`, :class:`RedactedThinking`, :class:`Reply`, :class:`Message`, defined in
``_replies.py``) describe *what* the model says. The items here describe *how* the answer
goes wrong or is replayed byte for byte: :class:`SSE`, :class:`RawResponse`,
:class:`HTTPError`, :class:`StreamErrorEvent`, :class:`Cut`, :class:`Delay`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

from ._replies import (
    SIGNATURE_PREFIX,
    BlockItem,
    Message,
    RedactedThinking,
    Reply,
    ReplyItem,
    Text,
    Thinking,
    ToolUse,
    check_timing,
    fake_signature,
)

__all__ = [
    "SIGNATURE_PREFIX",
    "SSE",
    "BlockItem",
    "Cut",
    "Delay",
    "HTTPError",
    "Message",
    "RawResponse",
    "RedactedThinking",
    "Reply",
    "ReplyItem",
    "ScriptItem",
    "StreamErrorEvent",
    "Text",
    "Thinking",
    "ToolUse",
    "error_defaults",
    "fake_signature",
    "is_default",
]

# Marks "not given" where ``None`` is a meaningful value (``request_id=None`` sends JSON null).
_DEFAULT: Any = type("_Default", (), {"__repr__": lambda self: "<default>"})()


def is_default(value: object) -> bool:
    """Whether an option was left at its "not given" default."""
    return value is _DEFAULT


@dataclass(frozen=True)
class SSE:
    """A raw ``text/event-stream`` body, sent byte for byte (e.g. a recorded fixture).

    Parameters
    ----------
    body : str or bytes
        The body, exactly as it goes on the wire.
    chunk_size : int, optional
        Send it in pieces of this many bytes (each one a separate write), else in one piece.
    delay : float
        Seconds between two pieces.
    status : int
        The HTTP status (200).
    headers : dict, optional
        Extra response headers (they replace the defaults of the same name).
    latency : float
        Seconds before the response headers.

    Examples
    --------
    >>> SSE("event: ping\\ndata: {}\\n\\n", chunk_size=3).status
    200
    """

    body: str | bytes
    _: KW_ONLY
    chunk_size: int | None = None
    delay: float = 0.0
    status: int = 200
    headers: Mapping[str, str] | None = None
    latency: float = 0.0

    def __post_init__(self) -> None:
        check_timing(
            "SSE", delay=self.delay, rate=None, latency=self.latency, chunk_size=self.chunk_size
        )


@dataclass(frozen=True)
class RawResponse:
    """Any response, sent as given: a replayed recorded exchange, or a malformed answer.

    Parameters
    ----------
    status : int
        The HTTP status.
    body : str, bytes, dict or list
        A dict or list is sent as JSON; str and bytes byte for byte.
    headers : dict, optional
        Response headers (``content-type`` defaults to JSON for a dict or list body).
    chunk_size, delay, latency
        As for :class:`SSE`.

    Examples
    --------
    >>> RawResponse(502, "<html>Bad gateway</html>", headers={"content-type": "text/html"}).status
    502
    """

    status: int
    body: str | bytes | Mapping[str, Any] | Sequence[Any] = b""
    _: KW_ONLY
    headers: Mapping[str, str] | None = None
    chunk_size: int | None = None
    delay: float = 0.0
    latency: float = 0.0

    def __post_init__(self) -> None:
        check_timing(
            "RawResponse",
            delay=self.delay,
            rate=None,
            latency=self.latency,
            chunk_size=self.chunk_size,
        )


_ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found"),
    408: ("timeout_error", "Request timed out"),
    409: ("conflict_error", "Conflict"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}


def error_defaults(status: int) -> tuple[str, str]:
    """The usual ``error.type`` and message for an HTTP status."""
    if status in _ERROR_TYPES:
        return _ERROR_TYPES[status]
    return (
        ("api_error", "Internal server error") if status >= 500 else ("invalid_request_error", "")
    )


def _check_break(name: str, after: int | str, reply: object, latency: float) -> None:
    if isinstance(after, str):
        if reply is not None:
            raise ValueError(f"{name}: give after= as a text or a reply=, not both")
    elif isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ValueError(f"{name}: after must be a number of deltas (>= 0) or the text sent")
    if latency < 0:
        raise ValueError(f"{name}: latency must be >= 0 seconds")


@dataclass(frozen=True)
class HTTPError:
    """An error answered before any streaming, as JSON with the real envelope.

    ``{"type": "error", "error": {"type": ..., "message": ...}, "request_id": "req_…"}``,
    with ``x-should-retry: true`` for 408, 409, 429 and 5xx (529 included) and ``false``
    otherwise, as the real API sends it. Errors are JSON even when the request streams.

    Parameters
    ----------
    status : int
        The HTTP status (400-599).
    type, message : str, optional
        Default: the usual ones for ``status`` (``HTTPError(529)`` is ``overloaded_error``).
    headers : dict, optional
        Extra headers, e.g. ``{"retry-after": "2"}``; a value of ``None`` removes a default
        header (``{"x-should-retry": None}``).
    request_id : str or None, optional
        The body's ``request_id``; default: the response's ``request-id``; ``None`` sends null.
    body : str, bytes or dict, optional
        Replace the whole body.
    latency : float
        Seconds before the answer.

    Examples
    --------
    >>> HTTPError(429, headers={"retry-after": "1"}).status
    429
    """

    status: int
    type: str | None = None
    message: str | None = None
    _: KW_ONLY
    headers: Mapping[str, str | None] | None = None
    request_id: str | None = _DEFAULT
    body: str | bytes | Mapping[str, Any] | None = None
    latency: float = 0.0

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError("HTTPError: status must be an HTTP error status (400-599)")
        if self.latency < 0:
            raise ValueError("HTTPError: latency must be >= 0 seconds")


@dataclass(frozen=True)
class StreamErrorEvent:
    """HTTP 200, some deltas, then an SSE ``error`` event, then the body ends.

    Parameters
    ----------
    type, message : str
        The error's ``type`` and ``message`` (``overloaded_error`` / ``Overloaded``).
    after : int or str
        How many ``content_block_delta`` events come before the error (0: right after
        ``message_start``; a reply with fewer deltas sends them all, then the error). A str is
        the text sent before the error: the reply is then ``Text(after)``, all of it.
    reply : reply item, optional
        The reply being streamed (default: the fake's default reply).
    latency : float
        Seconds before the response headers.

    For a request that does not stream, the same error is answered as an HTTP error with the
    status that goes with ``type`` (529 for ``overloaded_error``, 500 for ``api_error``, ...).

    Examples
    --------
    >>> StreamErrorEvent(after=3).type
    'overloaded_error'
    >>> StreamErrorEvent("api_error", "Internal server error", after="Half a sent").after
    'Half a sent'
    """

    type: str = "overloaded_error"
    message: str = "Overloaded"
    _: KW_ONLY
    after: int | str = 1
    reply: ReplyItem | None = None
    latency: float = 0.0

    def __post_init__(self) -> None:
        _check_break("StreamErrorEvent", self.after, self.reply, self.latency)


@dataclass(frozen=True)
class Cut:
    """HTTP 200, some deltas, then the connection drops in the middle of the body.

    Over the loopback server the chunked body is never terminated and the socket closes; in
    process, reading the body raises ``httpx.RemoteProtocolError`` as a dropped connection
    does. A request that does not stream gets part of its JSON body, then the drop.

    Parameters
    ----------
    after : int or str
        How many ``content_block_delta`` events are sent before the drop (a reply with fewer
        deltas sends them all). A str is the text sent before the drop (``Text(after)``).
    reply : reply item, optional
        The reply being streamed (default: the fake's default reply).
    latency : float
        Seconds before the response headers.

    Examples
    --------
    >>> Cut(after=0).after
    0
    """

    _: KW_ONLY
    after: int | str = 1
    reply: ReplyItem | None = None
    latency: float = 0.0

    def __post_init__(self) -> None:
        _check_break("Cut", self.after, self.reply, self.latency)


@dataclass(frozen=True)
class Delay:
    """Do not answer for ``seconds`` (for read-timeout tests), then answer with ``reply``.

    In process, a client timeout shorter than the delay raises ``httpx.ReadTimeout`` after
    that timeout, as a real silent server would make it.

    Parameters
    ----------
    seconds : float
        How long to wait before the response headers.
    reply : script item, optional
        What to answer afterwards (default: the default reply).

    Examples
    --------
    >>> Delay(30).seconds
    30
    """

    seconds: float
    reply: ScriptItem | None = None

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError("Delay: seconds must be >= 0")


#: Anything a script may contain.
ScriptItem = (
    Text
    | ToolUse
    | Thinking
    | RedactedThinking
    | Reply
    | Message
    | SSE
    | RawResponse
    | HTTPError
    | StreamErrorEvent
    | Cut
    | Delay
)
