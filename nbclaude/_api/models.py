"""What nbclaude knows about models without asking the API: one table, :data:`MODELS`.

Each model is a :class:`ModelSpec` (frozen): prices, limits, what a request may use (prefill,
forced ``tool_choice``, sampling, each ``thinking.type``), the shortest prefix it caches, its
lifecycle dates (docs/api.md §9, §13). The client, the session, ``%claude models`` and the
offline fake all read it. A new per-model fact: a field with its default in ``_spec``.

Prices are USD per million tokens as published (checked 2026-12); cache writes cost 1.25x
(5 minute) or 2x (1 hour) the input price and cache reads 0.1x unless a row says otherwise. A
model that is not in the table has no price (``cost`` is ``None``) rather than a guessed one.
Lifecycle dates are UTC days (``YYYY-MM-DD``): a model is *retired* from its ``retires`` day on
(requests naming it fail with 404), *deprecated* from its ``deprecated`` day until then.

For models not in the table the generation is read from the id
(``claude-<name>-<major>[-<minor>]``); data from ``GET /v1/models`` refines that for ids
nbclaude has never seen (``created_at``).
"""

from __future__ import annotations

import datetime as _dt
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
    "RETIRING_SOON_DAYS",
    "THINKING_TYPES",
    "Lifecycle",
    "ModelSpec",
    "ThinkingType",
    "cost",
    "default_model",
    "generation",
    "lifecycle",
    "model_spec",
    "retiring_soon",
    "supports_prefill",
    "thinking_mode",
]

#: The model used when nothing else is set (``NBCLAUDE_MODEL`` overrides it).
DEFAULT_MODEL = "claude-sonnet-5-5"
#: A current model that still accepts prefill (the guide's examples use it).
PREFILL_EXAMPLE_MODEL = "claude-haiku-4-5"
#: ``%claude models`` marks a model whose retirement is at most this many days away.
RETIRING_SOON_DAYS = 90

ThinkingMode = Literal["enabled", "adaptive"]
ThinkingType = Literal["enabled", "adaptive", "between_tools", "disabled"]
Lifecycle = Literal["active", "deprecated", "retired"]
#: Every ``thinking.type`` the API knows (the SDK's ``ThinkingConfigParam`` union).
THINKING_TYPES: tuple[ThinkingType, ...] = ("enabled", "adaptive", "between_tools", "disabled")


