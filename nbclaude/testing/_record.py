"""``RecordingTransport``: an httpx transport that records each answered ``POST /v1/messages``.

It wraps the transport that really sends (``httpx.HTTPTransport()`` for the real API, a
:class:`FakeAnthropic` in tests), passes every request and response through unchanged, and
appends one line per successful exchange to a cassette (``_cassette.py``): the request body and
the final Message. A streamed reply is accumulated as it passes (``nbclaude._api``'s SSE decoder
and accumulator) and recorded once ``message_stop`` arrived. A stream the caller closes early
(Stop, a ``break``) is recorded as far as it got, marked ``stopped``: replayed, the same pieces
arrive, so the conversation goes on from the same kept text. A stream that breaks, an error
answer, and every other endpoint are not recorded. The request's credentials
are blanked in the line if the body contains them (headers are never recorded).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx

from nbclaude._api.accumulate import MessageAccumulator
from nbclaude._api.sse import SSEDecoder

from ._cassette import append_exchange

__all__ = ["RecordingTransport"]


def _is_messages(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/").endswith("/v1/messages")


def _secrets(request: httpx.Request) -> tuple[str, ...]:
    auth = request.headers.get("authorization", "")
    bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    return tuple(s for s in (request.headers.get("x-api-key", "").strip(), bearer) if s)


class _Tee(httpx.SyncByteStream):
    """Passes a streamed body through, accumulating its events; records at the end."""

    def __init__(self, inner: httpx.SyncByteStream, done: Any) -> None:
        self._inner = inner
        self._done = done
        self._decoder = SSEDecoder()
        self._acc = MessageAccumulator()
        self._broken = False  # an error event, or the connection broke: record nothing
        self._ended = False  # read to its end (recorded, or not worth it)

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                for sse in self._decoder.feed(chunk):
                    self._feed(sse.event, sse.data)
                yield chunk
        except BaseException:
            self._broken = True
            raise
        for sse in self._decoder.flush():
            self._feed(sse.event, sse.data)
        self._ended = True
        if self._acc.stopped and not self._broken:
            self._done(dict(self._acc.final()))

    def _feed(self, name: str | None, data: str) -> None:
        if name == "error":
            self._broken = True
            return
        try:
            event = json.loads(data)
        except ValueError:
            return
        if isinstance(event, dict):
            self._acc.feed(event)

    def close(self) -> None:
        if not (self._ended or self._broken) and self._acc.started:
            self._done(dict(self._acc.snapshot()), stopped=True)  # closed early: Stop
        self._ended = True
        self._inner.close()


class RecordingTransport(httpx.BaseTransport):
    """Send through ``inner`` and append every answered ``POST /v1/messages`` to ``path``.

    Parameters
    ----------
    inner : httpx.BaseTransport
        The transport that sends (``httpx.HTTPTransport()`` for the real API).
    path : str or PathLike
        The cassette (JSONL) to append to; created if missing. Several processes may record
        into one cassette at once.

    Attributes
    ----------
    recorded : int
        How many exchanges this transport appended.

    Examples
    --------
    >>> import tempfile, pathlib, httpx
    >>> from nbclaude.testing import FakeAnthropic, Text, load_cassette
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lesson.jsonl"
    >>> rec = RecordingTransport(FakeAnthropic([Text("Hello!")]), path)
    >>> with httpx.Client(transport=rec, base_url="https://api.anthropic.com",
    ...                   headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}) as c:
    ...     r = c.post("/v1/messages", json={"model": "claude-haiku-4-5", "max_tokens": 50,
    ...                "messages": [{"role": "user", "content": "Hi"}]})
    >>> rec.recorded, load_cassette(path).entries[0]["message"]["content"][0]["text"]
    (1, 'Hello!')
    """

    def __init__(self, inner: httpx.BaseTransport, path: str | os.PathLike[str]) -> None:
        self.inner = inner
        self.path = os.fspath(path)
        self.recorded = 0

    def __repr__(self) -> str:
        return f"RecordingTransport({self.inner!r}, {self.path!r})"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the inner transport, recording the exchange."""
        if not _is_messages(request):
            return self.inner.handle_request(request)
        raw = request.read()
        response = self.inner.handle_request(request)
        if response.status_code != 200:
            return response
        try:
            body = json.loads(raw)
        except ValueError:
            return response
        secrets = _secrets(request)

        def done(message: dict[str, Any], *, stopped: bool = False) -> None:
            if message.get("type") == "message":
                append_exchange(self.path, body, message, secrets=secrets, stopped=stopped)
                self.recorded += 1

        if response.headers.get("content-type", "").startswith("text/event-stream"):
            stream = response.stream
            assert isinstance(stream, httpx.SyncByteStream)
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_Tee(stream, done),
                request=request,
                extensions=response.extensions,
            )
        # Read the body as it came (still compressed, if it was) and hand the client a fresh
        # response with the same bytes: the client reads raw bytes itself (it bounds what it
        # inflates), which a response already read here could not give it again.
        raw = b"".join(response.iter_raw())
        response.close()
        fresh = httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            request=request,
            extensions=response.extensions,
        )
        try:
            message = json.loads(httpx.Response(200, headers=response.headers, content=raw).read())
        except ValueError:
            return fresh
        if isinstance(message, dict):
            done(message)
        return fresh

    def close(self) -> None:
        """Close the inner transport."""
        self.inner.close()
