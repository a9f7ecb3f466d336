"""``MessageStream``: a streaming reply over HTTP, decoded and accumulated as it arrives.

A stream that breaks after the 200 raises :class:`~nbclaude.StreamError` with the partial
Message: an SSE ``error`` event, a malformed event (not JSON, not an object, a delta for a
block that never started or of the wrong kind, ...:
:class:`~nbclaude._api.accumulate.MalformedEventError`), an event over the decoder's size
limit, a body over :data:`~nbclaude._client.body.MAX_STREAM_BYTES`, no event for
``idle_timeout`` seconds, or the connection ending before ``message_stop``. An
event is yielded only once the accumulator has taken it, so no text is shown that the final
Message would not hold. ``close()`` ends the stream at once from any thread.

The stream never sees the client that made it (as httpx's ``Response`` never imports its
``Client``): it is given a callable that opens the HTTP response, with the client's retries,
and one that redacts the credentials from the text of an error event.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from nbclaude._api.accumulate import MalformedEventError, MessageAccumulator
from nbclaude._api.sse import SSEDecoder, SSEError
from nbclaude._exceptions import StreamError
from nbclaude._types import Message, StreamEvent

from . import body as bodies
from .attempt import StoppedError
from .cancel import Cancel

if TYPE_CHECKING:
    import httpx

__all__ = ["MessageStream", "Opener", "scan_json"]

#: Opens the HTTP response of a stream: called once, with the stream's :class:`Cancel` (set by
#: :meth:`MessageStream.close`, so that a wait for headers or between retries ends at once and
#: nothing more is sent); returns a 2xx response whose body is still unread, or raises the
#: client's error (:class:`~nbclaude._client.attempt.StoppedError` once stopped).
Opener = Callable[[Cancel], "httpx.Response"]

#: What a malformed event can raise inside the accumulator (all turned into StreamError).
_MALFORMED = (MalformedEventError, AttributeError, TypeError, KeyError, IndexError, ValueError)

_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def scan_json(text: str) -> Any:
    """``json.loads`` for one SSE ``data`` payload, calling the C scanner directly (this is
    the hot path of streaming); anything unusual goes through ``json.loads`` for its checks."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text) and text[end:].strip():
        return json.loads(text)  # raises: trailing garbage
    return value


