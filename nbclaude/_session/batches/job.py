"""A submitted Message Batch: :class:`BatchJob` polls it, waits for it, cancels it on an
interrupt and fetches its results; the results' usage is added to the session once.

How a batch is built and submitted, and the decisions behind waiting, interrupts and usage, are
in :mod:`nbclaude._session.batches.submit`, which re-exports these names.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from nbclaude._exceptions import BadRequestError, InvalidRequestError
from nbclaude._session import shared
from nbclaude._session.backend import default_client

from .progress import ProgressBar, counts_of, progress_bar
from .results import BatchItem, BatchResults, parse_result

if TYPE_CHECKING:
    from nbclaude._client.client import Client

__all__ = ["BatchJob", "BatchOwner", "check_interval", "poll_intervals"]

log = logging.getLogger("nbclaude")

_ENDED = "ended"
_FIRST_POLL = 1.0
_MAX_POLL = 30.0
_POLL_GROWTH = 1.5
_ID = re.compile(r"^item-(\d+)$")


class BatchOwner(Protocol):
    """What a batch job needs of the session it belongs to (a :class:`~nbclaude.Session`)."""

    @property
    def client(self) -> Client: ...

    def add_batch_usage(self, batch_id: str, usage: dict[str, int], cost: float | None) -> None:
        """Add the batch's tokens and cost to the session's totals, once per batch id."""


def check_interval(poll_interval: float | None) -> None:
    """Refuse a ``poll_interval`` that is not a number of seconds >= 0 (``None`` is fine)."""
    if poll_interval is not None and (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, (int, float))
        or poll_interval < 0
    ):
        raise ValueError(f"poll_interval must be a number of seconds >= 0, not {poll_interval!r}")


def poll_intervals(poll_interval: float | None = None) -> Iterator[float]:
    """Seconds to wait before each status poll: 1 s growing by half up to 30 s, or fixed.

    Examples
    --------
    >>> import itertools
    >>> [round(s, 2) for s in itertools.islice(poll_intervals(), 5)]
    [1.0, 1.5, 2.25, 3.38, 5.06]
    >>> max(itertools.islice(poll_intervals(), 50))
    30.0
    >>> next(poll_intervals(5))
    5.0
    """
    if poll_interval is not None:
        while True:
            yield float(poll_interval)
    delay = _FIRST_POLL
    while True:
        yield delay
        delay = min(delay * _POLL_GROWTH, _MAX_POLL)


class BatchJob:
    """A Message Batch that was submitted: poll it, wait for it, cancel it, get its results.

    Made by ``Session.batch(prompts, wait=False)``, or by :meth:`attach` for a batch id.

    Attributes
    ----------
    batch : dict
        The latest ``MessageBatch`` the API returned (``processing_status``,
        ``request_counts``, ...).
    widget : ipywidgets.HBox or None
        The progress bar of the last :meth:`wait` (``None`` when none was made).
    interrupted : bool
        Whether a :meth:`wait` was interrupted (the batch was then canceled).

    Examples
    --------
    >>> from nbclaude import Client, Session
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> fake = FakeAnthropic([Text("A"), Text("B")])
    >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="k", transport=fake))
    >>> job = s.batch(["one", "two"], wait=False)
    >>> job.status()["processing_status"]
    'ended'
    >>> job.results().texts
    ['A', 'B']
    """

    def __init__(
        self,
        client: Client,
        batch: Mapping[str, Any],
        *,
        custom_ids: Sequence[str] | None = None,
        prefill: str | None = None,
        images: Sequence[Sequence[Mapping[str, Any]]] | None = None,
        session: BatchOwner | None = None,
        schema: Any = None,
    ) -> None:
        self.client = client
        self.batch: dict[str, Any] = dict(batch)
        self._custom_ids = list(custom_ids) if custom_ids is not None else None
        self._prefill = prefill
        self._schema = schema
        self._images = [list(i) for i in images] if images is not None else None
        self._session = session
        self._started = time.monotonic()
        self._results: BatchResults | None = None
        self.widget: Any = None
        self.interrupted = False

    @classmethod
    def attach(cls, batch_id: str, *, session: BatchOwner | None = None) -> BatchJob:
        """Pick up a batch by id (for example after an interrupt), on ``session``'s client.

        ``session`` defaults to the shared session (``nbclaude.get_session()``); before one
        exists (right after a kernel restart, say) the batch is fetched with a new default
        client and its usage is added to no session.

        Results are put in input order when the batch was made by nbclaude (its custom ids
        are ``item-<index>``), else in the order the API returns them.

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic
        >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="k",
        ...                                                     transport=FakeAnthropic()))
        >>> job = s.batch(["Hi"], wait=False)
        >>> BatchJob.attach(job.id, session=s).results().counts["succeeded"]
        1
        """
        owner: BatchOwner | None = session if session is not None else shared.current()
        client = owner.client if owner is not None else default_client()
        batch = client.request("GET", f"/v1/messages/batches/{batch_id}")
        return cls(client, batch, session=owner)

    # -- state ------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The batch id (``msgbatch_...``)."""
        return str(self.batch.get("id") or "")

    @property
    def processing_status(self) -> str:
        """``"in_progress"``, ``"canceling"`` or ``"ended"`` (as last seen)."""
        return str(self.batch.get("processing_status") or "")

    @property
    def done(self) -> bool:
        """Whether the batch has ended (as last seen; :meth:`status` refreshes)."""
        return self.processing_status == _ENDED

    @property
    def counts(self) -> dict[str, int]:
        """``request_counts`` as last seen: processing, succeeded, errored, canceled, expired."""
        return counts_of(self.batch)

    def __len__(self) -> int:
        if self._custom_ids is not None:
            return len(self._custom_ids)
        return sum(self.counts.values())

    def __repr__(self) -> str:
        counts = self.counts
        finished = sum(v for k, v in counts.items() if k != "processing")
        return f"<BatchJob {self.id} {self.processing_status}: {finished} of {len(self)} done>"

    # -- API calls --------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Ask the API for the batch's state now; returns the ``MessageBatch``."""
        batch = self.client.request("GET", f"/v1/messages/batches/{self.id}")
        self.batch = dict(batch)
        return self.batch

    def cancel(self) -> dict[str, Any]:
        """Ask the API to cancel the batch; requests not finished yet end ``canceled``.

        The batch is ``canceling`` for a while, then ``ended``; :meth:`wait` waits for that.
        Canceling a batch that has just ended is not an error: it is returned as it is.
        """
        try:
            batch = self.client.request("POST", f"/v1/messages/batches/{self.id}/cancel")
        except BadRequestError:
            if self.status().get("processing_status") == _ENDED:
                return self.batch  # it ended first
            raise
        self.batch = dict(batch)
        return self.batch

    def wait(
        self,
        *,
        poll_interval: float | None = None,
        progress: bool | None = None,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> BatchResults:
        """Poll until the batch ends, then return its :class:`BatchResults`.

        Parameters
        ----------
        poll_interval : float, optional
            Seconds between polls; default 1 s, growing by half each poll up to 30 s.
        progress : bool, optional
            Show a progress bar (ipywidgets). Default: only when running in a kernel;
            ``True`` always makes one (:attr:`widget`), ``False`` never.
        on_poll : callable, optional
            Called with the ``MessageBatch`` after every poll.

        A kernel interrupt while waiting cancels the batch, waits for the cancel to finish and
        returns what finished (``results.interrupted`` is true); a second interrupt is raised.

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic
        >>> fake = FakeAnthropic()
        >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="k", transport=fake))
        >>> s.batch(["Hi", "Bye"], wait=False).wait(poll_interval=0).counts["succeeded"]
        2
        """
        check_interval(poll_interval)
        bar = progress_bar(progress, len(self))
        self.widget = bar.widget if bar is not None else None
        try:
            self._poll(poll_interval, bar, on_poll)
        except KeyboardInterrupt as interrupt:
            self.interrupted = True
            self._cancel_after(interrupt, poll_interval, bar)
        return self.results()

    def _poll(
        self,
        poll_interval: float | None,
        bar: ProgressBar | None,
        on_poll: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        if bar is not None:
            bar.update(self.batch, time.monotonic() - self._started)
        intervals = poll_intervals(poll_interval)
        while not self.done:
            delay = next(intervals)
            if delay > 0:
                time.sleep(delay)
            self.status()
            if bar is not None:
                bar.update(self.batch, time.monotonic() - self._started)
            if on_poll is not None:
                on_poll(self.batch)

    def _cancel_after(
        self, interrupt: KeyboardInterrupt, poll_interval: float | None, bar: ProgressBar | None
    ) -> None:
        """Cancel after an interrupt and wait for the batch to end; re-raise a second one."""
        how = (
            f"It ends on its own; fetch it later with nbclaude.BatchJob.attach({self.id!r})"
            ".results()."
        )
        try:
            if not self.done:
                try:
                    self.cancel()
                except Exception as exc:
                    _note(interrupt, f"nbclaude could not cancel batch {self.id} ({exc}). {how}")
                    raise interrupt from None
            self._poll(poll_interval, bar, None)
        except KeyboardInterrupt as again:
            if again is not interrupt:
                _note(again, f"Stopped waiting for batch {self.id} to finish canceling. {how}")
            raise

    def results(self) -> BatchResults:
        """The results in input order (the batch must have ended; fetched once).

        Raises
        ------
        InvalidRequestError
            When the batch is still processing (call :meth:`wait` or :meth:`cancel`).
        """
        if self._results is not None:
            return self._results
        if not self.done:
            self.status()
        if not self.done:
            counts = self.counts
            finished = sum(v for k, v in counts.items() if k != "processing")
            raise InvalidRequestError(
                f"Batch {self.id} is still {self.processing_status} ({finished} of {len(self)} "
                "requests done); its results are ready when it has ended.",
                hint="Call job.wait() to wait for it, or job.cancel() to stop it.",
            )
        url = self.batch.get("results_url") or f"/v1/messages/batches/{self.id}/results"
        parts = urlsplit(str(url))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        # JSON Lines, asked for as the SDK does.
        text = self.client.request("GET", path, headers={"accept": "application/binary"})
        lines = [json.loads(line) for line in str(text).splitlines() if line.strip()]
        results = BatchResults(self._items(lines), batch=self.batch, interrupted=self.interrupted)
        self._results = results
        if self._session is not None:  # the tokens and batch-price cost, once per batch
            self._session.add_batch_usage(self.id, results.usage, results.cost)
        return results

    def _items(self, lines: list[dict[str, Any]]) -> list[BatchItem]:
        by_id = {str(line.get("custom_id")): line.get("result") or {} for line in lines}
        ids = self._custom_ids
        if ids is None:  # attached: our ids give the input order; others keep the API's order
            index = {cid: int(m.group(1)) for cid in by_id if (m := _ID.match(cid))}
            ids = sorted(by_id, key=index.__getitem__) if len(index) == len(by_id) else list(by_id)
        out: list[BatchItem] = []
        for i, custom_id in enumerate(ids):
            result = by_id.get(custom_id)
            images = self._images[i] if self._images is not None else ()
            out.append(
                parse_result(
                    custom_id, result, prefill=self._prefill, images=images, schema=self._schema
                )
            )
        return out


def _note(exc: BaseException, text: str) -> None:
    """Attach ``text`` to the exception's traceback (Python 3.11+), else log it."""
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:
        add_note(text)
    else:
        log.warning("nbclaude: %s", text)
