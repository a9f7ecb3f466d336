"""Saving and loading a session: versioned JSON, never the API key."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbclaude._exceptions import InvalidRequestError

if TYPE_CHECKING:
    from nbclaude._client.client import Client

    from .session import Session

__all__ = ["SAVE_FORMAT", "SAVE_VERSION", "dump", "restore"]

SAVE_FORMAT = "nbclaude.session"
SAVE_VERSION = 1


def dump(session: Session) -> str:
    """The session's settings, history and usage as JSON text (no client, no key)."""
    with session._state:
        data = {
            "format": SAVE_FORMAT,
            "version": SAVE_VERSION,
            "model": session.model,
            "system": session.system,
            "max_tokens": session.max_tokens,
            "params": session.params,
            "cache": session.cache,
            "messages": session.messages,
            "usage": session._usage,
            "cost": session._cost,
        }
        return json.dumps(data, ensure_ascii=False, indent=1)


def restore(
    cls: type[Session], path: str | os.PathLike[str], *, client: Client | None = None
) -> Session:
    """A new session from a file written by :func:`dump`; clear errors for anything else."""
    from .session import USAGE_KEYS

    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"Cannot load a session from {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
        raise InvalidRequestError(f"{path} is not a saved nbclaude session.")
    if data.get("version") != SAVE_VERSION:
        raise InvalidRequestError(
            f"{path} was saved by a newer nbclaude (format version {data.get('version')}); "
            "upgrade nbclaude to load it."
        )
    session = cls(
        model=data.get("model"),
        system=data.get("system"),
        max_tokens=int(data.get("max_tokens", 1024)),
        client=client,
        cache=bool(data.get("cache", False)),
        **(data.get("params") or {}),
    )
    session.messages = list(data.get("messages") or [])
    usage = data.get("usage") or {}
    session._usage = {k: int(usage.get(k) or 0) for k in USAGE_KEYS}
    saved_cost = data.get("cost", 0.0)
    session._cost = float(saved_cost) if isinstance(saved_cost, (int, float)) else None
    return session