@dataclass(frozen=True)
class ModelSpec:
    """Static facts about one model family (an id without its date suffix).

    Attributes
    ----------
    id, display_name : str
        The id without a date (``"claude-haiku-4-5"``), and the name ``GET /v1/models`` shows.
    input_price, output_price : float or None
        USD per million tokens; ``None`` when unpublished.
    prefill, sampling : bool
        Whether a final ``assistant`` message is accepted (not from 4.6 on), and
        ``temperature`` / ``top_p`` / ``top_k`` (not from 4.7 on).
    thinking : {"enabled", "adaptive"}
        The ``thinking.type`` that turns thinking on with a budget or effort.
    max_tokens, context : int
        Output and input token limits.
    generation : float
        ``4.5`` for ``claude-haiku-4-5``, ``5.0`` for ``claude-opus-5``.
    released : str
        The ``created_at`` date ``GET /v1/models`` shows (``YYYY-MM-DD``).
    snapshot : str or None
        The dated id an alias resolves to (docs/api.md §9); ``None`` from 4.6 on.
    thinking_types : frozenset of str
        The ``thinking.type`` values a request may send (any other is a 400).
    forced_tool_choice : bool
        Whether ``tool_choice`` ``any`` / ``tool`` is accepted.
    cache_min : int
        The shortest prefix, in tokens, a ``cache_control`` breakpoint caches.
    deprecated, retires : str or None
        Lifecycle dates (``YYYY-MM-DD``); ``None`` when none is announced.
    line : str
        ``"haiku"``, ``"sonnet"``, ``"opus"``, ``"fable"`` or ``"mythos"``.
    cache_read_price : float or None
        USD per million cache-read tokens when not 0.1x the input price.
    long_context : tuple of (int, float, float) or None
        ``(threshold, input_price, output_price)`` for a prompt over ``threshold`` tokens.

    Examples
    --------
    >>> spec = MODELS["claude-haiku-4-5"]
    >>> spec.display_name, spec.generation, spec.snapshot, spec.cache_min
    ('Claude Haiku 4.5', 4.5, 'claude-haiku-4-5-20251001', 4096)
    >>> sonnet = MODELS["claude-sonnet-5-5"]
    >>> sorted(sonnet.thinking_types), sonnet.forced_tool_choice
    (['adaptive', 'between_tools'], False)
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
    thinking_types: frozenset[ThinkingType] = frozenset({"enabled", "disabled"})
    forced_tool_choice: bool = True
    cache_min: int = 1024
    deprecated: str | None = None
    retires: str | None = None
    line: str = ""
    cache_read_price: float | None = None
    long_context: tuple[int, float, float] | None = None


_ALWAYS_ON: frozenset[ThinkingType] = frozenset({"adaptive"})


def _types_of(gen: float) -> frozenset[ThinkingType]:  # 4.6 adds "adaptive", 4.7 drops "enabled"
    types: set[ThinkingType] = {"disabled", "enabled", "adaptive"}
    if gen < 4.6:
        types.discard("adaptive")
    if gen >= 4.7:
        types.discard("enabled")
    return frozenset(types)


def _spec(
    id: str,
    name: str,
    price: tuple[float, float] | None,
    gen: float,
    released: str,
    cache_min: int,
    *,
    snapshot: str | None = None,
    max_tokens: int = 128_000,
    context: int = 1_000_000,
    types: frozenset[ThinkingType] | None = None,
    forced: bool = True,
    deprecated: str | None = None,
    retires: str | None = None,
    cache_read: float | None = None,
    long_context: tuple[int, float, float] | None = None,
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
        thinking_types=types if types is not None else _types_of(gen),
        forced_tool_choice=forced,
        cache_min=cache_min,
        deprecated=deprecated,
        retires=retires,
        line=id.split("-")[1],
        cache_read_price=cache_read,
        long_context=long_context,
    )


_OLD: dict[str, Any] = {"max_tokens": 64_000, "context": 200_000}
# Thinking always on, forced tool use refused (Opus 5.5, Fable 5.1; docs/api.md §9).
_5_1: dict[str, Any] = {"types": _ALWAYS_ON, "forced": False}
# Sources (docs/api.md §9): the models overview and each model's page and "what's new" page
# (prices, thinking types, forced tool use, cache minimums), the deprecations page and the
# SDK's DEPRECATED_MODELS (lifecycle dates). Fable 5.2 and the Mythos 5.x rows are assumed to
# follow Fable 5.1 where their pages say nothing.
# fmt: off
_TABLE: dict[str, ModelSpec] = {
    s.id: s
    for s in (
        _spec("claude-fable-5-2", "Claude Fable 5.2", (8, 40), 5.2, "2026-11-12", 512, **_5_1),
        _spec("claude-mythos-5-2", "Claude Mythos 5.2", None, 5.2, "2026-11-11", 512, **_5_1),
        _spec("claude-haiku-5-5", "Claude Haiku 5.5", (0.1, 0.5), 5.5, "2026-10-29", 512,
              long_context=(100_000, 0.5, 2.5)),
        _spec("claude-sonnet-5-5", "Claude Sonnet 5.5", (2, 10), 5.5, "2026-10-21", 512,
              types=frozenset({"adaptive", "between_tools"}), forced=False),
        _spec("claude-fable-5-1", "Claude Fable 5.1", (10, 50), 5.1, "2026-10-14", 512, **_5_1),
        _spec("claude-opus-5-5", "Claude Opus 5.5", (4, 20), 5.5, "2026-10-07", 512,
              cache_read=0.2, **_5_1),
        _spec("claude-mythos-5-1", "Claude Mythos 5.1", None, 5.1, "2026-09-23", 512, **_5_1),
        _spec("claude-sonnet-5", "Claude Sonnet 5", (2, 10), 5.0, "2026-08-19", 1024),
        _spec("claude-fable-5", "Claude Fable 5", (10, 50), 5.0, "2026-08-12", 512,
              types=_ALWAYS_ON),
        _spec("claude-mythos-5", "Claude Mythos 5", None, 5.0, "2026-08-05", 512,
              types=_ALWAYS_ON),
        _spec("claude-opus-5", "Claude Opus 5", (5, 25), 5.0, "2026-07-24", 512),
        _spec("claude-opus-4-8", "Claude Opus 4.8", (5, 25), 4.8, "2026-06-10", 1024),
        _spec("claude-opus-4-7", "Claude Opus 4.7", (5, 25), 4.7, "2026-04-16", 2048),
        _spec("claude-opus-4-6", "Claude Opus 4.6", (5, 25), 4.6, "2026-02-05", 4096),
        _spec("claude-sonnet-4-6", "Claude Sonnet 4.6", (3, 15), 4.6, "2026-02-03", 1024),
        _spec("claude-haiku-4-5", "Claude Haiku 4.5", (1, 5), 4.5, "2025-10-15", 4096,
              snapshot="claude-haiku-4-5-20251001", **_OLD),
        _spec("claude-opus-4-5", "Claude Opus 4.5", (5, 25), 4.5, "2025-11-24", 4096,
              snapshot="claude-opus-4-5-20251101", deprecated="2026-11-23",
              retires="2027-01-22", **_OLD),
        # End of life 2026-11-30 (the SDK's DEPRECATED_MODELS up to 2.12; gone from 2.17).
        _spec("claude-sonnet-4-5", "Claude Sonnet 4.5", (3, 15), 4.5, "2025-09-29", 1024,
              snapshot="claude-sonnet-4-5-20250929", retires="2026-11-30", **_OLD),
        _spec("claude-opus-4-1", "Claude Opus 4.1", (15, 75), 4.1, "2025-08-05", 1024,
              snapshot="claude-opus-4-1-20250805", deprecated="2026-06-05",
              retires="2026-08-05", max_tokens=32_000, context=200_000),
    )
}
# fmt: on

#: Every model the table knows, by id (without a date), in the order of the SDK's ``Model``
#: literal (roughly newest first), retired ones included; read-only.
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
    """Whether ``model`` (an id, alias or dated id) accepts a final assistant message (prefill);
    ``None`` when nothing is known (the request is then sent and the API decides). ``models``
    (``GET /v1/models`` data) dates the ids the table does not know.

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


