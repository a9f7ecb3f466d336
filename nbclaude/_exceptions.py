"""Every exception nbclaude raises, in one place.

The tree::

    NbClaudeError                    base of everything below (an ``Exception``)
    ├── APIError                     something went wrong talking to the API
    │   ├── APIStatusError           the API answered with a non-2xx status
    │   │   ├── BadRequestError          400 invalid_request_error
    │   │   ├── AuthenticationError      401 authentication_error
    │   │   ├── PermissionDeniedError    403 permission_error
    │   │   ├── NotFoundError            404 not_found_error
    │   │   ├── RequestTooLargeError     413 request_too_large
    │   │   ├── RateLimitError           429 rate_limit_error
    │   │   ├── InternalServerError      5xx api_error / timeout_error
    │   │   └── OverloadedError          529 overloaded_error
    │   ├── APIConnectionError       no HTTP answer at all (DNS, refused, reset, ...)
    │   │   └── APITimeoutError          ... because a timeout expired
    │   └── StreamError              the 200 arrived, then the stream broke (SSE ``error``
    │                                event, or the connection ended before ``message_stop``)
    ├── MissingAPIKeyError           no credentials, and offline mode is not on
    ├── InvalidRequestError          refused *before* sending: the API would reject it
    │                                (prefill on a model without it, too many images, ...)
    ├── ImageError                   an image (or document) source cannot be used
    ├── StructuredOutputError        JSON from the model does not fit its schema (defined in
    │                                ``_schema``, next to the validator; also a ValueError)
    ├── BudgetExceededError          refused *before* sending: the request could take the
    │                                session past its budget (``Session(budget=USD)``)
    └── PolicyError                  refused *before* sending by the course policy
                                     (``NBCLAUDE_POLICY``), or the policy file is bad

Names follow the official SDK, so ``except nbclaude.RateLimitError`` reads the same. Every
message says what to do next. No exception ever holds the API key, the request headers or an
``httpx`` request object: only the status, the API's error type and message, the request id,
the response headers and the parsed body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
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
    "RequestTooLargeError",
    "StreamError",
    "status_error",
]


class NbClaudeError(Exception):
    """Base class of every exception raised by nbclaude."""

    #: One short sentence telling the user what to do next (shown by the magic and the widget).
    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

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
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.type = type
        self.request_id = request_id
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})

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

    hint = "Wait a moment and try again; nbclaude already retried with backoff."


class InternalServerError(APIStatusError):
    """5xx: an error on the API's side."""

    hint = "An error on Anthropic's side; try again in a moment."


class OverloadedError(APIStatusError):
    """529: the API is overloaded."""

    hint = "The API is overloaded; try again in a minute or use another model."


class APIConnectionError(APIError):
    """No HTTP answer at all: the connection failed, was refused or was reset."""

    hint = "Check your network connection (and ANTHROPIC_BASE_URL if you set it)."


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    hint = "The API did not answer in time; try again, or raise the client's timeout."


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
    """No API key was found and offline mode is not on."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or (
                "No API key: set the ANTHROPIC_API_KEY environment variable (in a notebook: "
                "import os, getpass; os.environ['ANTHROPIC_API_KEY'] = getpass.getpass()), "
                "or pass Client(api_key=...)."
            ),
            hint=(
                "Without a key, use the offline fake: set NBCLAUDE_OFFLINE=1 or run "
                "%claude offline."
            ),
        )


class InvalidRequestError(NbClaudeError, ValueError):
    """nbclaude refused to send a request the API would reject; nothing was sent."""


class ImageError(NbClaudeError, ValueError):
    """An image or document source cannot be used (missing, corrupt, too big, ...)."""


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
) -> APIStatusError:
    """Build the right :class:`APIStatusError` subclass for an HTTP error response.

    Parameters
    ----------
    status_code : int
        The HTTP status.
    body : Any
        The parsed JSON body (``{"type": "error", "error": {"type": ..., "message": ...}}``),
        or the raw text when it was not JSON.
    request_id : str, optional
        The ``request-id`` response header; the body's ``request_id`` is used otherwise.
    headers : Mapping, optional
        The response headers.

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
        message = body.strip()[:500]
    if not message:
        message = f"HTTP {status_code}"
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIStatusError
    return cls(
        message,
        status_code=status_code,
        type=err_type,
        request_id=request_id,
        body=body,
        headers=headers,
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
