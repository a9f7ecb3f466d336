"""The fake's Message Batches endpoints (docs/api.md §7), with simulated processing time.

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

import threading
from collections.abc import Iterator
from typing import Any

from nbclaude._api.limits import MAX_PAGE_LIMIT

from ._batch_request import AnswerRequest, parse_batch
from ._batch_state import Batch, Pace
from ._incoming import Incoming
from ._item_plans import NextId
from ._paging import page_of
from ._plans import Plan, json_plan
from ._request import FakeAPIError, bad

__all__ = ["FakeBatches"]


class FakeBatches:
    """The Message Batches of one :class:`FakeAnthropic`: storage, time and the endpoints.

    Reach it as ``fake.batches``. See the module docstring for the rules; the methods here
    script time, and it reads like a mapping from batch id to the ``MessageBatch`` as the API
    would show it now (reading does not advance time).

    Parameters
    ----------
    answer : callable
        ``answer(params, beta) -> result``: answers one request of a batch like a
        non-streaming ``POST /v1/messages`` (the fake's script, or its default reply).
    new_id : callable
        ``new_id("msgbatch") -> "msgbatch_01Fake..."``: makes the next batch id.

    Examples
    --------
    >>> from nbclaude.testing import FakeAnthropic
    >>> fake = FakeAnthropic()
    >>> fake.batches.pace(per_poll=1) is fake.batches
    True
    >>> len(fake.batches), list(fake.batches)
    (0, [])
    """

    def __init__(self, answer: AnswerRequest, new_id: NextId) -> None:
        self._answer = answer
        self._new_id = new_id
        self._lock = threading.RLock()
        self._batches: dict[str, Batch] = {}  # insertion order = creation order
        self._pace = Pace()

    def __repr__(self) -> str:
        return f"FakeBatches({len(self)} batches)"

    def __len__(self) -> int:
        with self._lock:
            return len(self._batches)

    def __getitem__(self, batch_id: str) -> dict[str, Any]:
        """The MessageBatch as the API would show it now (without advancing time)."""
        with self._lock:
            return self._batches[batch_id].to_json(self._pace)

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
            self._pace = Pace(
                per_poll=per_poll,
                per_second=float(per_second) if per_second is not None else None,
                live_counts=bool(live_counts),
                cancel_polls=cancel_polls,
            )
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
                batch.advance(self._pace, self._answer, n)

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
                batch.end("expired")

    # -- lookups -------------------------------------------------------------------------------
    def _get(self, batch_id: str) -> Batch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise KeyError(batch_id)
        return batch

    def _tick(self, batch: Batch, *, poll: bool = False) -> None:
        batch.tick(self._pace, self._answer, poll=poll)

    def _lookup(self, req: Incoming, *, suffix: str = "") -> Batch:
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
        batch = Batch(self._new_id("msgbatch"), items, beta=req.beta, origin=req.origin)
        with self._lock:
            self._batches[batch.id] = batch
            return json_plan(200, batch.to_json(self._pace))

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
            data = [b.to_json(self._pace) for b in chosen]
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
            return json_plan(200, batch.to_json(self._pace))

    def cancel(self, req: Incoming) -> Plan:
        """``POST /v1/messages/batches/{id}/cancel``."""
        with self._lock:
            batch = self._lookup(req, suffix="/cancel")
            self._tick(batch)
            if batch.status == "ended":
                # CONSTRUCTED
                raise bad(f"Message Batch {batch.id} has already ended; it cannot be canceled.")
            batch.cancel(self._pace)
            return json_plan(200, batch.to_json(self._pace))

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
            body = batch.results()
        # CONSTRUCTED content type (the SDK asks with ``Accept: application/binary``).
        return Plan(200, [("content-type", "application/binary")], [body])
