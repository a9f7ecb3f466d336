"""Turn a file of recorded API traffic into script items that replay its responses in order.

Understands the formats of the recordings in ``tests/fixtures/recorded`` (see its INDEX.md):

* raw ``text/event-stream`` bodies (``*.txt``, ``*.sse``): one :class:`SSE` item;
* the Python SDK's inline snapshots (a JSON list of ``{"request": ..., "response":
  {"status_code", "headers", "body"}}``), where ``body`` is a JSON value or a raw SSE string;
* the TypeScript SDK's nock recordings (a JSON list of ``{"status", "response",
  "rawHeaders", ...}``);
* the older snapshot format (a JSON list of strings: raw SSE bodies or JSON Message texts).

The requests of a recording are not script items; a test that wants to compare them reads the
JSON file itself (``entry["request"]["body"]``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._script import SSE, RawResponse

__all__ = ["load_recording"]

_DROP = frozenset({"content-length", "transfer-encoding", "connection", "content-encoding"})


def _is_sse(text: str) -> bool:
    head = text.lstrip()[:16]
    return head.startswith(("event:", "data:", ":"))


def _sse(body: str, status: int, headers: Mapping[str, str] | None, complete: bool) -> SSE:
    if complete and body and not body.endswith(("\n\n", "\r\n\r\n", "\r\r")):
        body = body.rstrip("\r\n") + "\n\n"
    return SSE(body, status=status, headers=headers)


def _headers(raw: Any) -> dict[str, str]:
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        items = list(zip(raw[0::2], raw[1::2], strict=False))  # nock's flat [name, value, ...] form
    else:
        return {}
    return {str(k).lower(): str(v) for k, v in items if str(k).lower() not in _DROP}


def _response(status: int, body: Any, headers: dict[str, str], complete: bool) -> SSE | RawResponse:
    if isinstance(body, str) and (
        _is_sse(body) or headers.get("content-type", "").startswith("text/event-stream")
    ):
        return _sse(body, status, headers or None, complete)
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return RawResponse(status, body, headers=headers or None)
    return RawResponse(status, body, headers=headers or None)


def load_recording(
    path: str | os.PathLike[str], *, complete_events: bool = True
) -> list[SSE | RawResponse]:
    """The responses of a recorded exchange file, as script items in order.

    Parameters
    ----------
    path : str or PathLike
        A ``.txt``/``.sse`` SSE body, or a ``.json`` recording (see the module docstring).
    complete_events : bool
        Add the blank line that ends the last event when a file lacks it (two fixture files
        do; a spec-following decoder would otherwise drop their ``message_stop``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.txt"
    >>> _ = p.write_text('event: ping\\ndata: {"type": "ping"}')
    >>> load_recording(p)[0].body.endswith("\\n\\n")
    True
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() != ".json" or _is_sse(text):
        return [_sse(text, 200, None, complete_events)]
    data = json.loads(text)
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise ValueError(f"{p}: not a recording (expected a JSON list)")
    items: list[SSE | RawResponse] = []
    for entry in data:
        if isinstance(entry, str):
            items.append(_response(200, entry, {}, complete_events))
        elif (
            isinstance(entry, Mapping)
            and isinstance(entry.get("response"), Mapping)
            and ("status_code" in entry["response"])
        ):
            resp = entry["response"]
            items.append(
                _response(
                    int(resp["status_code"]),
                    resp.get("body", ""),
                    _headers(resp.get("headers")),
                    complete_events,
                )
            )
        elif isinstance(entry, Mapping) and "status" in entry:
            items.append(
                _response(
                    int(entry["status"]),
                    entry.get("response", ""),
                    _headers(entry.get("rawHeaders") or entry.get("headers")),
                    complete_events,
                )
            )
        else:
            raise ValueError(f"{p}: unknown recording entry {str(entry)[:80]!r}")
    return items
