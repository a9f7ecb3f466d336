"""``%claude models``: the models the key can use, with what nbclaude knows about them.

One row a model: its id (the session's marked), name, context, output limit, whether it takes
prefill, what it can do, and its price per million tokens (escaped: a bare ``$10 / $50`` would
be typeset as maths); a model that retires within 90 days says when, and is listed under the
table.
"""

from __future__ import annotations

from typing import Any

from nbclaude._session.money import usd_markdown
from nbclaude._session.session import get_session

from .show import escape as _esc
from .show import markdown as _md

__all__ = ["models"]


def models(where: Any, args: list[str]) -> None:
    """The models your key can use, with what nbclaude knows about them; a model that retires
    within 90 days says when."""
    import contextlib
    import datetime as dt

    from nbclaude._api.models import RETIRING_SOON_DAYS, model_spec, retiring_soon, supports_prefill

    s = get_session()
    infos = s.models(refresh=True)
    rows = [
        "| model | name | context | max output | prefill | can do | price in/out per MTok |",
        "|---|---|---|---|---|---|---|",
    ]
    soon: list[str] = []
    for info in infos:
        mid = str(info.get("id", ""))
        spec = model_spec(mid)
        price = (
            f"{usd_markdown(spec.input_price)} / {usd_markdown(spec.output_price)}"
            if spec and spec.input_price is not None and spec.output_price is not None
            else "—"
        )
        prefill = {True: "yes", False: "no", None: "?"}[supports_prefill(mid, infos)]
        context = info.get("max_input_tokens") or (spec.context if spec else None)
        output = info.get("max_tokens") or (spec.max_tokens if spec else None)
        current = " ◀" if mid == s.model else ""
        # The table's date, else the one GET /v1/models lists (``retires_at``, SDK 2.17).
        retires = retiring_soon(mid)
        listed = str(info.get("retires_at") or "")[:10]
        if retires is None and listed:
            with contextlib.suppress(ValueError):
                left = (
                    dt.date.fromisoformat(listed) - dt.datetime.now(dt.timezone.utc).date()
                ).days
                retires = listed if 0 < left <= RETIRING_SOON_DAYS else None
        name = _esc(str(info.get("display_name", "")))
        if retires is not None:
            name += f" ⚠ retires {retires}"
            soon.append(f"`{_esc(mid)}` ({retires})")
        rows.append(
            f"| `{_esc(mid)}`{current} | {name} | "
            f"{f'{context:,}' if context else '—'} | {f'{output:,}' if output else '—'} | "
            f"{prefill} | {_capabilities(dict(info))} | {price} |"
        )
    if soon:
        rows += [
            "",
            f"⚠ Retiring within {RETIRING_SOON_DAYS} days: {', '.join(soon)}. Requests to a "
            "retired model fail; move to a newer one before then.",
        ]
    _md("\n".join(rows))


_CAPABILITIES = (
    ("image_input", "vision"),
    ("pdf_input", "PDF"),
    ("thinking", "thinking"),
    ("structured_outputs", "JSON"),
    ("citations", "citations"),
    ("batch", "batch"),
)


def _capabilities(info: dict[str, Any]) -> str:
    caps = info.get("capabilities")
    if not isinstance(caps, dict):
        return "—"

    def on(value: Any) -> bool:
        return bool(value.get("supported")) if isinstance(value, dict) else bool(value)

    names = [label for key, label in _CAPABILITIES if on(caps.get(key))]
    return ", ".join(names) or "—"
