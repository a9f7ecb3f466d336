"""Message Batches: many independent requests at half price, answered in input order.

``Session.batch(prompts, **params)`` is for bulk work where every prompt stands alone, such as
grading each student's answer with the same instructions. So each prompt becomes its own
request with the session's settings (model, system prompt, ``max_tokens``, ``params``, plus
the ``**params`` given) but **without the session's history**: the conversation would add the
same tokens to every request, and answers must not leak into one another. Nothing is recorded
in ``Session.messages``.

Decisions (each is tested):

- **Order.** The API returns results in any order; they are matched by ``custom_id``
  (``item-0``, ``item-1``, ...) and returned in input order as :class:`BatchResults`. Each
  entry is a :class:`BatchReply` (succeeded), the API's error as the matching
  :class:`~nbclaude.APIStatusError` subclass (errored: an invalid request fails alone, not the
  batch), or a :class:`NotProcessed` marker (canceled or expired).
- **Prefill** (``prefill=``) is supported as in ``Session.send``: sent as each request's final
  assistant message, refused on models that reject it; ``BatchReply.text`` is the generated
  part.
- **Structured output and tools.** ``schema=`` works as in ``Session.send``
  (:attr:`BatchReply.data`). ``tools=`` are sent as definitions (functions become their
  schemas), but a batch cannot run tools: tool calls come back in the replies. The session's
  own ``Session.tools`` are not sent.
- **Waiting.** ``wait=True`` polls the batch (every 1 s, growing by half each time up to 30 s;
  ``poll_interval=`` sets a fixed interval) and shows an ipywidgets progress bar when running
  in a kernel. ``wait=False`` returns a :class:`BatchJob` at once, so the notebook can go on.
- **Interrupt.** A kernel interrupt (Ctrl-C) while waiting cancels the batch, waits for the
  cancel to finish and returns what finished, with ``results.interrupted`` set and the
  canceled requests marked: nothing is raised. A second interrupt stops that wait and is
  raised; the batch still ends on its own, and ``BatchJob.attach(batch_id)`` fetches it later.
- **Price and usage.** Batches cost half the standard price: :attr:`BatchReply.cost` and
  :attr:`BatchResults.cost` show the batch price. When the results are fetched, their tokens
  and batch-price cost are added to the session's ``usage`` and ``cost`` (once per batch),
  because those totals are what the session spent.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._batch_progress import ProgressBar, counts_of, progress_bar
from ._batch_results import (
    BATCH_DISCOUNT,
    BatchItem,
    BatchReply,
    BatchResults,
    NotProcessed,
    batch_cost,
    parse_result,
)
from ._exceptions import BadRequestError, InvalidRequestError
from ._models_info import PREFILL_EXAMPLE_MODEL, supports_prefill

if TYPE_CHECKING:
    from ._client import Client
    from ._session import Session

__all__ = [
    "BATCH_DISCOUNT",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "BatchJob",
    "BatchReply",
    "BatchResults",
    "NotProcessed",
    "batch_cost",
    "build_requests",
    "poll_intervals",
    "submit",
]

log = logging.getLogger("nbclaude")

#: The most requests one batch may hold (PROTOCOL.md §7).
MAX_BATCH_REQUESTS = 100_000
#: The largest batch body in bytes (PROTOCOL.md §6).
MAX_BATCH_BYTES = 256 * 1024 * 1024

_ENDED = "ended"
_FIRST_POLL = 1.0
_MAX_POLL = 30.0
_POLL_GROWTH = 1.5
_ID = re.compile(r"^item-(\d+)$")

_accounted: weakref.WeakKeyDictionary[Session, set[str]] = weakref.WeakKeyDictionary()
_accounted_lock = threading.Lock()


# -- building the requests -------------------------------------------------------------------


def _text_only(blocks: list[dict[str, Any]]) -> str | None:
    if len(blocks) == 1 and blocks[0].get("type") == "text" and set(blocks[0]) == {"type", "text"}:
        return str(blocks[0]["text"])
    return None


def build_requests(
    session: Session,
    prompts: Iterable[Any],
    *,
    prefill: str | None,
    params: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The batch's ``requests`` (one standalone request per prompt) and each one's images."""
    from ._content import fit_messages, to_blocks

    if isinstance(prompts, (str, bytes, Mapping)) or not isinstance(prompts, Iterable):
        raise TypeError(
            "prompts must be a list of prompts (each a str, or a list of parts such as text "
            f"and images), not {type(prompts).__name__}; for a single prompt use session.send()"
        )
    for key in ("messages", "stream"):
        if key in params:
            raise TypeError(f"{key!r} cannot be set for a batch")
    params = _with_tools_and_schema(session, params)
    items = list(prompts)
    if not items:
        raise InvalidRequestError("Nothing to send: the list of prompts is empty.")
    if len(items) > MAX_BATCH_REQUESTS:
        raise InvalidRequestError(
            f"{len(items):,} prompts: a batch holds at most {MAX_BATCH_REQUESTS:,} requests. "
            "Nothing was sent; split the prompts into several batches."
        )
    model = params.get("model") or session.model
    prefill = prefill.rstrip() if prefill else None
    if prefill and supports_prefill(model, session._models) is False:
        raise InvalidRequestError(
            f"{model} does not accept prefill (a final assistant message): models of the 4.6 "
            "generation and later reject it. Say what you want in the system prompt instead, "
            f"or use a model that accepts prefill, such as {PREFILL_EXAMPLE_MODEL}."
        )
    system = params.get("system", session.system)
    overhead = len(json.dumps(system, ensure_ascii=False)) if system else 0
    requests: list[dict[str, Any]] = []
    images: list[list[dict[str, Any]]] = []
    size = 0
    for i, prompt in enumerate(items):
        blocks = to_blocks(*prompt) if isinstance(prompt, (list, tuple)) else to_blocks(prompt)
        if not blocks:
            raise InvalidRequestError(f"Prompt {i} is empty: nothing to send. Nothing was sent.")
        text = _text_only(blocks)
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": text if text is not None else blocks}
        ]
        if prefill:
            messages.append({"role": "assistant", "content": prefill})
        messages = fit_messages(messages, overhead=overhead)
        body = session._request_body(messages, params)  # type: ignore[arg-type]
        request = {"custom_id": f"item-{i}", "params": body}
        size += len(json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode())
        requests.append(request)
        images.append([b for b in blocks if b.get("type") == "image"])
    if size > MAX_BATCH_BYTES:
        raise InvalidRequestError(
            f"This batch would be {size / 2**20:,.0f} MB; the API accepts at most 256 MB per "
            "batch. Nothing was sent; split the prompts into several batches or use smaller "
            "images."
        )
    return requests, images


