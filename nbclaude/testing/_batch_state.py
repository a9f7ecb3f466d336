"""One Message Batch in the fake: its record, how time moves it, and how the API shows it.

:class:`Batch` holds the requests and their results; :meth:`Batch.tick` lets time pass under
a :class:`Pace`, answering requests with the callable it is given (never the fake);
:meth:`Batch.to_json` is the ``MessageBatch`` and :meth:`Batch.results` the results file. The
rules are described in ``_batches.py``, which keeps the batches and serves the endpoints.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ._batch_request import AnswerRequest, Item
from ._plans import json_bytes

__all__ = ["EXPIRES_AFTER", "Batch", "Pace", "now", "rfc3339", "shuffled"]

#: How long a batch may take before it expires.
EXPIRES_AFTER = timedelta(hours=24)
_COUNT_KEYS = ("processing", "succeeded", "errored", "canceled", "expired")


def rfc3339(when: datetime) -> str:
    """A timestamp as the API writes it.

    Examples
    --------
    >>> rfc3339(datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc))
    '2026-11-01T09:30:00.000000Z'
    """
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(timezone.utc)


def shuffled(n: int, seed: str) -> list[int]:
    """A deterministic permutation of ``range(n)`` that is never the identity for n >= 2.

    Examples
    --------
    >>> order = shuffled(5, "msgbatch_1")
    >>> sorted(order) == list(range(5)) and order != list(range(5))
    True
    """
    order = list(range(n))
    random.Random(seed).shuffle(order)
    if n >= 2 and order == sorted(order):
        order.reverse()
    return order


@dataclass(frozen=True)
class Pace:
    """How fast requests finish (see ``FakeBatches.pace``); the default ends a batch at its
    first status poll.

    Examples
    --------
    >>> Pace(per_poll=2).cancel_polls
    1
    """

    per_poll: int | None = None  # requests finished by each status poll
    per_second: float | None = None  # requests finished per second since creation
    live_counts: bool = True  # request_counts move as requests finish
    cancel_polls: int = 1  # status polls a canceling batch takes to end


@dataclass
class Batch:
    """One batch: its requests (with their results once finished) and its clock.

    Examples
    --------
    >>> batch = Batch("msgbatch_1", [Item("a", {}), Item("b", {})], beta=False, origin="http://h")
    >>> batch.tick(Pace(per_poll=1), lambda params, beta: {"type": "succeeded"}, poll=True)
    >>> batch.finished, batch.status
    (1, 'in_progress')
    >>> batch.to_json(Pace())["request_counts"]["succeeded"]
    1
    """

    id: str
    items: list[Item]
    beta: bool
    origin: str  # scheme://host of the request that created it, for results_url
    created_at: datetime = field(default_factory=now)
    started: float = field(default_factory=time.monotonic)  # for per_second pacing
    polls: int = 0
    extra: int = 0  # requests finished by hand (advance)
    finished: int = 0  # requests finished so far: always a prefix of items
    status: str = "in_progress"
    cancel_polls: int = 0  # status polls left before a canceling batch ends
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None

    # -- time ----------------------------------------------------------------------------------
    def due(self, pace: Pace) -> int:
        """How many requests should have finished by now (may exceed the batch's size)."""
        if pace.per_poll is None and pace.per_second is None:
            due = len(self.items) if self.polls else 0
        else:
            due = self.polls * (pace.per_poll or 0)
            if pace.per_second is not None:
                elapsed = time.monotonic() - self.started
                due = max(due, math.floor(elapsed * pace.per_second))
        return due + self.extra

    def tick(self, pace: Pace, answer: AnswerRequest, *, poll: bool = False) -> None:
        """Let time pass (a status poll counts one poll); finished requests get ``answer``."""
        if self.status == "ended":
            return
        if self.status == "canceling":
            if poll:
                self.cancel_polls -= 1
                if self.cancel_polls <= 0:
                    self.end("canceled")
            return
        if poll:
            self.polls += 1
        due = min(self.due(pace), len(self.items))
        while self.finished < due:
            item = self.items[self.finished]
            item.result = answer(item.params, self.beta)
            self.finished += 1
        if self.finished == len(self.items):
            self.end()

    def advance(self, pace: Pace, answer: AnswerRequest, n: int | None = None) -> None:
        """Finish ``n`` more requests now (all when ``None``); a ``canceling`` batch ends."""
        if self.status == "ended":
            return
        if self.status == "canceling":
            self.end("canceled")
            return
        self.extra += len(self.items) if n is None else n
        self.tick(pace, answer)

    def cancel(self, pace: Pace) -> None:
        """Start canceling: an ``in_progress`` batch turns ``canceling``."""
        if self.status == "in_progress":
            self.status = "canceling"
            self.cancel_polls = pace.cancel_polls
            self.cancel_initiated_at = now()

    def end(self, leftover: str = "canceled") -> None:
        """End the batch; requests not finished yet end as ``leftover``."""
        for item in self.items[self.finished :]:
            item.result = {"type": leftover}
        self.finished = len(self.items)
        self.status = "ended"
        self.ended_at = now()

    # -- as the API shows it -------------------------------------------------------------------
    def to_json(self, pace: Pace) -> dict[str, Any]:
        """The ``MessageBatch`` object."""
        counts = dict.fromkeys(_COUNT_KEYS, 0)
        if self.status != "ended" and not pace.live_counts:
            counts["processing"] = len(self.items)
        else:
            for item in self.items:
                kind = item.result["type"] if item.result is not None else "processing"
                counts[kind] = counts.get(kind, 0) + 1
        ended = self.status == "ended"
        return {
            "id": self.id,
            "archived_at": None,
            "cancel_initiated_at": (
                rfc3339(self.cancel_initiated_at) if self.cancel_initiated_at else None
            ),
            "created_at": rfc3339(self.created_at),
            "ended_at": rfc3339(self.ended_at) if self.ended_at else None,
            "expires_at": rfc3339(self.created_at + EXPIRES_AFTER),
            "processing_status": self.status,
            "request_counts": counts,
            "results_url": (
                f"{self.origin}/v1/messages/batches/{self.id}/results" if ended else None
            ),
            "type": "message_batch",
        }

    def results(self) -> bytes:
        """The results file: one JSON line per request, in a shuffled order."""
        lines = [
            json_bytes({"custom_id": item.custom_id, "result": item.result}) + b"\n"
            for item in self.items
        ]
        return b"".join(lines[i] for i in shuffled(len(lines), self.id))
