"""Money as people read it: one formatter for every place nbclaude shows a price.

The footer under a reply, ``%claude`` and ``%claude usage``, ``%claude models`` and the chat
widget (``js/dom.js`` has the same rule) all write dollars the same way: plain decimals, never
scientific notation; cents for a cent or more (``$1.24``, ``$12.50``, ``$0.00``), and two
significant digits below a cent (``$0.0046``, ``$0.000046``), which is where a single short
turn usually lands.

In Markdown a ``$`` can start maths, so Markdown we write uses :func:`usd_markdown`.
"""

from __future__ import annotations

import math

__all__ = ["usd", "usd_markdown"]


def usd(value: float | None, *, unknown: str = "unknown") -> str:
    """``value`` US dollars as text; ``unknown`` for ``None`` (a model without a price).

    Examples
    --------
    >>> [usd(v) for v in (0, 4.6e-05, 0.0046, 0.0052, 0.00999, 1.2449, 12.5, 1234.5)]
    ['$0.00', '$0.000046', '$0.0046', '$0.0052', '$0.01', '$1.24', '$12.50', '$1,234.50']
    >>> usd(None)
    'unknown'
    """
    if value is None or math.isnan(value):
        return unknown
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0.00"
    if amount < 0.01:
        digits = 1 - math.floor(math.log10(amount))  # two significant digits
        return f"{sign}${amount:.{digits}f}".rstrip("0").rstrip(".")
    return f"{sign}${amount:,.2f}"


def usd_markdown(value: float | None, *, unknown: str = "unknown") -> str:
    """:func:`usd` with the dollar sign escaped, for Markdown (a bare ``$5 / $10`` would be
    typeset as maths).

    Examples
    --------
    >>> usd_markdown(10)
    '\\\\$10.00'
    """
    return usd(value, unknown=unknown).replace("$", "\\$")
