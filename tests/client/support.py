"""What the client tests share: the request body, a client with a short backoff, and the check
that an error carries the key nowhere. (The fixtures are in conftest.py.)"""

from __future__ import annotations

from typing import Any

from conftest import KEY

from nbclaude import Client

__all__ = ["BODY", "assert_no_key", "fast"]

BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Hello, Claude"}],
}


def fast(client: Client) -> Client:
    """Shorten the backoff (the schedule itself is tested on retry_delay)."""
    client._initial_retry_delay = 0.001
    return client


def assert_no_key(exc: BaseException) -> None:
    assert KEY not in str(exc)
    assert KEY not in repr(exc)
    for value in vars(exc).values():
        assert KEY not in repr(value)
