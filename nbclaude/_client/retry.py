"""When and how long to wait before trying a request again: exactly the official SDK's rules
(docs/api.md §8); and :class:`RetryNotice`, what the client tells its caller before each wait.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_DELAY",
    "OnRetry",
    "RetryNotice",
    "attempts_note",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
    "status_reason",
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


def status_reason(status: int) -> str:
    """A few words for a retryable status.

    Examples
    --------
    >>> status_reason(429), status_reason(529), status_reason(503)
    ('Rate limited (429)', 'Overloaded (529)', 'Server error (503)')
    """
    named = {408: "Request timeout", 409: "Conflict", 429: "Rate limited", 529: "Overloaded"}
    return f"{named.get(status, 'Server error' if status >= 500 else 'HTTP error')} ({status})"


@dataclass(frozen=True)
class RetryNotice:
    """What the client tells its caller before waiting to try a request again.

    ``str()`` of it is the line a user can be shown; counting the wait down is the caller's
    business (``Session.stop()`` or a kernel interrupt cancels it, and then nothing is sent).

    Examples
    --------
    >>> n = RetryNotice(attempt=2, attempts=3, wait=4.0, status=429, reason="Rate limited (429)")
    >>> str(n)
    'Rate limited (429) — retrying in 4 s (attempt 2 of 3)…'
    """

    #: The attempt that comes next (2 is the first retry).
    attempt: int
    #: The most attempts there will be (``max_retries + 1``).
    attempts: int
    #: Seconds until it is sent.
    wait: float
    #: The HTTP status that failed; ``None`` when there was no answer (a connection error or a
    #: timeout).
    status: int | None
    #: A few words: ``"Rate limited (429)"``, ``"Connection failed (ConnectError)"``, ...
    reason: str
    #: The failed answer's ``request-id``, when there was one.
    request_id: str | None = None

    def __str__(self) -> str:
        wait = f"{self.wait:.0f} s" if self.wait >= 1 else f"{self.wait:.1f} s"
        return f"{self.reason} — retrying in {wait} (attempt {self.attempt} of {self.attempts})…"


#: ``on_retry(notice)``: called before each wait (in the thread that sends the request).
OnRetry = Callable[[RetryNotice], None]


def attempts_note(attempts: int, *, why_not: str = "") -> str:
    """How many times a failed request was sent, in a sentence for its error.

    Examples
    --------
    >>> attempts_note(3)
    'nbclaude made 3 attempts, waiting between them.'
    >>> attempts_note(1, why_not="the server said not to retry")
    'nbclaude made 1 attempt (no retry: the server said not to retry).'
    """
    if attempts > 1:
        return f"nbclaude made {attempts} attempts, waiting between them."
    if why_not:
        return f"nbclaude made 1 attempt (no retry: {why_not})."
    return "nbclaude made 1 attempt."
