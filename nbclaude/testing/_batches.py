"""The fake's Message Batches endpoints (PROTOCOL.md §7), with simulated processing time.

Routes::

    POST   /v1/messages/batches                 create   -> MessageBatch
    GET    /v1/messages/batches                 list     -> page of MessageBatch, newest first
    GET    /v1/messages/batches/{id}            retrieve -> MessageBatch (a "status poll")
    POST   /v1/messages/batches/{id}/cancel     cancel   -> MessageBatch ("canceling")
    DELETE /v1/messages/batches/{id}            delete   -> {"id", "type": "message_batch_deleted"}
    GET    /v1/messages/batches/{id}/results    results  -> JSON Lines, shuffled

**Validation.** The batch itself is checked when it is created (``requests`` is a list of 1 to
100,000 ``{"custom_id", "params"}`` objects, each ``custom_id`` unique and matching
``^[a-zA-Z0-9_-]{1,64}$``, the body at most 256 MB); a bad batch is a 400 (413 for the size).
Each request's ``params`` are checked only when that request is processed, exactly like
``POST /v1/messages`` (same texts), plus the batch rules (no ``stream``, ``max_tokens`` >= 1):
an invalid request does not fail the batch, it ends ``errored`` with the error body the API
would have answered, as the real service does.

**Time.** Processing is simulated, deterministic and fast. A batch starts ``in_progress`` with
every request ``processing``; requests finish in input order as time passes, and time passes
in *status polls* (``GET /v1/messages/batches/{id}``), in seconds, or by hand:

* default: every request finishes at the batch's first status poll;
* ``fake.batches.pace(per_poll=2)``: each status poll finishes 2 more requests;
  ``per_poll=0`` finishes nothing by itself (use :meth:`FakeBatches.advance`);
* ``fake.batches.pace(per_second=5.0)``: 5 requests per second of wall-clock time since the
  batch was created (seen by any request about the batch);
* ``fake.batches.advance(batch_id, n)``: finish ``n`` more requests now (all when ``n`` is
  omitted); ``fake.batches.expire(batch_id)``: end it now, unfinished requests ``expired``.

A finished request is answered like a non-streaming ``POST /v1/messages``: it consumes the next
script item, or gets the default reply. Reply items give ``succeeded`` results (``usage`` says
``service_tier: "batch"``); :class:`HTTPError` and :class:`StreamErrorEvent` give ``errored``
results with their error type and message; :class:`Cut` gives an ``api_error``; :class:`Delay`
gives its reply (no waiting); :class:`SSE` and :class:`RawResponse` are decoded into a Message
(or an error). Invalid requests consume nothing.

**Cancel.** ``cancel`` turns an ``in_progress`` batch ``canceling``; at its next status poll
(``pace(cancel_polls=n)``: its n-th; or at :meth:`FakeBatches.advance`) it ends, and the
requests not yet finished end ``canceled``.

**Counts.** ``request_counts`` move as requests finish (so progress displays have something to
show). The API reference says the finished counts stay zero until the whole batch ends; use
``pace(live_counts=False)`` to get exactly that.

Results are served in a deterministic shuffled order (never the input order when there are
two or more), so clients must match them by ``custom_id``. Error texts marked
``# CONSTRUCTED`` are our best guess in the API's style; ``# real (issues)`` ones were read off
real API answers pasted in public GitHub issues.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from nbclaude._api.limits import MAX_PAGE_LIMIT

from ._batch_request import Item, answer, parse_batch
from ._paging import page_of
from ._plans import Plan, json_bytes, json_plan
from ._request import FakeAPIError, bad

if TYPE_CHECKING:
    from ._fake import FakeAnthropic
    from ._incoming import Incoming

__all__ = ["FakeBatches"]

_EXPIRES_AFTER = timedelta(hours=24)
_COUNT_KEYS = ("processing", "succeeded", "errored", "canceled", "expired")


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Batch:
    id: str
    items: list[Item]
    beta: bool
    origin: str  # scheme://host of the request that created it, for results_url
    created_at: datetime
    started: float  # time.monotonic() at creation
    polls: int = 0
    extra: int = 0  # requests finished by hand (advance)
    finished: int = 0  # requests finished so far: always a prefix of items
    status: str = "in_progress"
    cancel_polls: int = 0  # status polls left before a canceling batch ends
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None


class FakeBatches:
    """The Message Batches of one :class:`FakeAnthropic`: storage, time and the endpoints.

    Reach it as ``fake.batches``. See the module docstring for the rules; the methods here
    script time, and it reads like a mapping from batch id to the ``MessageBatch`` as the API
    would show it now (reading does not advance time).

    Examples
    --------
    >>> from nbclaude.testing import FakeAnthropic
    >>> fake = FakeAnthropic()
    >>> fake.batches.pace(per_poll=1) is fake.batches
    True
    >>> len(fake.batches), list(fake.batches)
    (0, [])
    """

    def __init__(self, fake: FakeAnthropic) -> None:
        self._fake = fake
        self._lock = threading.RLock()
        self._batches: dict[str, _Batch] = {}  # insertion order = creation order
        self._per_poll: int | None = None
        self._per_second: float | None = None
        self._live_counts = True
        self._cancel_polls = 1

    def __repr__(self) -> str:
        return f"FakeBatches({len(self)} batches)"

    def __len__(self) -> int:
        with self._lock:
            return len(self._batches)

    def __getitem__(self, batch_id: str) -> dict[str, Any]:
        """The MessageBatch as the API would show it now (without advancing time)."""
        with self._lock:
            return self._json(self._batches[batch_id])

    def __iter__(self) -> Iterator[str]:
        """The batch ids, oldest first."""
        with self._lock:
            return iter(list(self._batches))

    def __contains__(self, batch_id: object) -> bool:
        with self._lock:
            return batch_id in self._batches

    # -- scripting time ----------------------------------------------------------------------
    def pace(
        self,
        *,
        per_poll: int | None = None,
        per_second: float | None = None,
        live_counts: bool = True,
        cancel_polls: int = 1,
    ) -> FakeBatches:
        """Set how fast requests finish (for existing and new batches); returns ``self``.

        Parameters
        ----------
        per_poll : int, optional
            Requests finished by each status poll (``GET .../{id}``); ``0`` for none.
        per_second : float, optional
            Requests finished per second since the batch was created (wall clock).
        live_counts : bool
            ``False``: ``request_counts`` show every request ``processing`` until the batch
            ends, as the API reference describes.
        cancel_polls : int
            Status polls a ``canceling`` batch takes to end (at least 1).

        With neither ``per_poll`` nor ``per_second`` (the default), a batch ends at its first
        status poll.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> FakeAnthropic().batches.pace(per_poll=0)
        FakeBatches(0 batches)
        """
        if per_poll is not None and (
            isinstance(per_poll, bool) or not isinstance(per_poll, int) or per_poll < 0
        ):
            raise ValueError("pace: per_poll must be a whole number >= 0")
        if per_second is not None and not (
            isinstance(per_second, (int, float))
            and not isinstance(per_second, bool)
            and per_second > 0
        ):
            raise ValueError("pace: per_second must be a number of requests per second > 0")
        if isinstance(cancel_polls, bool) or not isinstance(cancel_polls, int) or cancel_polls < 1:
            raise ValueError("pace: cancel_polls must be a whole number >= 1")
        with self._lock:
            self._per_poll = per_poll
            self._per_second = float(per_second) if per_second is not None else None
            self._live_counts = bool(live_counts)
            self._cancel_polls = cancel_polls
        return self

    def advance(self, batch_id: str | None = None, n: int | None = None) -> None:
        """Finish ``n`` more requests now (all when ``None``) of one batch, or of every batch
        still processing; a ``canceling`` batch ends.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> FakeAnthropic().batches.advance()
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ValueError("advance: n must be a whole number >= 0")
        with self._lock:
            batches = [self._get(batch_id)] if batch_id is not None else self._batches.values()
            for batch in list(batches):
                if batch.status == "ended":
                    continue
                if batch.status == "canceling":
                    self._end(batch, "canceled")
                    continue
                batch.extra += len(batch.items) if n is None else n
                self._tick(batch)

    def expire(self, batch_id: str) -> None:
        """End a batch now; its unfinished requests end ``expired``.

        Examples
        --------
        >>> from nbclaude.testing import FakeAnthropic
        >>> fake = FakeAnthropic()
        >>> fake.batches.expire("msgbatch_unknown")
        Traceback (most recent call last):
        ...
        KeyError: 'msgbatch_unknown'
        """
        with self._lock:
            batch = self._get(batch_id)
            if batch.status != "ended":
                self._end(batch, "expired")

    # -- the clock -----------------------------------------------------------------------------
    def _get(self, batch_id: str) -> _Batch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise KeyError(batch_id)
        return batch

    def _due(self, batch: _Batch) -> int:
        if self._per_poll is None and self._per_second is None:
            due = len(batch.items) if batch.polls else 0
        else:
            due = batch.polls * (self._per_poll or 0)
            if self._per_second is not None:
                elapsed = time.monotonic() - batch.started
                due = max(due, math.floor(elapsed * self._per_second))
        return due + batch.extra

    def _tick(self, batch: _Batch, *, poll: bool = False) -> None:
        """Let time pass for ``batch`` (a status poll counts one poll)."""
        if batch.status == "ended":
            return
        if batch.status == "canceling":
            if poll:
                batch.cancel_polls -= 1
                if batch.cancel_polls <= 0:
                    self._end(batch, "canceled")
            return
        if poll:
            batch.polls += 1
        due = min(self._due(batch), len(batch.items))
        while batch.finished < due:
            item = batch.items[batch.finished]
            item.result = answer(self._fake, item.params, beta=batch.beta)
            batch.finished += 1
        if batch.finished == len(batch.items):
            self._end(batch)

    def _end(self, batch: _Batch, leftover: str = "canceled") -> None:
        """End ``batch``; requests not finished yet end as ``leftover``."""
        for item in batch.items[batch.finished :]:
            item.result = {"type": leftover}
        batch.finished = len(batch.items)
        batch.status = "ended"
        batch.ended_at = _now()

    # -- processing one request ----------------------------------------------------------------
    # -- JSON ----------------------------------------------------------------------------------
    def _json(self, batch: _Batch) -> dict[str, Any]:
        counts = dict.fromkeys(_COUNT_KEYS, 0)
        if batch.status != "ended" and not self._live_counts:
            counts["processing"] = len(batch.items)
        else:
            for item in batch.items:
                kind = item.result["type"] if item.result is not None else "processing"
                counts[kind] = counts.get(kind, 0) + 1
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "archived_at": None,
            "cancel_initiated_at": (
                _rfc3339(batch.cancel_initiated_at) if batch.cancel_initiated_at else None
            ),
            "created_at": _rfc3339(batch.created_at),
            "ended_at": _rfc3339(batch.ended_at) if batch.ended_at else None,
            "expires_at": _rfc3339(batch.created_at + _EXPIRES_AFTER),
            "processing_status": batch.status,
            "request_counts": counts,
            "results_url": (
                f"{batch.origin}/v1/messages/batches/{batch.id}/results" if ended else None
            ),
            "type": "message_batch",
        }

    def _lookup(self, req: Incoming, *, suffix: str = "") -> _Batch:
        path = req.path.rstrip("/")
        if suffix:
            path = path[: -len(suffix)]
        batch_id = path.rsplit("/", 1)[-1]
        batch = self._batches.get(batch_id)
        if batch is None:
            # CONSTRUCTED
            raise FakeAPIError(404, "not_found_error", f"Message Batch {batch_id} was not found.")
        return batch

    # -- endpoints -----------------------------------------------------------------------------
    def create(self, req: Incoming) -> Plan:
        """``POST /v1/messages/batches``."""
        items = parse_batch(req.body)
        fake = self._fake
        batch = _Batch(
            id=fake._next_id("msgbatch"),
            items=items,
            beta=req.beta,
            origin=req.origin,
            created_at=_now(),
            started=time.monotonic(),
        )
        with self._lock:
            self._batches[batch.id] = batch
            return json_plan(200, self._json(batch))

    def list(self, req: Incoming) -> Plan:
        """``GET /v1/messages/batches``: newest first, paginated like ``/v1/models``."""
        query = req.query
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            # CONSTRUCTED
            raise bad(f"limit: Input should be between 1 and {MAX_PAGE_LIMIT}")
        with self._lock:
            batches = list(reversed(self._batches.values()))
            for batch in batches:
                self._tick(batch)
            ids = [b.id for b in batches]
            after, before = query.get("after_id"), query.get("before_id")
            chosen, has_more = page_of(batches, ids, limit, after_id=after, before_id=before)
            data = [self._json(b) for b in chosen]
        return json_plan(
            200,
            {
                "data": data,
                "has_more": has_more,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    def retrieve(self, req: Incoming) -> Plan:
        """``GET /v1/messages/batches/{id}``: a status poll (time passes)."""
        with self._lock:
            batch = self._lookup(req)
            self._tick(batch, poll=True)
            return json_plan(200, self._json(batch))

    def cancel(self, req: Incoming) -> Plan:
        """``POST /v1/messages/batches/{id}/cancel``."""
        with self._lock:
            batch = self._lookup(req, suffix="/cancel")
            self._tick(batch)
            if batch.status == "ended":
                # CONSTRUCTED
                raise bad(f"Message Batch {batch.id} has already ended; it cannot be canceled.")
            if batch.status == "in_progress":
                batch.status = "canceling"
                batch.cancel_polls = self._cancel_polls
                batch.cancel_initiated_at = _now()
            return json_plan(200, self._json(batch))

    def delete(self, req: Incoming) -> Plan:
        """``DELETE /v1/messages/batches/{id}``: only once the batch has ended."""
        with self._lock:
            batch = self._lookup(req)
            self._tick(batch)
            if batch.status != "ended":
                # CONSTRUCTED (the docs: "Message Batches can only be deleted once they've
                # finished processing. If you'd like to delete an in-progress batch, you must
                # first cancel it.")
                raise bad(
                    f"Message Batch {batch.id} cannot be deleted while it is processing; "
                    "cancel it first."
                )
            del self._batches[batch.id]
        return json_plan(200, {"id": batch.id, "type": "message_batch_deleted"})

    def results(self, req: Incoming) -> Plan:
        """``GET /v1/messages/batches/{id}/results``: JSON Lines, shuffled."""
        with self._lock:
            batch = self._lookup(req, suffix="/results")
            self._tick(batch)
            if batch.status != "ended":
                # CONSTRUCTED: the results exist only once the batch has ended.
                raise FakeAPIError(
                    404,
                    "not_found_error",
                    f"Results for Message Batch {batch.id} are not available yet: it has not "
                    f"finished processing (processing_status: {batch.status}).",
                )
            lines = [
                json_bytes({"custom_id": item.custom_id, "result": item.result}) + b"\n"
                for item in batch.items
            ]
        order = _shuffled(len(lines), batch.id)
        body = b"".join(lines[i] for i in order)
        # CONSTRUCTED content type (the SDK asks with ``Accept: application/binary``).
        return Plan(200, [("content-type", "application/binary")], [body])


def _shuffled(n: int, seed: str) -> list[int]:
    """A deterministic permutation of ``range(n)`` that is never the identity for n >= 2."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    if n >= 2 and order == sorted(order):
        order.reverse()
    return order
