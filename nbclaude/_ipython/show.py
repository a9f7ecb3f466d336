"""Showing a command's answer: Markdown put in the cell as it is (already safe), and text
escaped so that Markdown shows it exactly."""

from __future__ import annotations

from typing import Any

__all__ = ["escape", "markdown"]


def markdown(text: str) -> None:
    """Display ``text`` (safe Markdown) as the cell's output; the same as its plain text."""
    from IPython import display as ipd

    show: Any = ipd.display  # untyped in IPython
    show({"text/markdown": text, "text/plain": text}, raw=True)


def escape(text: str) -> str:
    """``text`` as Markdown that shows exactly it (``nbclaude._markdown.escape_text``).

    Examples
    --------
    >>> escape("$5 and *not bold*")
    '\\\\$5 and \\\\*not bold\\\\*'
    """
    from nbclaude._markdown import escape_text

    return escape_text(text)
