"""``Usage``: what a session has spent — tokens and dollars, each request counted once — and
what it may still spend (its budget).

Turns add their usage as they end (a stopped turn adds what the API reported so far); a Message
Batch adds its results once, however often they are fetched (the batch ids are remembered).
The cost is ``None`` from the first request whose model has no known price on: a guess would
be worse than no number.

The budget (``Session(budget=USD)``) is kept against :attr:`Usage.spent`, the dollars spent
since the session was made: ``Session.reset()`` and loading a saved conversation set the totals
shown to the user, but never give money back. A submitted batch reserves its worst case until
its results are counted, so batches sent with ``wait=False`` cannot add up past the budget.
:meth:`Usage.check` refuses a request's worst case (see :mod:`nbclaude._session.budget`) that
does not fit in what is left.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbclaude._api.models import cost as price
from nbclaude._exceptions import BudgetExceededError

from .money import usd

if TYPE_CHECKING:
    from .budget import Estimate

__all__ = ["USAGE_KEYS", "Usage"]

#: The token counts a session adds up (the API's ``usage`` field names).
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class Usage:
    """Token totals and cost in USD, safe to add to from any thread; and the budget.

    Examples
    --------
    >>> u = Usage()
    >>> u.add("claude-haiku-4-5", {"input_tokens": 1000, "output_tokens": 100})
    >>> u.totals["input_tokens"], u.cost
    (1000, 0.0015)
    >>> u.add_once("msgbatch_1", {"input_tokens": 10}, 0.0)
    True
    >>> u.add_once("msgbatch_1", {"input_tokens": 10}, 0.0)  # counted already
    False
    >>> u.set_budget(0.01, "Session(budget=...)")
    >>> u.spent, u.left
    (0.0015, 0.0085)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = dict.fromkeys(USAGE_KEYS, 0)
        self._cost: float | None = 0.0
        self._counted: set[str] = set()
        self._spent = 0.0
        self._reserved: dict[str, float] = {}
        self._budget: float | None = None
        self._budget_source = ""

    @property
    def totals(self) -> dict[str, int]:
        """A copy of the token totals."""
        with self._lock:
            return dict(self._totals)

    @property
    def cost(self) -> float | None:
        """The cost so far in USD (``None`` once a model without a known price was used)."""
        with self._lock:
            return None if self._cost is None else round(self._cost, 10)

    def add(self, model: str, usage: Mapping[str, Any]) -> None:
        """Add one response's ``usage``, priced at ``model``'s standard prices."""
        self._add(usage, price(model, usage))

    def add_once(self, key: str, usage: Mapping[str, Any], cost: float | None) -> bool:
        """Add ``usage`` and ``cost`` unless ``key`` (a batch id) was added before; returns
        whether it was added. What :meth:`reserve` held for ``key`` is released."""
        with self._lock:
            self._reserved.pop(key, None)
            if key in self._counted:
                return False
            self._counted.add(key)
        self._add(usage, cost)
        return True

    def _add(self, usage: Mapping[str, Any], cost: float | None) -> None:
        with self._lock:
            for key in USAGE_KEYS:
                value = usage.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    self._totals[key] += value
            self._cost = None if cost is None or self._cost is None else self._cost + cost
            if cost is not None:
                self._spent += cost

    def reset(self) -> None:
        """Back to zero (what :meth:`Session.reset` does); the money spent stays spent."""
        self.restore(dict.fromkeys(USAGE_KEYS, 0), 0.0)

    def restore(self, totals: Mapping[str, int], cost: float | None) -> None:
        """Set the totals and cost (a loaded session's, or those before a reset). The budget's
        :attr:`spent` is not changed."""
        with self._lock:
            self._totals = {k: int(totals.get(k) or 0) for k in USAGE_KEYS}
            self._cost = cost

    # -- the budget ---------------------------------------------------------------------------

    @property
    def budget(self) -> float | None:
        """The budget in USD (``None``: no budget)."""
        return self._budget

    @property
    def budget_source(self) -> str:
        """Who set the budget, as the refusal names it (``"the course policy (...)"``)."""
        return self._budget_source

    def set_budget(self, budget: float | None, source: str) -> None:
        """Set the budget (``None`` for none) and say who set it."""
        with self._lock:
            self._budget = budget
            self._budget_source = source if budget is not None else ""

    @property
    def spent(self) -> float:
        """USD spent since this session was made (what the budget is kept against)."""
        with self._lock:
            return round(self._spent, 10)

    @property
    def reserved(self) -> float:
        """USD held for batches whose results have not been counted yet."""
        with self._lock:
            return round(sum(self._reserved.values()), 10)

    @property
    def left(self) -> float | None:
        """USD left of the budget (``None`` without one): budget - spent - reserved, >= 0."""
        with self._lock:
            if self._budget is None:
                return None
            left = self._budget - self._spent - sum(self._reserved.values())
            return round(max(0.0, left), 10)

    def reserve(self, key: str, amount: float) -> None:
        """Hold ``amount`` USD for ``key`` (a batch id) until :meth:`add_once` counts it."""
        with self._lock:
            if key not in self._counted:
                self._reserved[key] = amount

    def check(self, needed: Estimate, *, hint: str | None = None) -> None:
        """Refuse, with :class:`~nbclaude.BudgetExceededError`, a request whose worst case
        (``needed``) does not fit in what is left of the budget. No budget: nothing to do.

        Examples
        --------
        >>> from nbclaude._session.budget import Estimate
        >>> u = Usage()
        >>> u.set_budget(0.001, "Session(budget=...)")
        >>> u.check(Estimate("claude-haiku-4-5", 100, 1024, 0.0052))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        nbclaude._exceptions.BudgetExceededError: This request could cost up to $0.0052 ...
        """
        budget, left, spent = self._budget, self.left, self.spent
        if budget is None or left is None:
            return
        of = f"the {usd(budget)} budget set by {self._budget_source}"
        if needed.cost is None:
            raise BudgetExceededError(
                f"{needed.model} has no known price, so nbclaude cannot keep this session "
                f"within {of} ({usd(spent)} spent). Nothing was sent.",
                spent=spent,
                left=left,
                budget=budget,
                needed=None,
                hint=_join("Use a model with a known price: %claude models lists them.", hint),
            )
        if needed.cost > left + 1e-12:
            raise BudgetExceededError(
                f"This request could cost up to {usd(needed.cost)} ({needed.describe()}), but "
                f"only {usd(left)} is left of {of} ({usd(spent)} spent). Nothing was sent.",
                spent=spent,
                left=left,
                budget=budget,
                needed=needed.cost,
                hint=_join(
                    "Ask for a shorter reply (a lower max_tokens), or start a new conversation "
                    "(%claude reset) so that less is sent.",
                    hint,
                ),
            )


def _join(*hints: str | None) -> str:
    return " ".join(h for h in hints if h)
