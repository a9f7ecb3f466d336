"""Every exception nbclaude raises, in one place.

The tree::

    NbClaudeError                    base of everything below (an ``Exception``)
    ├── APIError                     something went wrong talking to the API
    │   ├── APIStatusError           the API answered with a non-2xx status
    │   │   ├── RedirectError            3xx to another origin (or a loop): not followed
    │   │   ├── BadRequestError          400 invalid_request_error
    │   │   ├── AuthenticationError      401 authentication_error
    │   │   ├── PermissionDeniedError    403 permission_error
    │   │   ├── NotFoundError            404 not_found_error
    │   │   ├── RequestTooLargeError     413 request_too_large
    │   │   ├── RateLimitError           429 rate_limit_error
    │   │   ├── InternalServerError      5xx api_error / timeout_error
    │   │   └── OverloadedError          529 overloaded_error
    │   ├── APIConnectionError       no HTTP answer at all (DNS, refused, reset, bad URL, ...)
    │   │   └── APITimeoutError          ... because a timeout or the deadline expired
    │   ├── UnexpectedResponseError  an answer that is not the API's: an HTML page, a body
    │   │                            that is not JSON or not a Message, too large, undecodable
    │   └── StreamError              the 200 arrived, then the stream broke (SSE ``error``
    │                                event, a malformed event, the connection ended before
    │                                ``message_stop``, no event for the idle timeout)
    ├── MissingAPIKeyError           no credentials, and offline mode is not on
    ├── InvalidRequestError          refused *before* sending: the API would reject it
    │   │                            (prefill on a model without it, too many images, ...)
    │   └── SecretInRequestError     ... or the request holds the API key or auth token
    ├── ImageError                   an image (or document) source cannot be used
    ├── SchemaError                  a Python type cannot be described as JSON Schema (also a
    │                                TypeError)
    ├── StructuredOutputError        JSON from the model does not fit its schema (defined in
    │                                ``_schema``, next to the validator; also a ValueError)
    ├── BudgetExceededError          refused *before* sending: the request could take the
    │                                session past its budget (``Session(budget=USD)``)
    ├── SaveError                    a session could not be saved; the old file is untouched
    │                                (also an OSError)
    └── PolicyError                  refused *before* sending by the course policy
                                     (``NBCLAUDE_POLICY``), or the policy file is bad

Names follow the official SDK, so ``except nbclaude.RateLimitError`` reads the same. Every
message says what to do next, in one line of at most :data:`MAX_MESSAGE_CHARS` characters (a
longer one is cut; the whole text stays in ``full_message``). No exception ever holds the API
key, the request headers or an ``httpx`` request object, nor chains to an exception that does:
only the status, the API's error type and message, the request id, the response headers (the
credentials removed) and the parsed body. An :class:`APIError` says how many requests were sent
(``attempts``), so no message claims a retry that never happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_MESSAGE_CHARS",
    "STATUS_OF_ERROR_TYPE",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ImageError",
    "InternalServerError",
    "InvalidRequestError",
    "MissingAPIKeyError",
    "NbClaudeError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "PolicyError",
    "RateLimitError",
    "RedirectError",
    "RequestTooLargeError",
    "SaveError",
    "SchemaError",
    "SecretInRequestError",
    "StreamError",
    "UnexpectedResponseError",
    "status_error",
]


#: The most characters of a message an exception shows; the rest stays in ``full_message``
#: (a 10 MB error body must not become a 10 MB cell output).
MAX_MESSAGE_CHARS = 2000


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how much was left out.

    Examples
    --------
    >>> shorten("x" * 100, 50)
    'xxxxxxxxxxxxxxxxxxxx… (80 more characters)'
    """
    if len(text) <= limit:
        return text
    keep = max(limit - 30, 0)
    return f"{text[:keep]}… ({len(text) - keep:,} more characters)"


class NbClaudeError(Exception):
    """Base class of every exception raised by nbclaude.

    Attributes
    ----------
    message : str
        What went wrong, at most :data:`MAX_MESSAGE_CHARS` characters.
    full_message : str
        The same, never cut.
    hint : str
        What to do next (one sentence; may be empty).

    Examples
    --------
    >>> err = NbClaudeError("x" * 5000, hint="Try again.")
    >>> len(err.message) <= MAX_MESSAGE_CHARS, len(err.full_message)
    (True, 5000)
    """

    #: One short sentence telling the user what to do next (shown by the magic and the widget).
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.full_message = message
        self.message = shorten(message)
        super().__init__(self.message)
        if hint is not None:
            self.hint = shorten(hint, 500)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class APIError(NbClaudeError):
    """Something went wrong while talking to the API."""

    #: The API's ``error.type`` (``"rate_limit_error"``, ...), or ``None`` when there was none.
    type: str | None = None
    #: The ``request-id`` of the response, when there was one (quote it to Anthropic support).
    request_id: str | None = None
    #: How many requests were sent (1 + the retries), when known.
    attempts: int | None = None


