"""Hostile HTTP servers on 127.0.0.1, for the client's hardening tests.

:class:`Hostile` is a raw-socket HTTP/1.1 server: it reads each request (headers and a
``content-length`` body), counts it, and answers it with the next *behaviour* of its script (the
last one repeats). A behaviour is a function ``(conn, request, stop) -> None`` that writes
whatever it likes on the socket: the helpers below make the usual ones (a redirect, a gzip
bomb, a slowloris drip, garbage SSE, a stall before the headers, an HTML error page, ...).

Everything is bounded: every wait is ``stop.wait(...)`` with a limit, the server stops
accepting and closes every connection when its ``with`` block ends, and its threads are joined
with a timeout. It never talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = [
    "Behaviour",
    "Hostile",
    "Request",
    "bad_gzip",
    "gzip_bomb",
    "raw",
    "redirect",
    "respond",
    "slowloris",
    "sse_events",
    "stall",
]

#: The most seconds any behaviour waits (so a test that goes wrong still ends).
LIMIT = 30.0


@dataclass
class Request:
    """One request as the server read it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Behaviour = Callable[[socket.socket, Request, threading.Event], None]


class Hostile:
    """A scripted raw HTTP server on 127.0.0.1 that counts the requests it reads.

    Examples
    --------
    >>> import httpx
    >>> with Hostile(respond(200, b'{"ok": true}')) as srv:
    ...     httpx.get(srv.url + "/x").json(), srv.count
    ({'ok': True}, 1)
    """

    def __init__(self, *script: Behaviour) -> None:
        self._script = list(script) or [respond(200, b"{}")]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self.requests: list[Request] = []
        #: Monotonic times at which a client closed a connection while a behaviour waited.
        self.hangups: list[float] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        """How many requests were read (whole: headers and body)."""
        with self._lock:
            return len(self.requests)

    def __enter__(self) -> Hostile:
        thread = threading.Thread(target=self._accept, daemon=True, name="hostile-accept")
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        for thread in list(self._threads):
            thread.join(5)

    # -- internals ------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(LIMIT)
        buf = b""
        try:
            while not self._stop.is_set():
                request, buf = _read_request(conn, buf, self._stop)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                    index = len(self.requests) - 1
                behaviour = self._script[min(index, len(self._script) - 1)]
                behaviour(conn, request, self._stop)
                if getattr(behaviour, "closes", True):
                    return
        except OSError:
            return
        finally:
            if _peer_closed(conn):
                self.hangups.append(time.monotonic())
            with contextlib.suppress(OSError):
                conn.close()


def _read_request(
    conn: socket.socket, buf: bytes, stop: threading.Event
) -> tuple[Request | None, bytes]:
    while b"\r\n\r\n" not in buf:
        if stop.is_set():
            return None, b""
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return Request(method, path, headers, rest[:length]), rest[length:]


def _peer_closed(conn: socket.socket) -> bool:
    try:
        conn.setblocking(False)
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _head(status: int, headers: Iterable[tuple[str, str]], reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- behaviours -----------------------------------------------------------------------------------


def raw(data: bytes) -> Behaviour:
    """Write ``data`` as it is, then close."""

    def behaviour(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(data)

    return behaviour


def respond(
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: Iterable[tuple[str, str]] = (),
    keep_alive: bool = False,
) -> Behaviour:
    """An ordinary answer with a ``content-length``."""

    def behaviour(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        hs = [("content-type", content_type), ("content-length", str(len(body))), *headers]
        if not keep_alive:
            hs.append(("connection", "close"))
        conn.sendall(_head(status, hs) + body)

    behaviour.closes = not keep_alive  # type: ignore[attr-defined]
    return behaviour


def redirect(location: str, status: int = 307) -> Behaviour:
    """A redirect to ``location`` (an absolute URL or a path)."""
    return respond(status, b"", content_type="text/plain", headers=[("location", location)])


def gzip_bomb(size: int, *, content_type: str = "application/json", status: int = 200) -> Behaviour:
    """A gzip body that inflates to ``size`` bytes of spaces (a few KiB on the wire per MiB)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    parts = [comp.compress(block) for _ in range(size >> 20)]
    parts.append(comp.compress(b" " * (size & ((1 << 20) - 1))))
    parts.append(comp.flush())
    body = b"".join(parts)
    return respond(status, body, content_type=content_type, headers=[("content-encoding", "gzip")])


def bad_gzip(*, content_type: str = "application/json") -> Behaviour:
    """A body that says it is gzip and is not (a decoding error)."""
    body = gzip.compress(b'{"type": "message"}')[:10] + b"this is not deflate data at all"
    return respond(200, body, content_type=content_type, headers=[("content-encoding", "gzip")])


def slowloris(
    data: bytes,
    *,
    every: float = 0.2,
    status: int = 200,
    content_type: str = "application/json",
    headers_too: bool = False,
) -> Behaviour:
    """Send the answer one byte every ``every`` seconds (the body only, or the headers too)."""

    def behaviour(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        head = _head(status, [("content-type", content_type), ("connection", "close")])
        if not headers_too:
            conn.sendall(head)
            payload = data
        else:
            payload = head + data
        deadline = time.monotonic() + LIMIT
        for i in range(len(payload)):
            if stop.wait(every) or time.monotonic() > deadline:
                return
            conn.sendall(payload[i : i + 1])

    return behaviour


def stall(seconds: float = LIMIT, then: Behaviour | None = None) -> Behaviour:
    """Read the request and say nothing for ``seconds`` (ends early when the client hangs up),
    then answer with ``then`` (if given)."""

    def behaviour(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        deadline = time.monotonic() + min(seconds, LIMIT)
        conn.settimeout(0.05)
        while time.monotonic() < deadline and not stop.is_set():
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return  # the client hung up
            except TimeoutError:
                continue
            except OSError:
                return
        conn.settimeout(LIMIT)
        if then is not None and not stop.is_set():
            then(conn, request, stop)

    return behaviour


def sse_events(body: bytes, *, content_type: str = "text/event-stream") -> Behaviour:
    """A 200 whose body is ``body`` (SSE or anything else), then the connection closes."""

    def behaviour(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        hs = [("content-type", content_type), ("connection", "close")]
        conn.sendall(_head(200, hs) + body)

    return behaviour


def sse(*events: dict[str, Any]) -> bytes:
    """Events as SSE bytes (``event:`` from each dict's ``type``)."""
    return b"".join(
        f"event: {e.get('type', 'message')}\ndata: {json.dumps(e)}\n\n".encode() for e in events
    )


def message_start(model: str = "claude-haiku-4-5") -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_hostile",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    }


def text_start(index: int = 0) -> dict[str, Any]:
    return {
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": "text", "text": ""},
    }


def text_delta(text: str, index: int = 0) -> dict[str, Any]:
    return {
        "type": "content_block_delta",
        "index": index,
        "delta": {"type": "text_delta", "text": text},
    }


def stream_end(index: int = 0) -> list[dict[str, Any]]:
    return [
        {"type": "content_block_stop", "index": index},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