def _with_tools_and_schema(session: Session, params: Mapping[str, Any]) -> dict[str, Any]:
    """``tools=`` (functions become definitions) and ``schema=`` (``output_config.format``)
    as ``Session.send`` sends them. A batch cannot run tools: tool calls come back in the
    replies, and the session's own :attr:`Session.tools` are not sent."""
    out = dict(params)
    schema = out.pop("schema", None)
    tools = out.get("tools")
    if tools is not None and not isinstance(tools, (str, bytes, Mapping)):
        runnable = [t for t in tools if not isinstance(t, Mapping)]
        if runnable:
            from ._tools import ToolBox

            specs = iter(ToolBox(runnable).specs())
            out["tools"] = [dict(t) if isinstance(t, Mapping) else next(specs) for t in tools]
    if schema is not None:
        from ._schema import output_format

        config = dict(out.get("output_config") or session.params.get("output_config") or {})
        config["format"] = output_format(schema)
        out["output_config"] = config
    return out


def submit(
    session: Session,
    prompts: Iterable[Any],
    *,
    wait: bool = True,
    prefill: str | None = None,
    poll_interval: float | None = None,
    progress: bool | None = None,
    params: Mapping[str, Any],
) -> BatchResults | BatchJob:
    """Create a batch for ``session`` (what :meth:`Session.batch` does), and wait for it unless
    ``wait=False``.

    Examples
    --------
    >>> from nbclaude import Client, Session
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> fake = FakeAnthropic([Text("4"), Text("9")])
    >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="k", transport=fake))
    >>> submit(s, ["2+2?", "3*3?"], poll_interval=0, params={}).texts
    ['4', '9']
    """
    _check_interval(poll_interval)
    requests, images = build_requests(session, prompts, prefill=prefill, params=params)
    schema = params.get("schema")
    client = session.client
    batch = client.request("POST", "/v1/messages/batches", body={"requests": requests})
    job = BatchJob(
        client,
        batch,
        custom_ids=[r["custom_id"] for r in requests],
        prefill=prefill.rstrip() if prefill else None,
        images=images,
        session=session,
        schema=schema,
    )
    if not wait:
        return job
    return job.wait(poll_interval=poll_interval, progress=progress)


# -- waiting ---------------------------------------------------------------------------------


def _check_interval(poll_interval: float | None) -> None:
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
        session: Session | None = None,
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
    def attach(cls, batch_id: str, *, session: Session | None = None) -> BatchJob:
        """Pick up a batch by id (for example after an interrupt), on ``session``'s client.

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
        if session is None:
            from ._session import get_session

            session = get_session()
        batch = session.client.request("GET", f"/v1/messages/batches/{batch_id}")
        return cls(session.client, batch, session=session)

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
        _check_interval(poll_interval)
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
        if self._session is not None:
            _add_to_session(self._session, self.id, results)
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


def _add_to_session(session: Session, batch_id: str, results: BatchResults) -> None:
    """Add a batch's tokens and batch-price cost to the session's totals, once per batch."""
    with _accounted_lock:
        seen = _accounted.setdefault(session, set())
        if batch_id in seen:
            return
        seen.add(batch_id)
    usage = results.usage
    with session._state:
        for key in session._usage:
            session._usage[key] += int(usage.get(key) or 0)
        if session._cost is not None:
            total = results.cost
            session._cost = None if total is None else session._cost + total
    session._emit({"type": "change"})
