"""An incremental decoder for ``text/event-stream`` (Server-Sent Events).

Follows the WHATWG event-stream parsing rules: lines end with CR, LF or CRLF (a CRLF split across
two chunks is still one line end); ``event:``, ``data:``, ``id:`` and ``retry:`` fields, one
optional space after the colon; lines starting with ``:`` are comments; several ``data:`` lines
join with ``\\n``; a blank line dispatches the event; an event with no data is not dispatched; a
leading UTF-8 BOM is skipped; an unfinished event at the end of input is dropped.

It works on bytes and splits on ``\\n`` with ``bytes.split`` (the common case: the API sends LF
only), which makes it as fast as ``httpx``'s line iterator plus a field check.

It is bounded: a line, or an event's data, longer than ``max_event_bytes`` (16 MiB by default,
far above any real event) raises :class:`SSEError` instead of growing without end (a stream of
bytes that never ends a line).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

__all__ = ["MAX_EVENT_BYTES", "SSEDecoder", "SSEError", "ServerSentEvent", "iter_sse"]

#: The longest line, or event data, the decoder keeps (a real event is at most a few MB: a
#: server tool's result arrives whole).
MAX_EVENT_BYTES = 16 * 1024 * 1024


class SSEError(ValueError):
    """The stream is not one the decoder will follow (a line or an event over its limit)."""


class ServerSentEvent(NamedTuple):
    """One dispatched event. ``event`` is ``"message"`` when the stream named none."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed bytes in any chunking, get whole events back.

    Examples
    --------
    >>> d = SSEDecoder()
    >>> d.feed(b'event: ping\\ndata: {"type": "pi')
    []
    >>> d.feed(b'ng"}\\n\\n')
    [ServerSentEvent(event='ping', data='{"type": "ping"}', id=None, retry=None)]
    """

    __slots__ = (
        "_buf",
        "_data",
        "_event",
        "_id",
        "_limit",
        "_pending_cr",
        "_retry",
        "_size",
        "_started",
    )

    def __init__(self, *, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._limit = max_event_bytes
        self._size = 0  # bytes of data kept for the event being read
        self._buf = b""
        self._pending_cr = False
        self._started = False
        self._event: str | None = None
        self._data: list[bytes] = []
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; return the events it completed (maybe none).

        Raises
        ------
        SSEError
            A line or an event's data passed ``max_event_bytes``.
        """
        if not chunk:
            return []
        if self._pending_cr:
            # The previous chunk ended with CR: a LF here belongs to that line end.
            self._pending_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            if chunk[-1:] == b"\r":
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buf = self._buf + chunk if self._buf else chunk
        if not self._started:
            if len(buf) < 3 and b"\xef\xbb\xbf".startswith(buf):
                self._buf = buf
                return []
            self._started = True
            if buf.startswith(b"\xef\xbb\xbf"):
                buf = buf[3:]
        lines = buf.split(b"\n")
        self._buf = lines.pop()
        if len(self._buf) > self._limit:
            self._buf = b""
            raise SSEError(f"a line longer than {self._limit / 1048576:g} MiB")
        if not lines:
            return []
        return self._lines(lines)

    def flush(self) -> list[ServerSentEvent]:
        """End of input: reset the decoder. An unfinished event (no blank line after it) is
        dropped, as the spec says, so this always returns ``[]``; it exists so callers can
        treat every decoder the same way (``feed`` ... ``flush``)."""
        self._buf = b""
        self._pending_cr = False
        self._started = False
        self._event, self._data, self._id, self._retry = None, [], None, None
        self._size = 0
        return []

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        out: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    out.append(
                        ServerSentEvent(
                            self._event or "message",
                            (data[0] if len(data) == 1 else b"\n".join(data)).decode(
                                "utf-8", "replace"
                            ),
                            self._id,
                            self._retry,
                        )
                    )
                    data.clear()
                    self._size = 0
                self._event = None
                continue
            # Hot path: the API's own lines.
            if line[:6] == b"data: ":
                if data:  # a second data line: the event's size must stay bounded
                    self._grow(len(line))
                data.append(line[6:])
                continue
            if line[:7] == b"event: ":
                self._event = line[7:].decode("utf-8", "replace")
                continue
            if line[:1] == b":":
                continue  # comment
            name, sep, value = line.partition(b":")
            if sep and value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                if data:
                    self._grow(len(value))
                data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
            elif name == b"id":
                if b"\0" not in value:
                    self._id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                self._retry = int(value)
            # any other field name is ignored
        return out

    def _grow(self, n: int) -> None:
        self._size += n
        if self._size > self._limit:
            self._data.clear()
            self._size = 0
            raise SSEError(f"an event larger than {self._limit / 1048576:g} MiB")


def iter_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Decode an iterable of byte chunks into events.

    Examples
    --------
    >>> [e.event for e in iter_sse([b"event: a\\ndata: 1\\n\\nevent: b\\ndata: 2\\n\\n"])]
    ['a', 'b']
    """
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()
