"""Which API a session talks to: the real one, or the offline fake (``NBCLAUDE_OFFLINE=1``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbclaude._client.client import Client

__all__ = ["default_client", "is_offline", "offline_client", "offline_requested"]


def offline_requested() -> bool:
    return os.environ.get("NBCLAUDE_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def offline_client() -> Client:
    """A client on the in-process offline fake (no network, no key needed).

    Examples
    --------
    >>> c = offline_client()
    >>> c.create(model="claude-haiku-4-5", max_tokens=50,
    ...          messages=[{"role": "user", "content": "Hi"}])["content"][0]["text"][:9]
    '*(offline'
    """
    from nbclaude._client.client import Client
    from nbclaude.testing import FakeAnthropic

    return Client(
        api_key="offline",
        base_url="http://offline.nbclaude.invalid",
        transport=FakeAnthropic(keep_requests=1),  # bounded memory: no growth with the chat
        max_retries=0,
    )


def default_client() -> Client:
    """The client a session uses when none is given.

    With ``NBCLAUDE_OFFLINE=1`` it is the offline fake; otherwise a real :class:`Client`
    (which raises :class:`~nbclaude.MissingAPIKeyError` at the first request if there is no
    key: nbclaude never falls back to the fake silently).
    """
    if offline_requested():
        return offline_client()
    from nbclaude._client.client import Client

    return Client()


def is_offline(client: Client) -> bool:
    from nbclaude.testing import FakeAnthropic

    return isinstance(client.transport, FakeAnthropic) and client.base_url.endswith(
        "offline.nbclaude.invalid"
    )
