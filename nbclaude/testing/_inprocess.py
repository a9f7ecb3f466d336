"""Playing a plan in process: the httpx response and its byte streams.

A pause longer than the request's read timeout raises ``httpx.ReadTimeout`` after that timeout,
as a silent server would make it; ``close()`` on the byte stream ends a pending pause at once;
a drop raises ``httpx.RemoteProtocolError`` like a real dropped connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Mapping

import httpx

from ._plans import CUT, DropMark, Part, Plan

__all__ = ["play", "play_async", "request_headers"]


def play(plan: Plan, request: httpx.Request) -> httpx.Response:
    """The httpx response for ``plan`` (blocking for its latency, as a server would)."""
    read_timeout = _read_timeout(request)
    if plan.latency > 0:
        if read_timeout is not None and plan.latency > read_timeout:
            threading.Event().wait(read_timeout)
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        threading.Event().wait(plan.latency)
    return httpx.Response(
        plan.status,
        headers=response_headers(plan),
        stream=_SyncStream(plan.parts, read_timeout, request),
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
    )


async def play_async(plan: Plan, request: httpx.Request) -> httpx.Response:
    """The async twin of :func:`play`."""
    read_timeout = _read_timeout(request)
    if plan.latency > 0:
        if read_timeout is not None and plan.latency > read_timeout:
            await asyncio.sleep(read_timeout)
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        await asyncio.sleep(plan.latency)
    return httpx.Response(
        plan.status,
        headers=response_headers(plan),
        stream=_AsyncStream(plan.parts, read_timeout, request),
        request=request,
        extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
    )


def response_headers(plan: Plan) -> list[tuple[str, str]]:
    headers = list(plan.headers)
    if plan.chunked:
        headers.append(("transfer-encoding", "chunked"))
    else:
        size = sum(len(p) for p in plan.parts if isinstance(p, bytes))
        if CUT in plan.parts:
            size *= 2  # announce the whole body; the drop happens halfway
        headers.append(("content-length", str(size)))
    return headers


def request_headers(request: httpx.Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in request.headers.multi_items():
        k = k.lower()
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read") if isinstance(timeout, Mapping) else None
    return float(value) if isinstance(value, (int, float)) else None


class _SyncStream(httpx.SyncByteStream):
    """A response body played in process; ``close()`` ends a pending pause at once."""

    def __init__(self, parts: list[Part], read_timeout: float | None, request: httpx.Request):
        self._parts = parts
        self._read_timeout = read_timeout
        self._request = request
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for part in self._parts:
            if self._closed.is_set():
                return
            if isinstance(part, DropMark):
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)",
                    request=self._request,
                )
            if isinstance(part, float):
                timeout = self._read_timeout
                if timeout is not None and part > timeout:
                    if self._closed.wait(timeout):
                        return
                    raise httpx.ReadTimeout("The read operation timed out", request=self._request)
                if self._closed.wait(part):
                    return
                continue
            yield part

    def close(self) -> None:
        self._closed.set()


class _AsyncStream(httpx.AsyncByteStream):
    """The async twin of :class:`_SyncStream`."""

    def __init__(self, parts: list[Part], read_timeout: float | None, request: httpx.Request):
        self._parts = parts
        self._read_timeout = read_timeout
        self._request = request
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            if self._closed:
                return
            if isinstance(part, DropMark):
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)",
                    request=self._request,
                )
            if isinstance(part, float):
                timeout = self._read_timeout
                if timeout is not None and part > timeout:
                    await asyncio.sleep(timeout)
                    raise httpx.ReadTimeout("The read operation timed out", request=self._request)
                await asyncio.sleep(part)
                continue
            yield part

    async def aclose(self) -> None:
        self._closed = True
