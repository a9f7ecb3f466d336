"""What a 2xx answer is: JSON, an error envelope sent with a 200, or something that is not the
API's at all (an HTML page from a proxy or a captive portal, a body that is not JSON, JSON that
is not a Message).

Each case is one honest line: an error envelope raises the error it carries (its class from its
``error.type``, and it says it came with a 200); anything else raises
:class:`~nbclaude._exceptions.UnexpectedResponseError` saying what the body was. Nothing is
ever returned as if it were a Message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from nbclaude._exceptions import APIStatusError, UnexpectedResponseError, status_error

from .body import describe

if TYPE_CHECKING:
    import httpx

    from .attempt import Outcome

__all__ = ["Context", "json_of", "not_a_stream", "require"]


class Context(NamedTuple):
    """Who answered (for the message) and how to remove the credentials from what it said."""

    base_url: str
    redact: Callable[[str], str]


_NOT_JSON = object()


def _envelope(response: httpx.Response, value: dict[str, Any], ctx: Context) -> APIStatusError:
    body = json.loads(ctx.redact(json.dumps(value, ensure_ascii=False)))
    error = status_error(
        response.status_code,
        body,
        request_id=response.headers.get("request-id"),
        headers={k: ctx.redact(v) for k, v in response.headers.items()},
    )
    error.message = f"(an error sent with HTTP {response.status_code}) {error.message}"
    error.full_message = f"(an error sent with HTTP {response.status_code}) {error.full_message}"
    return error


def _unexpected(response: httpx.Response, content: bytes, ctx: Context, what: str) -> NoReturn:
    kind = response.headers.get("content-type", "")
    shown = ctx.redact(content[:65536].decode("utf-8", "replace")).encode()
    raise UnexpectedResponseError(
        f"The server at {ctx.base_url} answered {response.status_code} with "
        f"{describe(kind, shown)}, not {what}.",
        status_code=response.status_code,
        content_type=kind,
        request_id=response.headers.get("request-id"),
    )


def json_of(outcome: Outcome, ctx: Context, *, what: str) -> Any:
    """The 2xx body as JSON (an error envelope raises its error; a body that is not JSON raises
    :class:`~nbclaude._exceptions.UnexpectedResponseError`)."""
    response = outcome.response
    assert response is not None
    content = outcome.content or b""
    try:
        value: Any = json.loads(content)
    except ValueError:
        value = _NOT_JSON
    if value is _NOT_JSON:
        _unexpected(response, content, ctx, what)
    if isinstance(value, dict) and value.get("type") == "error":
        raise _envelope(response, value, ctx)
    return value


def require(ok: bool, value: Any, *, what: str) -> None:
    """Raise :class:`~nbclaude._exceptions.UnexpectedResponseError` unless ``ok``: the JSON
    ``value`` is not ``what`` the API sends."""
    if ok:
        return
    shown = json.dumps(value, ensure_ascii=False).encode()
    raise UnexpectedResponseError(
        f"The API answered 200 with {describe('application/json', shown)}, not {what}.",
        status_code=200,
        content_type="application/json",
    )


def not_a_stream(response: httpx.Response, content: bytes, ctx: Context) -> NoReturn:
    """Raise for a 2xx answer to a streaming request that is not an event stream."""
    try:
        value: Any = json.loads(content)
    except ValueError:
        value = None
    if isinstance(value, dict) and value.get("type") == "error":
        raise _envelope(response, value, ctx)
    _unexpected(response, content, ctx, "an event stream")
