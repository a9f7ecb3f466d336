"""When and how long to wait before trying a request again: exactly the official SDK's rules
(docs/api.md §8)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_DELAY",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0


def retry_delay(
    retries_taken: int,
    headers: Mapping[str, str] | None = None,
    *,
    rand: float | None = None,
    initial: float = INITIAL_RETRY_DELAY,
) -> float:
    """Seconds to wait before the next attempt, exactly as the official SDK computes it.

    A ``retry-after-ms`` header (milliseconds), else ``retry-after`` (seconds or an HTTP date),
    is obeyed when it asks for more than 0 and at most 60 seconds. Otherwise the delay is
    ``min(0.5 * 2**retries_taken, 8)`` seconds minus up to 25 % jitter.

    Examples
    --------
    >>> retry_delay(0, rand=0.0), retry_delay(1, rand=0.0), retry_delay(10, rand=0.0)
    (0.5, 1.0, 8.0)
    >>> retry_delay(0, {"retry-after": "3"})
    3.0
    >>> retry_delay(0, {"retry-after": "120"}, rand=1.0)  # over 60 s: ignored, jittered backoff
    0.375
    """
    if headers:
        hint = parse_retry_after(headers)
        if hint is not None and 0 < hint <= 60:
            return hint
    base = min(initial * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
    jitter = 1 - 0.25 * (random.random() if rand is None else rand)
    return max(base * jitter, 0.0)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - time.time()


def should_retry(status: int, headers: Mapping[str, str]) -> bool:
    flag = headers.get("x-should-retry")
    if flag == "true":
        return True
    if flag == "false":
        return False
    return status in (408, 409, 429) or status >= 500
