"""Saving and loading a session: versioned JSON, never the API key.

A saved session holds the settings, the messages and the usage totals; the client (and with it
any credential) is never part of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nbclaude._api.models import default_model
from nbclaude._exceptions import InvalidRequestError
from nbclaude._types import MessageParam

from .builder import Settings
from .usage import USAGE_KEYS

__all__ = ["SAVE_FORMAT", "SAVE_VERSION", "Saved", "dump", "read"]

SAVE_FORMAT = "nbclaude.session"
SAVE_VERSION = 1


@dataclass
class Saved:
    """What a saved session holds."""

    settings: Settings
    messages: list[MessageParam]
    usage: dict[str, int]
    cost: float | None


def dump(
    settings: Settings,
    messages: list[MessageParam],
    usage: Mapping[str, int],
    cost: float | None,
) -> str:
    """The session's settings, history and usage as JSON text (no client, no key).

    Examples
    --------
    >>> text = dump(Settings(model="claude-haiku-4-5"), [], {}, 0.0)
    >>> json.loads(text)["format"], json.loads(text)["model"]
    ('nbclaude.session', 'claude-haiku-4-5')
    """
    data = {
        "format": SAVE_FORMAT,
        "version": SAVE_VERSION,
        **asdict(settings),
        "messages": messages,
        "usage": dict(usage),
        "cost": cost,
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def read(path: str | os.PathLike[str]) -> Saved:
    """A session from a file written by :func:`dump`; clear errors for anything else."""
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
    settings = Settings(
        model=data.get("model") or default_model(),
        system=data.get("system"),
        max_tokens=int(data.get("max_tokens", 1024)),
        params=dict(data.get("params") or {}),
        cache=bool(data.get("cache", False)),
    )
    usage = data.get("usage") or {}
    saved_cost = data.get("cost", 0.0)
    return Saved(
        settings=settings,
        messages=list(data.get("messages") or []),
        usage={k: int(usage.get(k) or 0) for k in USAGE_KEYS},
        cost=float(saved_cost) if isinstance(saved_cost, (int, float)) else None,
    )