class MessageStream:
    """A streaming reply. Use it as a context manager and iterate it.

    Iterating yields every event dict as it arrives; :attr:`text_stream` yields just the text;
    :meth:`get_final_message` returns the accumulated Message. A stream that breaks after the
    200 (an SSE ``error`` event, or the connection ending before ``message_stop``) raises
    :class:`~nbclaude.StreamError` from the iteration, with the partial Message attached.
    :meth:`close` ends the HTTP stream at once, from any thread; the iteration then simply stops
    and :attr:`closed` is ``True``.

    :meth:`nbclaude.Client.stream` makes one; nothing else needs to.

    Parameters
    ----------
    open_response : callable
        Called once, with the stream's cancel event, when the stream is entered (or first
        iterated): sends the request, with retries, and returns the 2xx response left open.
    redact : callable, optional
        Applied to the text of an API ``error`` event before it goes into the
        :class:`~nbclaude.StreamError` (the client removes its credentials).
    idle_timeout : float, optional
        The most seconds between two events (``None``: no limit here).
    max_bytes : int
        The most bytes the stream may bring (after decompression).

    Examples
    --------
    >>> from nbclaude import Client
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> c = Client(api_key="sk-ant-example", transport=FakeAnthropic([Text("one two")]))
    >>> with c.stream(model="claude-haiku-4-5", max_tokens=10,
    ...               messages=[{"role": "user", "content": "Count"}]) as st:
    ...     types = [event["type"] for event in st]
    >>> types[0], types[-1]
    ('message_start', 'message_stop')
    """

    def __init__(
        self,
        open_response: Opener,
        *,
        redact: Callable[[str], str] | None = None,
        idle_timeout: float | None = None,
        max_bytes: int = bodies.MAX_STREAM_BYTES,
    ) -> None:
        self._open_response = open_response
        self._redact = redact
        self._idle = idle_timeout
        self._max_bytes = max_bytes
        self._response: httpx.Response | None = None
        self._acc = MessageAccumulator(strict=True)
        self._cancel = Cancel()
        self._events: Iterator[StreamEvent] | None = None
        self._finished = False
        self._open_lock = threading.Lock()
        #: The ``request-id`` response header, once the response has arrived.
        self.request_id: str | None = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("done" if self._finished else "open")
        return f"<MessageStream {state} request_id={self.request_id!r}>"

    # -- context manager ----------------------------------------------------------------------

    def __enter__(self) -> MessageStream:
        self._open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    # -- iteration ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._events is None:
            self._events = self._iter_events()
        return self._events

    @property
    def text_stream(self) -> Iterator[str]:
        """Iterate over the text deltas only."""
        for event in self:
            if event.get("type") == "content_block_delta":
                delta = event["delta"]
                if delta.get("type") == "text_delta":
                    yield delta["text"]

    def get_final_message(self) -> Message:
        """Read the stream to its end and return the Message.

        After :meth:`close` this is the partial Message (``stop_reason`` ``None``).
        """
        for _ in self:
            pass
        return self._acc.final()

    @property
    def current_message(self) -> Message | None:
        """The Message as accumulated so far (``None`` before ``message_start``)."""
        return self._acc.snapshot() if self._acc.started else None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called before the stream finished."""
        return self._cancel.is_set() and not self._finished

    def close(self) -> None:
        """End the HTTP stream now (safe from any thread, e.g. a Stop button)."""
        self._cancel.set()
        self._release()

    # -- internals ----------------------------------------------------------------------------

    def _open(self) -> httpx.Response:
        with self._open_lock:
            if self._response is None:
                if self._cancel.is_set():
                    raise StreamError("The stream was closed before it started.")
                try:
                    self._response = self._open_response(self._cancel)
                except StoppedError:
                    stopped = True
                else:
                    stopped = False
                if stopped:  # raised out here: nothing chains to the sender's error
                    raise StreamError(
                        "The stream was closed before the reply started; nothing more was sent."
                    )
                assert self._response is not None
                self.request_id = self._response.headers.get("request-id")
                if self._cancel.is_set():
                    self._release()
            return self._response

    def _release(self) -> None:
        response = self._response
        if response is None:
            return
        # Shut the socket down first: a plain close() from another thread does not wake a
        # thread blocked reading it, shutdown() does.
        stream = response.extensions.get("network_stream")
        if stream is not None:
            sock = stream.get_extra_info("socket")
            if sock is not None:
                import socket

                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            response.close()

    def _iter_events(self) -> Iterator[StreamEvent]:
        import httpx

        if self._cancel.is_set() and self._response is None:
            return  # closed before it started: nothing was sent, nothing to read
        response = self._open()
        decoder = SSEDecoder()
        feed = self._acc.feed
        idle, limit = self._idle, self._max_bytes
        size = 0
        last = time.monotonic()
        problem: str | None = None
        garbled = True  # the usual reason for a problem below: what came is not the API's
        error_event: Any = None
        try:
            for chunk in bodies.chunks(response):
                size += len(chunk)
                if size > limit:
                    problem = f"the reply passed {limit // (1024 * 1024):,} MiB"
                    break
                events = decoder.feed(chunk)
                if not events:
                    if idle is not None and time.monotonic() - last > idle:
                        problem, garbled = f"no event arrived for {idle:g} s", False
                        break
                    continue
                last = time.monotonic()
                for sse in events:
                    try:
                        event = scan_json(sse.data)
                    except ValueError:
                        if sse.event in ("message", "ping"):
                            continue
                        problem = f"invalid JSON in {sse.event!r} event"
                        break
                    try:  # (not a JSON object: .get raises AttributeError, caught here)
                        if sse.event == "error" or (
                            sse.event == "message" and event.get("type") == "error"
                        ):
                            error_event = event
                            break
                        feed(event)
                    except _MALFORMED as exc:
                        problem = _malformed(exc, event, sse.event)
                        break
                    yield event
                if problem is not None or error_event is not None:
                    break
        except SSEError as exc:
            problem = str(exc)
        except (httpx.HTTPError, httpx.StreamError, bodies.UndecodableBodyError, OSError) as exc:
            problem = self._transport_problem(exc)
            garbled = isinstance(exc, (bodies.UndecodableBodyError, httpx.DecodingError))
        finally:
            self._release()
        if error_event is not None:
            raise self._error_event(error_event)
        if problem is not None:
            if problem == "cancelled":
                return
            raise self._broken(problem, garbled=garbled)
        if self._cancel.is_set() and not self._acc.stopped:
            return
        if not self._acc.stopped:
            raise self._broken(self._ended_early(size), garbled=not self._acc.started)
        self._finished = True

    def _transport_problem(self, exc: BaseException) -> str:
        if self._cancel.is_set():
            return "cancelled"
        import httpx

        if isinstance(exc, httpx.ReadTimeout):
            return "no data arrived in time (ReadTimeout)"
        if isinstance(exc, (bodies.UndecodableBodyError, httpx.DecodingError)):
            return "the reply could not be decoded"
        return f"the connection broke ({type(exc).__name__}) before the reply finished"

    def _ended_early(self, size: int) -> str:
        if self._acc.started:
            return "the stream ended before message_stop"
        response = self._response
        kind = response.headers.get("content-type", "") if response is not None else ""
        return (
            f"the stream ended before any event ({size:,} bytes of "
            f"{kind or 'no content-type'} that held no event)"
        )

    def _partial(self) -> Message | None:
        return self._acc.snapshot() if self._acc.started else None

    def _broken(self, why: str, *, garbled: bool = False) -> StreamError:
        hint = (
            "What arrived is not the API's stream: check ANTHROPIC_BASE_URL and any proxy in "
            "between, then try again."
            if garbled
            else None
        )
        return StreamError(
            f"The reply stream broke: {why}.",
            partial=self._partial(),
            request_id=self.request_id,
            hint=hint,
        )

    def _error_event(self, event: Any) -> StreamError:
        err = event.get("error") if isinstance(event, dict) else None
        if not isinstance(err, dict):
            return self._broken("an error event that is not the API's", garbled=True)
        etype = err.get("type") if isinstance(err.get("type"), str) else None
        message = str(err.get("message") or "error event")
        if self._redact is not None:
            message = self._redact(message)
        hint = None
        if etype == "overloaded_error":
            hint = "The API is overloaded; try again in a minute."
        return StreamError(
            f"The API sent an error during the reply: {etype}: {message}",
            partial=self._partial(),
            type=etype,
            request_id=self.request_id,
            hint=hint,
        )


def _malformed(exc: BaseException, event: Any, name: str) -> str:
    if not isinstance(event, dict):
        return f"a {name!r} event that is not a JSON object"
    etype = event.get("type")
    name = etype if isinstance(etype, str) else "an"
    if isinstance(exc, MalformedEventError):
        return f"a malformed {name} event ({exc})"
    return f"a malformed {name} event ({type(exc).__name__})"
