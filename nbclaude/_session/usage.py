"""``Usage``: what a session has spent — tokens and dollars, each request counted once.

Turns add their usage as they end (a stopped turn adds what the API reported so far); a Message
Batch adds its results once, however often they are fetched (the batch ids are remembered).
The cost is ``None`` from the first request whose model has no known price on: a guess would
be worse than no number.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from nbclaude._api.models import cost as price

__all__ = ["USAGE_KEYS", "Usage"]

#: The token counts a session adds up (the API's ``usage`` field names).
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


class Usage:
    """Token totals and cost in USD, safe to add to from any thread.

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
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = dict.fromkeys(USAGE_KEYS, 0)
        self._cost: float | None = 0.0
        self._counted: set[str] = set()

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
        whether it was added."""
        with self._lock:
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

    def reset(self) -> None:
        """Back to zero (what :meth:`Session.reset` does)."""
        self.restore(dict.fromkeys(USAGE_KEYS, 0), 0.0)

    def restore(self, totals: Mapping[str, int], cost: float | None) -> None:
        """Set the totals and cost (a loaded session's, or those before a reset)."""
        with self._lock:
            self._totals = {k: int(totals.get(k) or 0) for k in USAGE_KEYS}
            self._cost = cost
