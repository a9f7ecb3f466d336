"""The models the fake knows: resolution of aliases, limits, and ``GET /v1/models`` data.

Built from ``nbclaude._api.models.MODELS`` (one table for all of nbclaude: the snapshot id an
alias resolves to, the ``created_at`` date, the limits), plus whatever a test passes as
``FakeAnthropic(models=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nbclaude._api.models import MODELS, ModelSpec, generation, supports_prefill, thinking_mode

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

    def info(self) -> dict[str, Any]:
        """The ``ModelInfo`` dict of ``GET /v1/models``."""
        gen = self.generation or 5.0
        adaptive = self.thinking == "adaptive"
        effort = gen >= 4.6
        levels = {"low": effort, "medium": effort, "high": effort, "max": effort}
        if gen >= 4.7:
            levels["xhigh"] = True
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
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
                "thinking": {
                    "supported": True,
                    "types": {
                        "adaptive": {"supported": adaptive},
                        "enabled": {"supported": self.enabled_thinking},
                    },
                },
            },
        }


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
        enabled_thinking=spec.sampling,  # "enabled" is refused from the 4.7 generation on
        generation=spec.generation,
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
    enabled = gen is None or gen < 4.7
    if isinstance(caps, Mapping):
        types = (caps.get("thinking") or {}).get("types") or {}
        if isinstance(types.get("enabled"), Mapping):
            enabled = bool(types["enabled"].get("supported", enabled))
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
    )


class ModelRegistry:
    """Known models, looked up by id, alias or dated snapshot id.

    Parameters
    ----------
    extra : iterable of str or dict, optional
        More model ids (or ``ModelInfo``-like dicts with ``id``, ``max_tokens``, ...).
    """

    def __init__(self, extra: Iterable[str | Mapping[str, Any]] | None = None) -> None:
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

    def page(
        self, limit: int, *, after_id: str | None = None, before_id: str | None = None
    ) -> dict[str, Any]:
        """One page of ``GET /v1/models``: newest first; an unknown id gives an empty page."""
        entries = self.entries
        ids = [e.id for e in entries]
        chosen, has_more = page_of(entries, ids, limit, after_id=after_id, before_id=before_id)
        data = [e.info() for e in chosen]
        return {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }

    def get(self, model: str) -> ModelEntry | None:
        """The entry for ``model`` (id, alias or dated id), or ``None`` when unknown."""
        return self._by_name.get(model)
