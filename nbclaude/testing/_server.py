"""The loopback HTTP/1.1 server that plays plans over real sockets.

It is given a ``respond`` callable (``FakeAnthropic.respond``: method, target, headers, body ->
:class:`Plan`), never the fake itself, the way ``httpx.MockTransport`` takes a handler. One
thread per connection, keep-alive, chunked streams written event by event (each write
flushed, ``TCP_NODELAY``). A pause watches the socket, so a client that closes the stream early
ends its handler at once; a write to a closed socket ends the handler quietly. ``close()``
stops accepting, shuts every open connection down and joins every thread.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from ._plans import CUT, Plan

__all__ = ["FakeServer", "Respond"]

#: Answers one request: ``respond(method, target, headers, body) -> Plan``; ``target`` is the
#: path and query, header names are in lower case (``FakeAnthropic.respond`` is one).
Respond = Callable[[str, str, Mapping[str, str], bytes], Plan]

_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, OSError)


_COALESCE_LIMIT = 64 * 1024


def _internal_error() -> Plan:
    body = (
        b'{"type":"error","error":{"type":"api_error","message":"nbclaude.testing: internal '
        b'error in the fake (traceback on the server\'s stderr)"},"request_id":null}'
    )
    return Plan(500, [("content-type", "application/json"), ("x-should-retry", "false")], [body])


def _coalesced(parts: list[Any]) -> Iterator[Any]:
    """Join runs of byte parts (no pause between them) into writes of up to 64 KiB."""
    buf: list[bytes] = []
    size = 0
    for part in parts:
        if isinstance(part, bytes):
            buf.append(part)
            size += len(part)
            if size < _COALESCE_LIMIT:
                continue
            part = None
        if buf:
            yield b"".join(buf)
            buf, size = [], 0
        if part is not None:
            yield part
    if buf:
        yield b"".join(buf)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nbclaude-fake"
    sys_version = ""
    server: _TCPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    # -- reading ---------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    # -- writing ---------------------------------------------------------------------------
    def _answer(self) -> None:
        try:
            body = self._read_body()
            headers: dict[str, str] = {}
            for k, v in self.headers.items():
                k = k.lower()
                headers[k] = f"{headers[k]}, {v}" if k in headers else v
            try:
                plan = self.server.respond(self.command, self.path, headers, body)
            except Exception:  # a bug in the fake: say so loudly rather than drop the line
                traceback.print_exc(file=sys.stderr)
                plan = _internal_error()
            if plan.latency > 0 and not self._pause(plan.latency):
                self.close_connection = True
                return
            self._send_head(plan)
            for part in _coalesced(plan.parts) if plan.coalesce else plan.parts:
                if part is CUT:
                    self.wfile.flush()
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(part, float):
                    if not self._pause(part):
                        self.close_connection = True
                        return
                    continue
                assert isinstance(part, bytes)
                if not part:
                    continue
                if plan.chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                else:
                    self.wfile.write(part)
                self.wfile.flush()
            if plan.chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except _GONE:
            self.close_connection = True

    def _send_head(self, plan: Plan) -> None:
        self.send_response(plan.status)
        for k, v in plan.headers:
            self.send_header(k, v)
        if plan.chunked:
            self.send_header("transfer-encoding", "chunked")
        else:
            size = sum(len(p) for p in plan.parts if isinstance(p, bytes))
            if CUT in plan.parts:
                size *= 2  # announce the whole body; the drop happens halfway
            self.send_header("content-length", str(size))
        self.end_headers()
        self.wfile.flush()

    def _pause(self, seconds: float) -> bool:
        """Wait; ``False`` as soon as the client hangs up or the server stops."""
        deadline = time.monotonic() + seconds
        sock = self.connection
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self.server.stopping.is_set():
                return False
            try:
                readable, _, _ = select.select([sock], [], [], left)
            except (OSError, ValueError):
                return False
            if not readable:
                return True
            try:
                peek = sock.recv(1, socket.MSG_PEEK)
            except OSError:
                return False
            if not peek:
                return False  # the client closed its end
            # The client sent more bytes (a pipelined request): wait without watching.
            return not self.server.stopping.wait(max(0.0, deadline - time.monotonic()))


class _TCPServer(socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], respond: Respond) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.respond = respond
        self.stopping = threading.Event()
        self._conn_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name="nbclaude-fake-connection",
            daemon=True,
        )
        with self._conn_lock:
            self._connections[thread] = request
        thread.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # a broken connection must not print a traceback
            pass
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._connections.pop(threading.current_thread(), None)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        with self._conn_lock:
            items = list(self._connections.items())
        for _, sock in items:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _ in items:
            thread.join(timeout)


class FakeServer:
    """A loopback HTTP server, in a background thread, that answers with ``respond``.

    ``FakeAnthropic.serve()`` makes one for a fake (``FakeServer(fake.respond)``); use it as
    a context manager, or call :meth:`close`.

    Parameters
    ----------
    respond : callable
        ``respond(method, target, headers, body) -> Plan``: answers one request (header names
        in lower case). Usually a :class:`FakeAnthropic`'s ``respond``.
    host : str
        The address to bind (``"127.0.0.1"``; an IPv6 address works too).
    port : int
        The port to listen on; ``0`` picks a free one.

    Attributes
    ----------
    url : str
        ``"http://HOST:PORT"``, for ``base_url`` / ``ANTHROPIC_BASE_URL``.
    host : str
    port : int
        Where it listens.
    respond : callable
        What answers each request.

    Examples
    --------
    >>> from nbclaude.testing import FakeAnthropic
    >>> fake = FakeAnthropic()
    >>> with FakeServer(fake.respond) as server:
    ...     server.port > 0
    True
    """

    def __init__(self, respond: Respond, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not callable(respond):
            raise TypeError(
                f"FakeServer(respond): respond must be a callable such as fake.respond, not "
                f"{type(respond).__name__} (or start one with fake.serve())"
            )
        self.respond = respond
        self._server = _TCPServer((host, port), respond)
        address = self._server.server_address
        self.host: str = str(address[0])
        self.port: int = int(address[1])
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="nbclaude-fake-server",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    def __repr__(self) -> str:
        return f"FakeServer({self.url})"

    def close(self) -> None:
        """Stop the server: no new connections, open ones shut down, all threads joined."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._thread.join()
        self._server.stop()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
