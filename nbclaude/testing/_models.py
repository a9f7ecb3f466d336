"""The models the fake knows: resolution of aliases, limits, lifecycle, and ``GET /v1/models``.

Built from ``nbclaude._api.models.MODELS`` (one table for all of nbclaude: the snapshot id an
alias resolves to, the ``created_at`` date, the limits, what each model accepts, its
retirement date), plus whatever a test passes as ``FakeAnthropic(models=...)``. The registry
has a clock (``today``: a fixed day, or the real UTC date): from a model's retirement day on,
requests naming it get 404 and ``GET /v1/models`` lists it only when asked for
``lifecycle[]=retired`` (the SDK 2.17's ``ModelListParams``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nbclaude._api.models import (
    MODELS,
    THINKING_TYPES,
    ModelSpec,
    generation,
    supports_prefill,
    thinking_mode,
)

from ._paging import page_of

__all__ = ["ModelEntry", "ModelRegistry"]


@dataclass(frozen=True)
class ModelEntry:
    """What the fake needs to know about one model."""

    id: str  # the resolved id the API answers with (dated snapshot where there is one)
    display_name: str
    created_at: str  # RFC 3339
    max_tokens: int
    context: int
    prefill: bool
    thinking: str  # "enabled" (budget_tokens) or "adaptive"
    sampling: bool  # accepts temperature / top_p / top_k
    enabled_thinking: bool  # accepts thinking.type "enabled"
    generation: float | None
    thinking_types: frozenset[str] = frozenset({"enabled", "adaptive", "disabled"})
    forced_tool_choice: bool = True  # accepts tool_choice "any" / "tool"
    cache_min: int = 1024  # the shortest prefix a breakpoint caches, in tokens
    deprecated: str | None = None  # YYYY-MM-DD
    retires: str | None = None  # YYYY-MM-DD
    line: str | None = None

    def lifecycle(self, today: str) -> str:
        """``"active"``, ``"deprecated"`` or ``"retired"`` on ``today`` (``YYYY-MM-DD``)."""
        if self.retires is not None and today >= self.retires:
            return "retired"
        if self.deprecated is not None and today >= self.deprecated:
            return "deprecated"
        return "active"

    def info(self, today: str = "2026-12-01") -> dict[str, Any]:
        """The ``ModelInfo`` dict of ``GET /v1/models`` (SDK 2.17 ``types/model_info.py``)."""
        gen = self.generation or 5.0
        effort = gen >= 4.6
        levels = {"low": effort, "medium": effort, "high": effort, "max": effort}
        if gen >= 4.7:
            levels["xhigh"] = True
        stage = self.lifecycle(today)
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "lifecycle": stage,
            "deprecated_at": _stamp(self.deprecated) if stage != "active" else None,
            "retires_at": _stamp(self.retires) if stage != "active" else None,
            "line": self.line,
            "max_input_tokens": self.context,
            "max_tokens": self.max_tokens,
            "capabilities": {
                "batch": {"supported": True},
                "citations": {"supported": True},
                "code_execution": {"supported": True},
                "image_input": {"supported": True},
                "pdf_input": {"supported": True},
                "structured_outputs": {"supported": gen >= 4.5},
                "context_management": {
                    "supported": True,
                    "clear_thinking_20251015": {"supported": True},
                    "clear_tool_uses_20250919": {"supported": True},
                },
                "effort": {
                    "supported": effort,
                    **{k: {"supported": v} for k, v in levels.items()},
                },
                "server_tools": {
                    "supported": True,
                    "code_execution": {"supported": True},
                    "web_search": {"supported": True},
                },
                "thinking": {
                    "supported": True,
                    "types": {t: {"supported": t in self.thinking_types} for t in THINKING_TYPES},
                },
            },
        }


def _stamp(day: str | None) -> str | None:
    return None if day is None else day + "T00:00:00Z"


def _entry_from_table(spec: ModelSpec) -> ModelEntry:
    return ModelEntry(
        id=spec.snapshot or spec.id,
        display_name=spec.display_name,
        created_at=spec.released + "T00:00:00Z",
        max_tokens=spec.max_tokens,
        context=spec.context,
        prefill=spec.prefill,
        thinking=spec.thinking,
        sampling=spec.sampling,
        enabled_thinking="enabled" in spec.thinking_types,
        generation=spec.generation,
        thinking_types=frozenset(spec.thinking_types),
        forced_tool_choice=spec.forced_tool_choice,
        cache_min=spec.cache_min,
        deprecated=spec.deprecated,
        retires=spec.retires,
        line=spec.line,
    )


def _entry_from_extra(item: str | Mapping[str, Any]) -> ModelEntry:
    if isinstance(item, str):
        info: Mapping[str, Any] = {"id": item}
    else:
        info = item
    mid = str(info["id"])
    gen = generation(mid)
    prefill = supports_prefill(mid, [info] if "created_at" in info else None)
    mode = thinking_mode(mid)
    caps = info.get("capabilities")
    accepted = {"adaptive", "disabled"} if mode == "adaptive" else {"disabled"}
    if gen is None or gen < 4.7:
        accepted.add("enabled")
    if isinstance(caps, Mapping):
        types = (caps.get("thinking") or {}).get("types") or {}
        for name in THINKING_TYPES:
            if isinstance(types.get(name), Mapping):
                if types[name].get("supported"):
                    accepted.add(name)
                else:
                    accepted.discard(name)
    enabled = "enabled" in accepted
    return ModelEntry(
        id=mid,
        display_name=str(info.get("display_name") or mid),
        created_at=str(info.get("created_at") or "2026-01-01T00:00:00Z"),
        max_tokens=int(info.get("max_tokens") or 128_000),
        context=int(info.get("max_input_tokens") or 1_000_000),
        prefill=True if prefill is None else prefill,
        thinking=mode,
        sampling=gen is None or gen < 4.7,
        enabled_thinking=enabled,
        generation=gen,
        thinking_types=frozenset(accepted),
        retires=str(info["retires_at"])[:10] if info.get("retires_at") else None,
        # A scheduled retirement means the model is deprecated (SDK 2.17 ``ModelInfo``).
        deprecated=str(info.get("deprecated_at") or info.get("created_at") or "2026-01-01")[:10]
        if info.get("retires_at")
        else None,
    )


#: Gives the day the fake lives on, ``YYYY-MM-DD``.
Today = dt.date | str | None


class ModelRegistry:
    """Known models, looked up by id, alias or dated snapshot id.

    Parameters
    ----------
    extra : iterable of str or dict, optional
        More model ids (or ``ModelInfo``-like dicts with ``id``, ``max_tokens``, ...).
    today : datetime.date or str, optional
        The day the fake lives on (lifecycle); default: the real UTC date at each request.
    """

    def __init__(
        self, extra: Iterable[str | Mapping[str, Any]] | None = None, *, today: Today = None
    ) -> None:
        self._today = today.isoformat() if isinstance(today, dt.date) else today
        self._by_name: dict[str, ModelEntry] = {}
        entries: list[ModelEntry] = []
        for key, spec in MODELS.items():
            entry = _entry_from_table(spec)
            entries.append(entry)
            self._by_name[key] = entry
            self._by_name[entry.id] = entry
        for item in extra or ():
            entry = _entry_from_extra(item)
            entries = [e for e in entries if e.id != entry.id]
            entries.append(entry)
            self._by_name[entry.id] = entry
        # Newest first; ties keep the table order (Python's sort is stable).
        self.entries: list[ModelEntry] = sorted(entries, key=lambda e: e.created_at, reverse=True)

    def today(self) -> str:
        """The day the fake lives on (``YYYY-MM-DD``, UTC)."""
        return self._today or dt.datetime.now(dt.timezone.utc).date().isoformat()

    def page(
        self,
        limit: int,
        *,
        after_id: str | None = None,
        before_id: str | None = None,
        lifecycles: Iterable[str] = ("active", "deprecated"),
    ) -> dict[str, Any]:
        """One page of ``GET /v1/models``: newest first, the models in ``lifecycles`` (retired
        ones only when asked for); an unknown id gives an empty page."""
        today = self.today()
        wanted = set(lifecycles)
        entries = [e for e in self.entries if e.lifecycle(today) in wanted]
        ids = [e.id for e in entries]
        chosen, has_more = page_of(entries, ids, limit, after_id=after_id, before_id=before_id)
        data = [e.info(today) for e in chosen]
        return {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }

    def get(self, model: str) -> ModelEntry | None:
        """The entry for ``model`` (id, alias or dated id), or ``None`` when unknown."""
        return self._by_name.get(model)