class APIStatusError(APIError):
    """The API answered with a non-2xx HTTP status."""

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        hint: str | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.type = type
        self.request_id = request_id
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})
        self.attempts = attempts

    def __str__(self) -> str:
        head = (
            f"{self.status_code} {self.type}: {self.message}"
            if self.type
            else (f"{self.status_code}: {self.message}")
        )
        if self.request_id:
            head += f" (request id {self.request_id})"
        return f"{head} {self.hint}".strip() if self.hint else head

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, type={self.type!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class RedirectError(APIStatusError):
    """3xx: the server sent the request elsewhere, and nbclaude did not follow.

    A credentialed request never follows a redirect to another origin (scheme, host and port):
    the key would go there. ``location`` says where the redirect pointed.
    """

    hint = "Check ANTHROPIC_BASE_URL (or Client(base_url=...)): it should be the API itself."

    #: Where the redirect pointed (``None`` when the server gave no ``location``).
    location: str | None = None


class BadRequestError(APIStatusError):
    """400: the API rejected the request as invalid."""

    hint = "Fix the request (the message above says what is wrong); nothing was recorded."


class AuthenticationError(APIStatusError):
    """401: the API key (or auth token) was not accepted."""

    hint = (
        "Check ANTHROPIC_API_KEY (set it with getpass or in the environment, never %env), "
        "or use offline mode: %claude offline."
    )


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not do this."""

    hint = "Your key's organization or workspace is not allowed to do this."


class NotFoundError(APIStatusError):
    """404: for example an unknown model name."""

    hint = "Check the model name: %claude models lists the ones your key can use."


class RequestTooLargeError(APIStatusError):
    """413: the request body is over the API's size limit (32 MB for messages)."""

    hint = "Send fewer or smaller images or documents."


class RateLimitError(APIStatusError):
    """429: too many requests or tokens for your organization's rate limit."""

    hint = "Wait a moment and try again."


class InternalServerError(APIStatusError):
    """5xx: an error on the API's side."""

    hint = "An error on Anthropic's side; try again in a moment."


class OverloadedError(APIStatusError):
    """529: the API is overloaded."""

    hint = "The API is overloaded; try again in a minute or use another model."


class APIConnectionError(APIError):
    """No HTTP answer at all: the connection failed, was refused or was reset, or the base URL
    cannot be used."""

    hint = "Check your network connection (and ANTHROPIC_BASE_URL if you set it)."

    def __init__(self, message: str, *, hint: str | None = None, attempts: int | None = None):
        super().__init__(message, hint=hint)
        self.attempts = attempts


class APITimeoutError(APIConnectionError):
    """The request timed out: a read took too long, or the whole request passed the client's
    ``deadline``."""

    hint = "The API did not answer in time; try again, or raise the client's timeout."


class UnexpectedResponseError(APIError):
    """The server answered, but not as the API does: an HTML page (a proxy, a captive portal,
    a wrong base URL), a body that is not JSON, JSON that is not a Message, a body over the
    size limit, or one that cannot be decoded. Nothing is retried.

    Attributes
    ----------
    status_code : int
        The HTTP status of that answer.
    content_type : str
        Its ``content-type``.
    """

    hint = "Check ANTHROPIC_BASE_URL (or Client(base_url=...)) and any proxy in between."

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        content_type: str = "",
        request_id: str | None = None,
        hint: str | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.content_type = content_type
        self.request_id = request_id
        self.attempts = attempts


class StreamError(APIError):
    """The response started (HTTP 200) and then broke.

    Either the API sent an SSE ``error`` event, or the connection ended before
    ``message_stop``. Unlike the official SDK, nbclaude never returns such a truncated
    message quietly: this exception carries it as :attr:`partial`.

    Attributes
    ----------
    partial : dict or None
        The Message accumulated so far (``stop_reason`` is ``None`` when the stream was cut).
    type : str or None
        The ``error.type`` of an SSE ``error`` event (``"overloaded_error"``, ...), or
        ``None`` when the connection simply ended.
    """

    hint = "The reply was cut off; try again."

    def __init__(
        self,
        message: str,
        *,
        partial: Any = None,
        type: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.partial = partial
        self.type = type
        self.request_id = request_id


class MissingAPIKeyError(NbClaudeError):
    """No API key was found (or the one found cannot be sent), and offline mode is not on."""

    def __init__(self, message: str | None = None, *, hint: str | None = None) -> None:
        super().__init__(
            message
            or (
                "No API key: set the ANTHROPIC_API_KEY environment variable (in a notebook: "
                "import os, getpass; os.environ['ANTHROPIC_API_KEY'] = getpass.getpass()), "
                "or pass Client(api_key=...)."
            ),
            hint=hint
            or (
                "Without a key, use the offline fake: set NBCLAUDE_OFFLINE=1 or run "
                "%claude offline."
            ),
        )


class InvalidRequestError(NbClaudeError, ValueError):
    """nbclaude refused to send a request the API would reject; nothing was sent."""


class SecretInRequestError(InvalidRequestError):
    """The request holds the API key or the auth token (as it is, in other letter case, or in
    base64), so nbclaude refused to send it; nothing was sent.

    ``where`` is the place in the request body (``messages.2.content.0.text``). In IPython its
    traceback is one line: the frames below would show the request, key included.
    """

    hint = "Remove the key from the prompt, the tool result or the file, then send again."

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(message)
        self.where = where

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class ImageError(NbClaudeError, ValueError):
    """An image or document source cannot be used (missing, corrupt, too big, ...)."""


class SchemaError(NbClaudeError, TypeError):
    """A Python type cannot be described as JSON Schema (for structured output or a tool's
    input): the message names the type and where it was found."""


#: The HTTP status that goes with each of the API's ``error.type`` values (docs/api.md §5); used
#: where only the type is known (a batch item's error, an SSE ``error`` event).
STATUS_OF_ERROR_TYPE: dict[str, int] = {
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

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    429: RateLimitError,
    529: OverloadedError,
}


def status_error(
    status_code: int,
    body: Any,
    *,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    attempts: int | None = None,
    hint: str | None = None,
) -> APIStatusError:
    """Build the right :class:`APIStatusError` subclass for an HTTP error response.

    Parameters
    ----------
    status_code : int
        The HTTP status. A 2xx status with an error body (a gateway that answers 200 with
        ``{"type": "error", ...}``) takes the class of the error's type.
    body : Any
        The parsed JSON body (``{"type": "error", "error": {"type": ..., "message": ...}}``),
        or the raw text when it was not JSON.
    request_id : str, optional
        The ``request-id`` response header; the body's ``request_id`` is used otherwise.
    headers : Mapping, optional
        The response headers.
    attempts : int, optional
        How many requests were sent.
    hint : str, optional
        Replaces the class's hint.

    Examples
    --------
    >>> e = status_error(429, {"type": "error", "error": {"type": "rate_limit_error",
    ...                                                    "message": "slow down"}})
    >>> type(e).__name__, e.type, e.message
    ('RateLimitError', 'rate_limit_error', 'slow down')
    """
    err_type: str | None = None
    message = ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            err_type = err.get("type") if isinstance(err.get("type"), str) else None
            message = str(err.get("message") or "")
        rid = body.get("request_id")
        if request_id is None and isinstance(rid, str):
            request_id = rid
    elif isinstance(body, str):
        message = body.strip()
    if not message:
        message = f"HTTP {status_code}"
    lookup = status_code
    if status_code < 300:
        lookup = STATUS_OF_ERROR_TYPE.get(err_type or "", 500)
    cls = _BY_STATUS.get(lookup)
    if cls is None:
        cls = InternalServerError if lookup >= 500 else APIStatusError
    return cls(
        message,
        status_code=status_code,
        type=err_type,
        request_id=request_id,
        body=body,
        headers=headers,
        hint=hint,
        attempts=attempts,
    )


class BudgetExceededError(NbClaudeError):
    """Refused before sending: the request's worst case would take the session past its budget.

    Attributes
    ----------
    spent : float
        USD the session has spent (a reset does not give it back).
    left : float
        USD left of the budget (what is reserved for unfinished batches is not left).
    budget : float
        The budget in USD.
    needed : float or None
        The request's worst case in USD (``None`` when its model has no known price).

    Examples
    --------
    >>> e = BudgetExceededError("Over budget.", spent=1.9, left=0.1, budget=2.0, needed=0.25)
    >>> e.spent, e.left, e.needed
    (1.9, 0.1, 0.25)
    """

    def __init__(
        self,
        message: str,
        *,
        spent: float,
        left: float,
        budget: float,
        needed: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.spent = spent
        self.left = left
        self.budget = budget
        self.needed = needed


class PolicyError(NbClaudeError):
    """Refused before sending by the course policy; or the policy file cannot be used.

    Attributes
    ----------
    rule : str
        The policy key that refused (``"models"``, ``"tools"``, ...), or ``"file"`` when the
        file itself is bad.
    path : str or None
        The policy file (``None`` for a rule that came from elsewhere, such as
        ``NBCLAUDE_BUDGET``).

    Examples
    --------
    >>> e = PolicyError("Tools are off in this course.", rule="tools", path="/srv/policy.toml")
    >>> e.rule, e.path
    ('tools', '/srv/policy.toml')
    """

    def __init__(
        self, message: str, *, rule: str, path: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.rule = rule
        self.path = path


class SaveError(NbClaudeError, OSError):
    """A session could not be saved (a read-only folder, a full disk); the file that was there
    is untouched.

    Examples
    --------
    >>> issubclass(SaveError, OSError)
    True
    """
