"""A Message Batch's results: :class:`BatchResults` in input order, :class:`BatchReply`,
:class:`NotProcessed`, and the batch price.

Every entry answers the prompt at the same index: a :class:`BatchReply` (succeeded), the
API's error as the matching :class:`~nbclaude.APIStatusError` subclass (errored) or a
:class:`NotProcessed` marker (canceled or expired). Batches cost half the standard price, so
:attr:`BatchReply.cost` and :attr:`BatchResults.cost` use :func:`batch_cost`. In a notebook
the results show a summary table in which the model's text is plain, escaped text.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, overload

from nbclaude._api.models import cost
from nbclaude._exceptions import STATUS_OF_ERROR_TYPE, APIStatusError, status_error
from nbclaude._session.money import usd
from nbclaude._session.reply import Reply
from nbclaude._types import Message

__all__ = [
    "BATCH_DISCOUNT",
    "BatchItem",
    "BatchReply",
    "BatchResults",
    "NotProcessed",
    "batch_cost",
    "parse_result",
]

#: Batch requests cost this fraction of the standard price.
BATCH_DISCOUNT = 0.5

_ROWS_SHOWN = 200
_CELL_CHARS = 500


def batch_cost(model: str, usage: Mapping[str, Any]) -> float | None:
    """The price in USD of ``usage`` on ``model`` at the batch price (half the standard one).

    Examples
    --------
    >>> batch_cost("claude-haiku-4-5", {"input_tokens": 1_000_000, "output_tokens": 200_000})
    1.0
    """
    standard = cost(model, {k: v for k, v in usage.items() if k != "service_tier"})
    return None if standard is None else round(standard * BATCH_DISCOUNT, 10)


class BatchReply(Reply):
    """A :class:`~nbclaude.Reply` that came from a batch: priced at the batch price.

    Attributes
    ----------
    custom_id : str
        The request's ``custom_id`` in the batch (``item-<index>``).

    Examples
    --------
    >>> r = BatchReply({"id": "msg_1", "type": "message", "role": "assistant",
    ...                 "model": "claude-haiku-4-5", "stop_reason": "end_turn",
    ...                 "stop_sequence": None,
    ...                 "usage": {"input_tokens": 1_000_000, "output_tokens": 0},
    ...                 "content": [{"type": "text", "text": "B+"}]}, custom_id="item-0")
    >>> r.text, r.cost
    ('B+', 0.5)
    """

    def __init__(
        self,
        message: Message,
        *,
        custom_id: str,
        prefill: str | None = None,
        images: Sequence[Mapping[str, Any]] = (),
        schema: Any = None,
    ) -> None:
        super().__init__(message, prefill=prefill, images=images, schema=schema)
        self.custom_id = custom_id

    @property
    def cost(self) -> float | None:
        """The price of this reply in USD at the batch price; ``None`` for an unknown model."""
        return batch_cost(self.model, self.usage)

    def footer(self) -> str:
        """The one-line summary shown under the reply (the cost is the batch price)."""
        return f"{super().footer()} · batch"

    def __repr__(self) -> str:
        return f"Batch{super().__repr__()}"


@dataclass(frozen=True)
class NotProcessed:
    """A batch request that was never processed (falsy, so ``if results[i]:`` skips it).

    Attributes
    ----------
    status : str
        ``"canceled"`` (the batch was canceled first), ``"expired"`` (the batch hit its 24-hour
        limit first) or ``"missing"`` (the results did not mention it).
    custom_id : str
        The request's ``custom_id``.

    Examples
    --------
    >>> NotProcessed("canceled", "item-3")
    NotProcessed('canceled', custom_id='item-3')
    """

    status: str
    custom_id: str

    def __repr__(self) -> str:
        return f"NotProcessed({self.status!r}, custom_id={self.custom_id!r})"

    def __bool__(self) -> bool:
        return False


#: One entry of :class:`BatchResults`.
BatchItem: TypeAlias = BatchReply | APIStatusError | NotProcessed


def parse_result(
    custom_id: str,
    result: Mapping[str, Any] | None,
    *,
    prefill: str | None,
    images: Sequence[Mapping[str, Any]],
    schema: Any = None,
) -> BatchItem:
    """One line of a batch's results (its ``result``) as a reply, an error or a marker.

    Examples
    --------
    >>> parse_result("item-0", {"type": "errored", "error": {"type": "error", "error": {
    ...     "type": "overloaded_error", "message": "Overloaded"}}}, prefill=None, images=())
    OverloadedError(status_code=529, type='overloaded_error', message='Overloaded', request_id=None)
    >>> parse_result("item-1", {"type": "canceled"}, prefill=None, images=())
    NotProcessed('canceled', custom_id='item-1')
    """
    kind = result.get("type") if result else None
    if result and kind == "succeeded" and isinstance(result.get("message"), dict):
        return BatchReply(
            result["message"], custom_id=custom_id, prefill=prefill, images=images, schema=schema
        )
    if result and kind == "errored":
        body = result.get("error")
        err = body.get("error") if isinstance(body, Mapping) else None
        etype = err.get("type") if isinstance(err, Mapping) else None
        status = STATUS_OF_ERROR_TYPE.get(str(etype), 500)
        return status_error(status, body if isinstance(body, dict) else {})
    return NotProcessed(str(kind) if kind in ("canceled", "expired") else "missing", custom_id)


class BatchResults(Sequence[BatchItem]):
    """A batch's results in input order: a list-like of replies, errors and markers.

    Entry ``i`` answers prompt ``i``: a :class:`BatchReply` (succeeded), an
    :class:`~nbclaude.APIStatusError` subclass (errored; e.g. ``BadRequestError`` for an
    invalid request) or a :class:`NotProcessed` marker (canceled or expired). In a notebook it
    shows a summary table; the model's text is shown as plain, escaped text.

    Attributes
    ----------
    batch : dict
        The final ``MessageBatch``.
    interrupted : bool
        Whether waiting was interrupted (the batch was canceled).

    Examples
    --------
    >>> from nbclaude import Client, Session
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> fake = FakeAnthropic([Text("Paris"), Text("Rome")])
    >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="k", transport=fake))
    >>> results = s.batch(["Capital of France?", "Capital of Italy?"], poll_interval=0)
    >>> results.texts, results.counts["succeeded"]
    (['Paris', 'Rome'], 2)
    """

    def __init__(
        self,
        items: Sequence[BatchItem],
        *,
        batch: Mapping[str, Any],
        interrupted: bool = False,
    ) -> None:
        self._items = list(items)
        self.batch = dict(batch)
        self.interrupted = interrupted

    @property
    def id(self) -> str:
        """The batch id."""
        return str(self.batch.get("id") or "")

    @overload
    def __getitem__(self, index: int) -> BatchItem: ...

    @overload
    def __getitem__(self, index: slice) -> list[BatchItem]: ...

    def __getitem__(
        self, index: int | slice
    ) -> BatchReply | APIStatusError | NotProcessed | list[BatchItem]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    # -- views ------------------------------------------------------------------------------
    @property
    def replies(self) -> dict[int, BatchReply]:
        """The succeeded entries: input index -> reply."""
        return {i: r for i, r in enumerate(self._items) if isinstance(r, BatchReply)}

    @property
    def errors(self) -> dict[int, APIStatusError]:
        """The errored entries: input index -> the API's error."""
        return {i: r for i, r in enumerate(self._items) if isinstance(r, APIStatusError)}

    @property
    def not_processed(self) -> dict[int, NotProcessed]:
        """The canceled or expired entries: input index -> marker."""
        return {i: r for i, r in enumerate(self._items) if isinstance(r, NotProcessed)}

    @property
    def texts(self) -> list[str | None]:
        """Each reply's text, in input order; ``None`` where there is no reply."""
        return [r.text if isinstance(r, BatchReply) else None for r in self._items]

    @property
    def counts(self) -> dict[str, int]:
        """How many entries succeeded, errored, were canceled or expired."""
        out = {"succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for status in map(_status, self._items):
            out[status] = out.get(status, 0) + 1
        return out

    @property
    def usage(self) -> dict[str, int]:
        """Token totals over the succeeded entries."""
        return dict(self._usage)

    @functools.cached_property
    def _usage(self) -> dict[str, int]:
        total = {
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        for reply in self.replies.values():
            usage = reply.usage
            for key in total:
                value = usage.get(key)
                if isinstance(value, int):
                    total[key] += value
        return total

    @functools.cached_property
    def cost(self) -> float | None:
        """The batch's price in USD (half the standard price); ``None`` if a model has no
        known price."""
        total = 0.0
        for reply in self.replies.values():
            price = reply.cost
            if price is None:
                return None
            total += price
        return round(total, 10)

    # -- display ----------------------------------------------------------------------------
    def summary(self) -> str:
        """One line: requests by status, tokens and the batch price.

        Examples
        --------
        >>> BatchResults([NotProcessed("canceled", "item-0")], batch={"id": "msgbatch_1"}).summary()
        'msgbatch_1 · 1 request: 1 canceled · 0 in / 0 out tokens · $0.00 (batch price: 50 % off)'
        """
        counts = {k: v for k, v in self.counts.items() if v}
        n = len(self)
        head = f"{self.id} · {n:,} request{'s' if n != 1 else ''}: " + ", ".join(
            f"{v:,} {k}" for k, v in counts.items()
        )
        usage = self.usage
        total_in = (
            usage["input_tokens"]
            + usage["cache_creation_input_tokens"]
            + usage["cache_read_input_tokens"]
        )
        parts = [head, f"{total_in:,} in / {usage['output_tokens']:,} out tokens"]
        price = self.cost
        if price is not None:
            parts.append(f"{usd(price)} (batch price: 50 % off)")
        return " · ".join(parts)

    def __repr__(self) -> str:
        flag = " (interrupted: the batch was canceled)" if self.interrupted else ""
        return f"<BatchResults {self.summary()}{flag}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for i, item in enumerate(self._items[:_ROWS_SHOWN]):
            status = _status(item)
            if isinstance(item, BatchReply):
                shown = item.text
            elif isinstance(item, APIStatusError):
                shown = f"{item.type or item.status_code}: {item.message}"
            else:
                shown = ""
            if len(shown) > _CELL_CHARS:
                shown = shown[: _CELL_CHARS - 1] + "…"
            rows.append(
                f"<tr><td>{i}</td><td>{esc(status)}</td>"
                f'<td style="text-align:left;white-space:pre-wrap">{esc(shown)}</td></tr>'
            )
        more = len(self) - _ROWS_SHOWN
        if more > 0:
            rows.append(f'<tr><td colspan="3">… {more:,} more</td></tr>')
        note = (
            "<p>Interrupted: the batch was canceled; the requests that had finished are kept.</p>"
            if self.interrupted
            else ""
        )
        return (
            '<div class="nbclaude-batch tex2jax_ignore mathjax_ignore">'
            f"<p><b>Batch</b> {esc(self.summary())}</p>{note}"
            "<table><thead><tr><th>#</th><th>status</th><th>reply</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )


def _status(item: BatchItem) -> str:
    if isinstance(item, BatchReply):
        return "succeeded"
    if isinstance(item, APIStatusError):
        return "errored"
    return item.status
