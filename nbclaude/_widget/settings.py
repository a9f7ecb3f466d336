"""The ChatWidget's settings panel and toolbar, seen from the session: the models to choose
from, a setting written in the panel, the budget shown beside the cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbclaude._api.models import FALLBACK_MODELS

from . import protocol as proto

if TYPE_CHECKING:
    from nbclaude._session.session import Session

__all__ = ["apply_setting", "budget_of", "model_list"]


def model_list(session: Session) -> list[proto.ModelChoice]:
    """The models for the panel: ``GET /v1/models``, else the built-in list (no key yet,
    offline, no network)."""
    try:
        choices = proto.model_choices(session.models())
    except Exception:  # the built-in list will do
        choices = []
    return choices or proto.model_choices(FALLBACK_MODELS)


def apply_setting(session: Session, name: str, value: Any) -> None:
    """Write a setting from the panel (``model``, ``system``, ``max_tokens``) into the session;
    raises what the session raises for a bad value."""
    if name == "model" and value and value != session.model:
        session.model = str(value)
    elif name == "system" and value != proto.system_text(session.system):
        session.system = str(value) or None
    elif name == "max_tokens" and value != session.max_tokens:
        session.max_tokens = int(value)


def budget_of(session: Session) -> float | None:
    """The session's budget in USD, if it has one (``Session(budget=...)``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> budget_of(SimpleNamespace(budget=2)), budget_of(SimpleNamespace())
    (2.0, None)
    """
    budget = getattr(session, "budget", None)
    return float(budget) if isinstance(budget, (int, float)) and budget > 0 else None
