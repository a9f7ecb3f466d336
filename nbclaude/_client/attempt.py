"""One HTTP exchange, run on a worker thread so that its caller can stop waiting at once.

A request waiting for its response headers blocks in a socket read that nothing in the
calling thread can interrupt except a signal; a Stop button in another thread, or a deadline,
cannot. So :func:`exchange` sends the request on a short-lived worker thread and waits for it,
a stop (:class:`~nbclaude._client.cancel.Cancel`) and a time limit, whichever comes first. When
it stops waiting, the worker is *abandoned*: the socket it opened is shut down at once (httpx's
``trace`` hook reports each new connection), and whatever answer still arrives is closed
unread.

The same hook guarantees that nothing is sent after a stop: just before the request's headers
would be written, it checks the stop and raises instead.

The worker also reads whole bodies (any answer that is not a 2xx event stream) within
:data:`~nbclaude._client.body.MAX_BODY_BYTES`, so a slow body counts against the limit too.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from . import body as bodies
from .cancel import Cancel

if TYPE_CHECKING:
    import httpx

__all__ = ["ExpiredError", "Outcome", "StoppedError", "exchange"]


class StoppedError(Exception):
    """The request was stopped (nothing more is sent)."""


class ExpiredError(Exception):
    """The time limit passed before the answer was complete."""


class Outcome(NamedTuple):
    """What one exchange gave: a response (its body read, unless it is a 2xx event stream
    left open for the caller) or the exception that ended it (never raised by the worker)."""

    response: httpx.Response | None
    content: bytes | None
    error: BaseException | None


def _is_stream(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    return 200 <= response.status_code < 300 and not ("html" in kind or "json" in kind)


class _Worker:
    def __init__(
        self, http: httpx.Client, cancel: Cancel, wake: threading.Event, *, stream: bool, limit: int
    ) -> None:
        self._http = http
        self._wake = wake
        self._cancel = cancel
        self._stream = stream
        self._limit = limit
        self._lock = threading.Lock()
        self._abandoned = False
        self._sockets: list[socket.socket] = []
        self._response: httpx.Response | None = None
        self.outcome: Outcome | None = None
        self.finished = threading.Event()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: note each new connection's socket; refuse to connect or to
        send once stopped."""
        if name.endswith((".send_request_headers.started", "connect_tcp.started")):
            if self._abandoned or self._cancel.is_set():
                raise StoppedError
        elif name.endswith(("connect_tcp.complete", "start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with self._lock:
                    self._sockets.append(sock)
                    abandoned = self._abandoned
                if abandoned:
                    _shut(sock)

    def run(self, request: httpx.Request) -> None:
        response = None
        try:
            if self._cancel.is_set():
                raise StoppedError
            response = self._http.send(request, stream=True)
            with self._lock:
                self._response = response
            content = None
            if not (self._stream and _is_stream(response)):
                limit = bodies.MAX_BODY_BYTES if response.status_code >= 300 else self._limit
                content = bodies.read(response, limit)
                response.close()
            self.outcome = Outcome(response, content, None)
        except BaseException as exc:  # handed to the caller, which makes it clean
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
            self.outcome = Outcome(None, None, exc)
        finally:
            with self._lock:
                abandoned = self._abandoned
            if abandoned and self.outcome is not None and self.outcome.response is not None:
                with contextlib.suppress(Exception):
                    self.outcome.response.close()
            self.finished.set()
            self._wake.set()

    def abandon(self) -> None:
        """Stop caring: shut the connection down and close any answer."""
        with self._lock:
            self._abandoned = True
            sockets = list(self._sockets)
            response = self._response
        for sock in sockets:
            _shut(sock)
        if response is not None:
            stream = response.extensions.get("network_stream")
            found = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(found, socket.socket):
                _shut(found)
            if self.finished.is_set():
                with contextlib.suppress(Exception):
                    response.close()


def _shut(sock: socket.socket) -> None:
    # shutdown(), not close(): it wakes a thread blocked reading the socket.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def exchange(
    http: httpx.Client,
    build: Callable[[Callable[[str, dict[str, Any]], None]], httpx.Request],
    *,
    cancel: Cancel,
    stream: bool,
    wait: float | None,
    limit: int = bodies.MAX_BODY_BYTES,
) -> Outcome:
    """Send one request and wait for its answer, at most ``wait`` seconds.

    Parameters
    ----------
    http : httpx.Client
        Sends it.
    build : callable
        ``build(trace) -> httpx.Request``: the request, with ``trace`` as its httpcore
        ``trace`` extension.
    cancel : Cancel
        A stop ends the wait at once (:class:`StoppedError`).
    stream : bool
        Leave a 2xx event stream open (its body unread); every other body is read.
    wait : float, optional
        Seconds to wait for the answer (headers, and the body when it is read); past them
        :class:`ExpiredError`. ``None``: no limit but the socket's own timeouts.
    limit : int
        The most bytes of a 2xx body read here.

    Raises
    ------
    StoppedError, ExpiredError, KeyboardInterrupt
        The worker is abandoned first (its connection shut down).
    """
    wake = threading.Event()
    worker = _Worker(http, cancel, wake, stream=stream, limit=limit)
    request = build(worker.trace)
    forget = cancel.on_set(wake.set)
    thread = threading.Thread(target=worker.run, args=(request,), name="nbclaude-request")
    thread.daemon = True
    try:
        thread.start()
        wake.wait(wait)
    except BaseException:  # a kernel interrupt: stop the request on the way out
        worker.abandon()
        raise
    finally:
        forget()
    outcome = worker.outcome
    if cancel.is_set():
        worker.abandon()
        raise StoppedError
    if outcome is None:
        worker.abandon()
        raise ExpiredError
    return outcome
