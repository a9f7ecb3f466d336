"""A request as the fake receives it: :class:`RecordedRequest`, kept in ``fake.requests`` for
tests to inspect, and :class:`Incoming`, what a route handler is given.

:func:`receive` reads both out of the raw request (method, target, headers, body), the same way
for the in-process transport and the loopback server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Incoming", "RecordedRequest", "receive"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received.

    Attributes
    ----------
    method : str
        ``"POST"``, ``"GET"``, ...
    path : str
        The URL path, without the query (``"/v1/messages"``).
    query : dict
        The query parameters (``{"beta": "true"}``).
    headers : dict
        Header names in lower case; repeated headers joined with ``", "``.
    json : Any
        The parsed JSON body, or ``None`` (no body, or not JSON).
    body : bytes
        The raw body.

    Examples
    --------
    >>> r = RecordedRequest("GET", "/v1/models", {}, {"x-api-key": "k"}, None, b"")
    >>> r.path
    '/v1/models'
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes

    def __repr__(self) -> str:  # never show credentials
        return f"RecordedRequest({self.method} {self.path}, {len(self.body)} bytes)"


@dataclass(frozen=True)
class Incoming:
    """What a route handler gets: the request, its ``request-id`` and where it was sent."""

    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    request_id: str
    origin: str = ""  # "scheme://host" the request was sent to
    query_items: tuple[tuple[str, str], ...] = ()  # every parameter, repeated ones included

    def query_list(self, name: str) -> list[str]:
        """Every value of a list parameter, sent as ``name[]=a&name[]=b`` (the SDK's
        "brackets" format), ``name=a&name=b`` or ``name=a,b``."""
        out: list[str] = []
        for key, value in self.query_items:
            if key in (name, f"{name}[]"):
                out += [v for v in value.split(",") if v]
        return out

    @property
    def beta(self) -> bool:
        """Whether the request asked for the beta API (``?beta=true`` or ``anthropic-beta``)."""
        return self.query.get("beta") == "true" or bool(self.headers.get("anthropic-beta"))


def receive(
    method: str, target: str, headers: Mapping[str, str], body: bytes
) -> tuple[RecordedRequest, str]:
    """The record of a request and the origin (``"scheme://host"``) it was sent to.

    ``target`` is the path and query (``/v1/messages?beta=true``) or a full URL; without a
    host in it, the origin comes from the ``host`` header.

    Examples
    --------
    >>> record, origin = receive("post", "/v1/messages?beta=true", {"host": "h:1"}, b"{}")
    >>> record.method, record.path, record.query, record.json, origin
    ('POST', '/v1/messages', {'beta': 'true'}, {}, 'http://h:1')
    """
    parts = urlsplit(target)
    path = parts.path or "/"
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        parsed_json = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        parsed_json = None
    record = RecordedRequest(method.upper(), path, query, dict(headers), parsed_json, body)
    origin = (
        f"{parts.scheme}://{parts.netloc}"
        if parts.netloc
        else f"http://{headers.get('host', '127.0.0.1')}"
    )
    return record, origin