def _day(today: _dt.date | str | None) -> str:
    if today is None:
        return _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    return today if isinstance(today, str) else today.isoformat()


def lifecycle(model: str, *, today: _dt.date | str | None = None) -> Lifecycle | None:
    """The model's lifecycle stage on ``today`` (UTC; default: now); ``None`` when unknown.

    Examples
    --------
    >>> lifecycle("claude-sonnet-4-5", today="2026-11-29")
    'active'
    >>> lifecycle("claude-sonnet-4-5-20250929", today="2026-11-30")
    'retired'
    >>> lifecycle("claude-opus-4-5", today="2026-12-04"), lifecycle("gpt-4") is None
    ('deprecated', True)
    """
    spec = model_spec(model)
    if spec is None:
        return None
    day = _day(today)
    if spec.retires is not None and day >= spec.retires:
        return "retired"
    if spec.deprecated is not None and day >= spec.deprecated:
        return "deprecated"
    return "active"


def retiring_soon(
    model: str, *, today: _dt.date | str | None = None, days: int = RETIRING_SOON_DAYS
) -> str | None:
    """The retirement date of ``model`` when it is at most ``days`` away and not yet passed.

    Examples
    --------
    >>> retiring_soon("claude-opus-4-5", today="2026-12-04")
    '2027-01-22'
    >>> retiring_soon("claude-opus-4-5", today="2026-09-01") is None  # still months away
    True
    """
    spec = model_spec(model)
    if spec is None or spec.retires is None:
        return None
    day = _dt.date.fromisoformat(_day(today))
    left = (_dt.date.fromisoformat(spec.retires) - day).days
    return spec.retires if 0 < left <= days else None


def cost(model: str, usage: Mapping[str, Any]) -> float | None:
    """The price in USD of ``usage`` on ``model``; ``None`` for a model without a price.

    Cache writes are priced by TTL when ``usage["cache_creation"]`` splits them, else as
    5-minute writes. A model with long-context prices (Haiku 5.5) charges the whole request at
    them when its input (cached parts included) is over the threshold.

    Examples
    --------
    >>> cost("claude-haiku-4-5", {"input_tokens": 1_000_000, "output_tokens": 200_000})
    2.0
    >>> cost("claude-opus-5-5", {"input_tokens": 0, "cache_read_input_tokens": 1_000_000,
    ...                          "output_tokens": 0})
    0.2
    """
    spec = model_spec(model)
    if spec is None or spec.input_price is None or spec.output_price is None:
        return None

    def n(key: str) -> int:
        v = usage.get(key)
        return v if isinstance(v, int) else 0

    whole = n("input_tokens") + n("cache_creation_input_tokens") + n("cache_read_input_tokens")
    price_in, price_out = spec.input_price, spec.output_price
    read = spec.cache_read_price if spec.cache_read_price is not None else price_in * 0.1
    if spec.long_context is not None and whole > spec.long_context[0]:
        _, price_in, price_out = spec.long_context
        read = price_in * 0.1
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
        + n("cache_read_input_tokens") * read
        + n("output_tokens") * price_out
    ) / 1e6
    return round(total, 10)
