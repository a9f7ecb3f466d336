"""``ReplayTransport``: answer requests from a cassette, and the rest from the offline fake.

A ``POST /v1/messages`` whose match key (``_cassette.py``) was recorded gets the recorded
Message: as JSON, or, when the request says ``"stream": true``, as the real event sequence
(``message_start``, each block's start, deltas and stop, ``message_delta``, ``message_stop``;
``_wire.stream_events``) with word-sized text deltas paced at ``rate`` deltas a second, so the
magic and the widget show it like a live reply. Every other request goes to ``fallback`` (a
:class:`FakeAnthropic` unless given), whose default reply carries its offline marker.

How a caller tells them apart: a replayed answer has the response header
``x-nbclaude-replay: hit`` and a ``request-id`` that starts with ``req_nbclaude_replay_``
(:func:`is_replayed`); a ``POST /v1/messages`` the cassette did not have gets
``x-nbclaude-replay: miss``. No key and no network are needed: the transport never sends
anything anywhere.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping
from typing import Any

import httpx

from ._cassette import Cassette, load_cassette, match_key
from ._inprocess import play, play_async
from ._plans import Part, Plan, json_plan, stream_plan
from ._wire import Finished, Pause, encode_event, stream_events

__all__ = [
    "REPLAYED_REQUEST_ID_PREFIX",
    "REPLAY_HEADER",
    "ReplayTransport",
    "is_replayed",
]

#: The response header that says whether a ``POST /v1/messages`` was replayed.
REPLAY_HEADER = "x-nbclaude-replay"
#: The start of the ``request-id`` of every replayed answer.
REPLAYED_REQUEST_ID_PREFIX = "req_nbclaude_replay_"
#: The error a replayed stream ends with when its recording was stopped (Stop) at that point.
STOPPED = (
    "this reply was stopped when this lesson was recorded: the cassette has no more of it "
    "(stop it there, or ask again)"
)


def is_replayed(request_id: str | None) -> bool:
    """Whether a reply with this ``request-id`` came from a cassette (``Reply.request_id``,
    ``MessageStream.request_id``).

    Examples
    --------
    >>> is_replayed("req_nbclaude_replay_000001"), is_replayed("req_011CFake01"), is_replayed(None)
    (True, False, False)
    """
    return bool(request_id) and str(request_id).startswith(REPLAYED_REQUEST_ID_PREFIX)


class ReplayTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport that replays a cassette and falls back to the offline fake.

    Parameters
    ----------
    path : str or PathLike or Cassette
        The cassette (JSONL) recorded with :class:`RecordingTransport`, or a loaded one.
    fallback : httpx transport, optional
        Answers everything the cassette does not have; default: ``FakeAnthropic()``.
    rate : float or None
        Deltas (about a word each) per second of a replayed stream; ``None``: no pauses.
    chunk_size : int, optional
        Characters per text delta instead of word-sized pieces.

    Attributes
    ----------
    cassette : Cassette
        What is replayed.
    hits, misses, refused : int
        How many ``POST /v1/messages`` were replayed, how many the fallback answered, and how
        many it refused (an error status: a request the API refuses, such as a retired model,
        failed when the lesson was recorded too, so only replies are in the cassette).

    Examples
    --------
    >>> import httpx
    >>> from nbclaude.testing import Cassette, match_key
    >>> body = {"model": "claude-haiku-4-5", "max_tokens": 50,
    ...         "messages": [{"role": "user", "content": "Hi"}]}
    >>> recorded = {"id": "msg_1", "type": "message", "role": "assistant",
    ...             "model": "claude-haiku-4-5-20251001", "stop_reason": "end_turn",
    ...             "stop_sequence": None, "usage": {"input_tokens": 8, "output_tokens": 3},
    ...             "content": [{"type": "text", "text": "Hello from the cassette"}]}
    >>> replay = ReplayTransport(Cassette([{"key": match_key(body), "message": recorded}]))
    >>> with httpx.Client(transport=replay, base_url="https://api.anthropic.com",
    ...                   headers={"x-api-key": "offline", "anthropic-version": "2023-06-01"}) as c:
    ...     hit = c.post("/v1/messages", json=body)
    ...     miss = c.post("/v1/messages", json={**body, "max_tokens": 40})
    >>> hit.headers["x-nbclaude-replay"], hit.json()["content"][0]["text"]
    ('hit', 'Hello from the cassette')
    >>> miss.headers["x-nbclaude-replay"], miss.json()["content"][0]["text"][:9]
    ('miss', '*(offline')
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | Cassette,
        fallback: httpx.BaseTransport | None = None,
        *,
        rate: float | None = 30.0,
        chunk_size: int | None = None,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("ReplayTransport(rate=): deltas per second > 0, or None")
        self.cassette = path if isinstance(path, Cassette) else load_cassette(path)
        if fallback is None:
            from ._fake import FakeAnthropic

            fallback = FakeAnthropic(keep_requests=0)
        self.fallback = fallback
        self.rate = rate
        self.chunk_size = chunk_size
        self.hits = 0
        self.misses = 0
        self.refused = 0
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"ReplayTransport({len(self.cassette)} exchanges, {self.hits} hits)"

    def _replayed(self, request: httpx.Request) -> tuple[Plan | None, bool]:
        """The plan of a replayed answer (``None``: not replayed) and whether it is a
        ``POST /v1/messages``."""
        if request.method != "POST" or not request.url.path.rstrip("/").endswith("/v1/messages"):
            return None, False
        try:
            body = json.loads(request.content)
        except ValueError:
            return None, True
        if not isinstance(body, Mapping):
            return None, True
        entry = self.cassette.take_entry(match_key(body))
        stream = body.get("stream") is True
        if entry is None or (entry.get("stopped") and not stream):
            return None, True
        self.hits += 1
        plan = self._plan(entry["message"], stream=stream, stopped=bool(entry.get("stopped")))
        plan.headers += [
            ("request-id", f"{REPLAYED_REQUEST_ID_PREFIX}{next(self._ids):06d}"),
            (REPLAY_HEADER, "hit"),
        ]
        return plan, True

    def _plan(self, message: Mapping[str, Any], *, stream: bool, stopped: bool = False) -> Plan:
        whole = json.loads(json.dumps(message))  # a copy: the cassette may replay it again
        if not stream:
            return json_plan(200, whole)
        done = Finished(
            message=whole,
            chunk_size=self.chunk_size,
            pause=1.0 / self.rate if self.rate else 0.0,
        )
        events = stream_events(done)
        if stopped:  # what arrived before the Stop, then an error that says so
            ends = ("message_delta", "message_stop")
            events = [e for e in events if isinstance(e, Pause) or e["type"] not in ends]
            last = max((i for i, e in enumerate(events) if not isinstance(e, Pause)
                        and e["type"] == "content_block_stop"), default=None)  # fmt: skip
            if last is not None:
                del events[last]  # the block the Stop cut stays open
            events.append({"type": "error", "error": {"type": "api_error", "message": STOPPED}})
        parts: list[Part] = [p if isinstance(p, Pause) else encode_event(p) for p in events]
        return stream_plan(parts)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Replay ``request`` if the cassette has it, else ask the fallback."""
        request.read()
        plan, is_messages = self._replayed(request)
        if plan is not None:
            return play(plan, request)
        response = self.fallback.handle_request(request)
        if is_messages:
            self._missed(response)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The async twin of :meth:`handle_request` (the fallback must be async-capable)."""
        await request.aread()
        plan, is_messages = self._replayed(request)
        if plan is not None:
            return await play_async(plan, request)
        if not isinstance(self.fallback, httpx.AsyncBaseTransport):
            raise TypeError("ReplayTransport: the fallback transport is not async-capable")
        response = await self.fallback.handle_async_request(request)
        if is_messages:
            self._missed(response)
        return response

    def _missed(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            self.refused += 1
        else:
            self.misses += 1
        response.headers[REPLAY_HEADER] = "miss"

    def close(self) -> None:
        """Close the fallback."""
        self.fallback.close()
