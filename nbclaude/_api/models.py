"""What nbclaude knows about models without asking the API: one table, :data:`MODELS`.

Each model is a :class:`ModelSpec` (frozen); to record a new per-model fact, add a field to it
and its default (read off the generation) to ``_spec``, then set it on the rows that differ.

Prices are USD per million tokens as published by Anthropic (checked 2026-11); cache writes
cost 1.25x (5 minute) or 2x (1 hour) the input price and cache reads 0.1x. A model that is not
in the table has no price (``cost`` is ``None``) rather than a guessed one.

Prefill (a final ``assistant`` message) is rejected from the 4.6 generation on. For models not
in the table the generation is read from the id (``claude-<name>-<major>[-<minor>]``); data
from ``GET /v1/models`` refines that for ids nbclaude has never seen (``created_at``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "DEFAULT_MODEL",
    "FALLBACK_MODELS",
    "MODELS",
    "PREFILL_EXAMPLE_MODEL",
    "ModelSpec",
    "cost",
    "default_model",
    "generation",
    "model_spec",
    "supports_prefill",
    "thinking_mode",
]

#: The model used when nothing else is set (``NBCLAUDE_MODEL`` overrides it).
DEFAULT_MODEL = "claude-sonnet-5-5"
#: A current model that still accepts prefill (the guide's examples use it).
PREFILL_EXAMPLE_MODEL = "claude-haiku-4-5"

ThinkingMode = Literal["enabled", "adaptive"]


@dataclass(frozen=True)
class ModelSpec:
    """Static facts about one model family (an id without its date suffix).

    Attributes
    ----------
    id : str
        The id without a date (``"claude-haiku-4-5"``).
    display_name : str
        As ``GET /v1/models`` shows it.
    input_price, output_price : float or None
        USD per million tokens; ``None`` when unpublished.
    prefill : bool
        Whether a final ``assistant`` message (prefill) is accepted.
    thinking : {"enabled", "adaptive"}
        The ``thinking.type`` the model wants.
    sampling : bool
        Whether ``temperature`` / ``top_p`` / ``top_k`` are accepted.
    max_tokens, context : int
        Output and input token limits.
    generation : float
        ``4.5`` for ``claude-haiku-4-5``, ``5.0`` for ``claude-opus-5``.
    released : str
        The ``created_at`` date ``GET /v1/models`` shows (``YYYY-MM-DD``). Only
        ``claude-opus-5`` and the dated snapshots are documented; the others follow the order
        of the SDK's ``Model`` literal, newest first (the 4.6 generation from 2026-02-01 on).
    snapshot : str or None
        The dated snapshot id an alias resolves to (docs/api.md §9); ``None`` from the 4.6
        generation on (their ids carry no date).

    Examples
    --------
    >>> spec = MODELS["claude-haiku-4-5"]
    >>> spec.display_name, spec.generation, spec.snapshot
    ('Claude Haiku 4.5', 4.5, 'claude-haiku-4-5-20251001')
    """

    id: str
    display_name: str
    input_price: float | None
    output_price: float | None
    prefill: bool
    thinking: ThinkingMode
    sampling: bool
    max_tokens: int
    context: int
    generation: float
    released: str
    snapshot: str | None = None


def _spec(
    id: str,
    name: str,
    price: tuple[float, float] | None,
    *,
    gen: float,
    released: str,
    snapshot: str | None = None,
    max_tokens: int = 128_000,
    context: int = 1_000_000,
) -> ModelSpec:
    return ModelSpec(
        id=id,
        display_name=name,
        input_price=price[0] if price else None,
        output_price=price[1] if price else None,
        prefill=gen < 4.6,
        thinking="adaptive" if gen >= 4.6 else "enabled",
        sampling=gen < 4.7,
        max_tokens=max_tokens,
        context=context,
        generation=gen,
        released=released,
        snapshot=snapshot,
    )


_TABLE: dict[str, ModelSpec] = {
    s.id: s
    for s in (
        _spec("claude-fable-5-2", "Claude Fable 5.2", (10, 50), gen=5.2, released="2026-11-12"),
        _spec("claude-mythos-5-2", "Claude Mythos 5.2", None, gen=5.2, released="2026-11-11"),
        _spec("claude-haiku-5-5", "Claude Haiku 5.5", None, gen=5.5, released="2026-10-29"),
        _spec("claude-sonnet-5-5", "Claude Sonnet 5.5", (2, 10), gen=5.5, released="2026-10-21"),
        _spec("claude-fable-5-1", "Claude Fable 5.1", (10, 50), gen=5.1, released="2026-10-14"),
        _spec("claude-opus-5-5", "Claude Opus 5.5", (4, 20), gen=5.5, released="2026-10-07"),
        _spec("claude-mythos-5-1", "Claude Mythos 5.1", None, gen=5.1, released="2026-09-23"),
        _spec("claude-sonnet-5", "Claude Sonnet 5", (2, 10), gen=5.0, released="2026-08-19"),
        _spec("claude-fable-5", "Claude Fable 5", (10, 50), gen=5.0, released="2026-08-12"),
        _spec("claude-mythos-5", "Claude Mythos 5", None, gen=5.0, released="2026-08-05"),
        _spec("claude-opus-5", "Claude Opus 5", (5, 25), gen=5.0, released="2026-07-24"),
        _spec("claude-opus-4-8", "Claude Opus 4.8", (5, 25), gen=4.8, released="2026-06-10"),
        _spec("claude-opus-4-7", "Claude Opus 4.7", (5, 25), gen=4.7, released="2026-04-16"),
        _spec("claude-opus-4-6", "Claude Opus 4.6", (5, 25), gen=4.6, released="2026-02-05"),
        _spec("claude-sonnet-4-6", "Claude Sonnet 4.6", (3, 15), gen=4.6, released="2026-02-03"),
        _spec(
            "claude-haiku-4-5",
            "Claude Haiku 4.5",
            (1, 5),
            gen=4.5,
            released="2025-10-15",
            snapshot="claude-haiku-4-5-20251001",
            max_tokens=64_000,
            context=200_000,
        ),
        _spec(
            "claude-opus-4-5",
            "Claude Opus 4.5",
            (5, 25),
            gen=4.5,
            released="2025-11-24",
            snapshot="claude-opus-4-5-20251101",
            max_tokens=64_000,
            context=200_000,
        ),
        _spec(
            "claude-sonnet-4-5",
            "Claude Sonnet 4.5",
            (3, 15),
            gen=4.5,
            released="2025-09-29",
            snapshot="claude-sonnet-4-5-20250929",
            max_tokens=64_000,
            context=200_000,
        ),
        _spec(
            "claude-opus-4-1",
            "Claude Opus 4.1",
            (15, 75),
            gen=4.1,
            released="2025-08-05",
            snapshot="claude-opus-4-1-20250805",
            max_tokens=32_000,
            context=200_000,
        ),
    )
}

#: Every model the table knows, by id (without a date), in the order of the SDK's ``Model``
#: literal (roughly newest first); read-only.
MODELS: Mapping[str, ModelSpec] = MappingProxyType(_TABLE)

#: Model ids offered when ``GET /v1/models`` cannot be asked (offline, or it failed).
FALLBACK_MODELS: tuple[str, ...] = (
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-fable-5-1",
    "claude-haiku-4-5",
    "claude-opus-4-8",
    "claude-sonnet-4-6",
)

_DATE = re.compile(r"-(\d{8})$")
_GENERATION = re.compile(r"^claude-[a-z]+-(\d+)(?:-(\d))?(?:-\d{8})?$")
# The 4.6 generation's first model was released in February 2026: anything the API lists as
# created from then on is of that generation or later.
_NO_PREFILL_SINCE = "2026-02-01"


def default_model() -> str:
    """The model to use when none is given: ``$NBCLAUDE_MODEL`` or :data:`DEFAULT_MODEL`."""
    return os.environ.get("NBCLAUDE_MODEL") or DEFAULT_MODEL


def model_spec(model: str) -> ModelSpec | None:
    """Look a model up by id, alias or dated snapshot id; ``None`` when unknown.

    Examples
    --------
    >>> model_spec("claude-haiku-4-5-20251001").display_name
    'Claude Haiku 4.5'
    >>> model_spec("gpt-4") is None
    True
    """
    return _TABLE.get(model) or _TABLE.get(_DATE.sub("", model))


def generation(model: str) -> float | None:
    """The generation read off a model id (``claude-<name>-<major>[-<minor>][-<date>]``).

    Examples
    --------
    >>> generation("claude-opus-4-1-20250805"), generation("claude-opus-5"), generation("gpt")
    (4.1, 5.0, None)
    """
    m = _GENERATION.match(model)
    if not m:
        return None
    major = int(m.group(1))
    minor = int(m.group(2)) if m.group(2) else 0
    return major + minor / 10


def supports_prefill(model: str, models: Iterable[Mapping[str, Any]] | None = None) -> bool | None:
    """Whether ``model`` accepts a final assistant message (prefill).

    Parameters
    ----------
    model : str
        A model id, alias or dated snapshot id.
    models : iterable of dict, optional
        ``GET /v1/models`` data, used for ids the built-in table does not know.

    Returns
    -------
    bool or None
        ``None`` when nothing is known (the request is then sent and the API decides).

    Examples
    --------
    >>> supports_prefill("claude-haiku-4-5"), supports_prefill("claude-sonnet-5-5")
    (True, False)
    """
    spec = model_spec(model)
    if spec is not None:
        return spec.prefill
    for info in models or ():
        if info.get("id") == model and isinstance(info.get("created_at"), str):
            return bool(info["created_at"] < _NO_PREFILL_SINCE)
    gen = generation(model)
    if gen is None:
        return None
    return gen < 4.6


def thinking_mode(model: str) -> ThinkingMode:
    """``"adaptive"`` for models that want ``thinking.type: adaptive``, else ``"enabled"``.

    Examples
    --------
    >>> thinking_mode("claude-haiku-4-5"), thinking_mode("claude-opus-5")
    ('enabled', 'adaptive')
    """
    spec = model_spec(model)
    if spec is not None:
        return spec.thinking
    gen = generation(model)
    return "adaptive" if gen is None or gen >= 4.6 else "enabled"


def cost(model: str, usage: Mapping[str, Any]) -> float | None:
    """The price in USD of ``usage`` on ``model``; ``None`` for a model without a price.

    Cache writes are priced by TTL when ``usage["cache_creation"]`` splits them, else as
    5-minute writes.

    Examples
    --------
    >>> cost("claude-haiku-4-5", {"input_tokens": 1_000_000, "output_tokens": 200_000})
    2.0
    """
    spec = model_spec(model)
    if spec is None or spec.input_price is None or spec.output_price is None:
        return None
    price_in = spec.input_price / 1e6
    price_out = spec.output_price / 1e6

    def n(key: str) -> int:
        v = usage.get(key)
        return v if isinstance(v, int) else 0

    split = usage.get("cache_creation")
    if isinstance(split, Mapping) and any(split.values()):
        w5 = int(split.get("ephemeral_5m_input_tokens") or 0)
        w1h = int(split.get("ephemeral_1h_input_tokens") or 0)
    else:
        w5, w1h = n("cache_creation_input_tokens"), 0
    total = (
        n("input_tokens") * price_in
        + w5 * price_in * 1.25
        + w1h * price_in * 2.0
        + n("cache_read_input_tokens") * price_in * 0.1
        + n("output_tokens") * price_out
    )
    return round(total, 10)
