"""The strings a magic must never send or show: the configured API key and auth token."""

from __future__ import annotations

import os

from nbclaude._session.session import Session

__all__ = ["secrets_of"]


def secrets_of(session: Session | None = None) -> list[str]:
    """The credentials in the environment and in ``session``'s client (if it has one)."""
    values = [os.environ.get("ANTHROPIC_API_KEY"), os.environ.get("ANTHROPIC_AUTH_TOKEN")]
    client = session._client if session is not None else None
    if client is not None:
        values += [client._api_key, client._auth_token]
    return [v for v in values if v and len(v) >= 8]
