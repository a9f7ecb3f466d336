"""Message Batches: many independent requests at half price, answered in input order.

``Session.batch(prompts, **params)`` is for bulk work where every prompt stands alone, such as
grading each student's answer with the same instructions. So each prompt becomes its own
request with the session's settings (model, system prompt, ``max_tokens``, ``params``, plus
the ``**params`` given) but **without the session's history**: the conversation would add the
same tokens to every request, and answers must not leak into one another. Nothing is recorded
in ``Session.messages``.

This module builds and submits the batch (:func:`build_requests`, :func:`submit`); the
waiting, the interrupt and the accounting belong to :class:`BatchJob`
(:mod:`nbclaude._session.batches.job`).

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
- **Classroom controls.** Every request of a batch obeys the course policy (its ``batches``
  rule too), checked by the request builder before anything is sent. With a budget, the whole
  batch's worst case, at the batch price, must fit in what is left; it is then held (reserved)
  until the results are counted, so batches sent with ``wait=False`` cannot add up past it.
  With the policy's ``log``, each prompt gets one line in the instructor's log when the
  results arrive (with its reply, tokens and batch-price cost).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from nbclaude._api.limits import MAX_BATCH_BYTES, MAX_BATCH_REQUESTS
from nbclaude._exceptions import InvalidRequestError
from nbclaude._session.builder import RequestBuilder

from .job import BatchJob, BatchOwner, check_interval, poll_intervals
from .results import BATCH_DISCOUNT, BatchReply, BatchResults, NotProcessed, batch_cost

if TYPE_CHECKING:
    from nbclaude._client.client import Client
    from nbclaude._session.journal import Journal

__all__ = [
    "BATCH_DISCOUNT",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_REQUESTS",
    "BatchJob",
    "BatchReply",
    "BatchResults",
    "LoggedBatchJob",
    "NotProcessed",
    "batch_cost",
    "build_requests",
    "poll_intervals",
    "submit",
]


def build_requests(
    builder: RequestBuilder,
    prompts: Iterable[Any],
    *,
    prefill: str | None,
    params: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The batch's ``requests`` (one standalone request per prompt) and each one's images."""
    if isinstance(prompts, (str, bytes, Mapping)) or not isinstance(prompts, Iterable):
        raise TypeError(
            "prompts must be a list of prompts (each a str, or a list of parts such as text "
            f"and images), not {type(prompts).__name__}; for a single prompt use session.send()"
        )
    for key in ("messages", "stream"):
        if key in params:
            raise TypeError(f"{key!r} cannot be set for a batch")
    params = _with_tools_and_schema(builder, params)
    items = list(prompts)
    if not items:
        raise InvalidRequestError("Nothing to send: the list of prompts is empty.")
    if len(items) > MAX_BATCH_REQUESTS:
        raise InvalidRequestError(
            f"{len(items):,} prompts: a batch holds at most {MAX_BATCH_REQUESTS:,} requests. "
            "Nothing was sent; split the prompts into several batches."
        )
    prefill = builder.prefill(prefill, builder.model(params))
    requests: list[dict[str, Any]] = []
    images: list[list[dict[str, Any]]] = []
    size = 0
    for i, prompt in enumerate(items):
        parts = list(prompt) if isinstance(prompt, (list, tuple)) else [prompt]
        empty = f"Prompt {i} is empty: nothing to send. Nothing was sent."
        out = builder.turn(
            parts, prefill=prefill, params=params, history=[], empty=empty, kind="batch"
        )
        request = {"custom_id": f"item-{i}", "params": out.body}
        size += len(json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode())
        requests.append(request)
        images.append(out.images)
    if size > MAX_BATCH_BYTES:
        raise InvalidRequestError(
            f"This batch would be {size / 2**20:,.0f} MB; the API accepts at most 256 MB per "
            "batch. Nothing was sent; split the prompts into several batches or use smaller "
            "images."
        )
    return requests, images


