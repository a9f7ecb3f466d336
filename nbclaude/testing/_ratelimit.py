"""The ``anthropic-ratelimit-*`` response headers, like the real API's (docs/api.md §1.2).

Token buckets per minute, refilled continuously: requests, input tokens, output tokens, and
their sum (``tokens``). Each ``POST /v1/messages`` answered takes one request and its tokens;
the headers say the limit, what is left (tokens rounded down to thousands, as recorded) and
when the bucket is full again (RFC 3339, UTC, whole seconds). The defaults are the recorded
ones (50 requests, 30,000 input and 8,000 output tokens a minute). The fake only reports: it
never refuses a request for its rate (script an ``HTTPError(429)`` for that).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "RateLimits"]

#: Per-minute limits: requests, input tokens, output tokens (``tokens`` is their sum).
DEFAULT_LIMITS = {"requests": 50, "input-tokens": 30_000, "output-tokens": 8_000}


@dataclass
class _Bucket:
    limit: int
    used: float = 0.0
    at: float = 0.0

    def take(self, amount: float, now: float) -> tuple[float, float]:
        """Take ``amount``; the level left and the seconds until full again."""
        rate = self.limit / 60.0
        self.used = max(0.0, self.used - (now - self.at) * rate) + amount
        self.at = now
        return max(0.0, self.limit - self.used), self.used / rate


class RateLimits:
    """The rate-limit state of one fake (thread-safe).

    Examples
    --------
    >>> limits = RateLimits(wall=lambda: 1_800_000_000.0, clock=lambda: 0.0)
    >>> h = dict(limits.headers(input_tokens=2000, output_tokens=10))
    >>> h["anthropic-ratelimit-requests-remaining"], h["anthropic-ratelimit-tokens-remaining"]
    ('49', '35000')
    >>> h["anthropic-ratelimit-requests-reset"]
    '2027-01-15T08:00:02Z'
    """

    def __init__(
        self,
        limits: dict[str, int] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        chosen = {**DEFAULT_LIMITS, **(limits or {})}
        chosen["tokens"] = chosen["input-tokens"] + chosen["output-tokens"]
        self._buckets = {name: _Bucket(limit) for name, limit in chosen.items()}
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()

    def headers(self, *, input_tokens: int, output_tokens: int) -> list[tuple[str, str]]:
        """Take one request with these tokens; its ``anthropic-ratelimit-*`` headers."""
        amounts = {
            "requests": 1,
            "tokens": input_tokens + output_tokens,
            "input-tokens": input_tokens,
            "output-tokens": output_tokens,
        }
        out: list[tuple[str, str]] = []
        with self._lock:
            now = self._clock()
            wall = self._wall()
            for name in ("requests", "tokens", "input-tokens", "output-tokens"):
                bucket = self._buckets[name]
                left, refill = bucket.take(amounts[name], now)
                shown = int(left) if name == "requests" else int(left // 1000 * 1000)
                reset = dt.datetime.fromtimestamp(math.ceil(wall + refill), dt.timezone.utc)
                prefix = f"anthropic-ratelimit-{name}"
                out += [
                    (f"{prefix}-limit", str(bucket.limit)),
                    (f"{prefix}-remaining", str(shown)),
                    (f"{prefix}-reset", reset.strftime("%Y-%m-%dT%H:%M:%SZ")),
                ]
        return out