def _with_tools_and_schema(builder: RequestBuilder, params: Mapping[str, Any]) -> dict[str, Any]:
    """``tools=`` (functions become definitions) and ``schema=`` (``output_config.format``)
    as ``Session.send`` sends them. A batch cannot run tools: tool calls come back in the
    replies, and the session's own :attr:`Session.tools` are not sent."""
    out = dict(params)
    schema = out.pop("schema", None)
    tools = out.get("tools")
    if tools is not None and not isinstance(tools, (str, bytes, Mapping)):
        _, out["tools"] = builder.tool_definitions(list(tools))
    if schema is not None:
        out = builder.with_schema(out, schema)
    return out


def submit(
    builder: RequestBuilder,
    client: Client,
    prompts: Iterable[Any],
    *,
    owner: BatchOwner | None = None,
    wait: bool = True,
    prefill: str | None = None,
    poll_interval: float | None = None,
    progress: bool | None = None,
    params: Mapping[str, Any],
    journal: Journal | None = None,
) -> BatchResults | BatchJob:
    """Create a batch (what :meth:`Session.batch` does), and wait for it unless
    ``wait=False``; the results' usage goes to ``owner``, and with a ``journal`` (the
    instructor's log) one line per prompt is written when the results arrive.

    Examples
    --------
    >>> from nbclaude import Client, Session
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> fake = FakeAnthropic([Text("4"), Text("9")])
    >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="k", transport=fake))
    >>> s.batch(["2+2?", "3*3?"], poll_interval=0).texts
    ['4', '9']
    """
    check_interval(poll_interval)
    requests, images = build_requests(builder, prompts, prefill=prefill, params=params)
    needed = builder.check_budget([r["params"] for r in requests], discount=BATCH_DISCOUNT)
    schema = params.get("schema")
    started = _now()
    batch = client.request("POST", "/v1/messages/batches", body={"requests": requests})
    if needed is not None and needed.cost is not None and builder.usage is not None:
        builder.usage.reserve(str(batch.get("id") or ""), needed.cost)
    options: dict[str, Any] = {
        "custom_ids": [r["custom_id"] for r in requests],
        "prefill": prefill.rstrip() if prefill else None,
        "images": images,
        "session": owner,
        "schema": schema,
    }
    job = (
        BatchJob(client, batch, **options)
        if journal is None
        else LoggedBatchJob(
            client, batch, journal=journal, requests=requests, started=started, **options
        )
    )
    if not wait:
        return job
    return job.wait(poll_interval=poll_interval, progress=progress)


class LoggedBatchJob(BatchJob):
    """A :class:`BatchJob` whose results, when they first arrive, are written to the
    instructor's log: one line per prompt (what a session with a policy ``log`` submits)."""

    def __init__(
        self,
        client: Client,
        batch: Mapping[str, Any],
        *,
        journal: Journal,
        requests: list[dict[str, Any]],
        started: str,
        **options: Any,
    ) -> None:
        super().__init__(client, batch, **options)
        self._journal = journal
        self._requests = requests
        self._submitted_at = started
        self._logged = False

    def results(self) -> BatchResults:
        """The results in input order (see :meth:`BatchJob.results`), logged the first time.

        Examples
        --------
        >>> import json, pathlib, tempfile
        >>> from nbclaude import Client
        >>> from nbclaude._session.journal import Journal
        >>> from nbclaude._session.builder import RequestBuilder, Settings
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> log = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
        >>> client = Client(api_key="k", transport=FakeAnthropic([Text("4")]))
        >>> builder = RequestBuilder(Settings(model="claude-haiku-4-5"))
        >>> submit(builder, client, ["2+2?"], poll_interval=0, params={},
        ...        journal=Journal(str(log), secrets=lambda: [])).texts
        ['4']
        >>> line = json.loads(log.read_text())
        >>> line["kind"], line["prompt"], line["reply"], line["custom_id"]
        ('batch', '2+2?', '4', 'item-0')
        """
        results = super().results()
        if not self._logged:
            self._logged = True
            self._journal.log_batch(
                self.id, self._requests, list(results), started=self._submitted_at
            )
        return results


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
