"""Streaming: cut a growing reply into top-level blocks that can no longer change and a live tail,
so a display can render each finished block once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from .parser import markdown_parser

__all__ = ["BlockSplitter", "split_blocks"]

_NEWLINE = re.compile(r"\r\n?|\n")


class BlockSplitter:
    """Split a growing Markdown reply into finished top-level blocks and a live tail.

    Only complete lines are considered. A top-level block is committed once a *later* top-level
    block has started and at least one blank line separates the two. After such a blank line no
    later text can change the earlier block: paragraphs, setext headings, lazy continuation
    lines, tables, block quotes and HTML blocks have ended; an open fence or an unclosed ``$$``
    runs to the end of the text, so it stays in the tail; a list is committed only when a block
    that is not part of it has started. Several blocks not separated by blank lines are committed
    together, as one piece.

    The one thing later text can still change is a link reference: CommonMark definitions
    (``[label]: url``) apply to the whole document. Definitions in committed blocks are collected
    in :attr:`references`; pass them to :func:`safe_markdown` when rendering later blocks. A
    definition that arrives *after* its use only takes effect when the whole reply is rendered
    again at the end.

    :meth:`feed` parses the uncommitted text only when a new line that follows a blank line has
    been completed, so streaming a reply costs about one parse per block.

    Examples
    --------
    >>> s = BlockSplitter()
    >>> s.feed("# Title\\n\\nFirst para")
    []
    >>> s.feed("graph.\\n\\nSecond")
    ['# Title\\n\\n']
    >>> s.tail
    'First paragraph.\\n\\nSecond'
    """

    def __init__(self) -> None:
        self._text = ""
        self._start = 0  # offset of the first uncommitted character
        self._checked = 0  # offset of the first line not yet complete
        self._after_blank = False  # whether the last complete line was blank
        self._references: dict[str, Any] = {}

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._text

    @property
    def tail(self) -> str:
        """The text that is not committed yet."""
        return self._text[self._start :]

    @property
    def references(self) -> Mapping[str, Any]:
        """Link reference definitions found in the committed blocks."""
        return self._references

    def feed(self, delta: str) -> list[str]:
        """Append ``delta`` and return the blocks that became complete, in order.

        Parameters
        ----------
        delta : str
            The next piece of the reply.

        Returns
        -------
        list[str]
            New complete blocks (source text, trailing blank lines included); often empty.
        """
        self._text += delta
        if not self._scan_lines():
            return []
        pending = self._text[self._start : self._checked]
        tokens = markdown_parser("blocks").parse(pending, {})
        tops = [t.map for t in tokens if t.level == 0 and t.nesting >= 0 and t.map]
        offsets = [0]
        offsets.extend(m.end() for m in _NEWLINE.finditer(pending))
        blocks: list[str] = []
        first = 0
        for (_, end), (nxt, _) in pairwise(tops):
            # blank lines between the two (a list's line range may already include them)
            gap = range(min(end, nxt - 1), nxt)
            if any(not pending[offsets[k] : offsets[k + 1]].strip() for k in gap):
                blocks.append(pending[offsets[first] : offsets[nxt]])
                first = nxt
        if blocks:
            done = "".join(blocks)
            self._start += len(done)
            if "]:" in done:
                env: dict[str, Any] = {}
                markdown_parser("blocks").parse(done, env)
                for label, ref in env.get("references", {}).items():
                    self._references.setdefault(label, ref)
        return blocks

    def _scan_lines(self) -> bool:
        """Look at newly completed lines; True when one of them follows a blank line."""
        text, pos, found = self._text, self._checked, False
        end = len(text) - 1 if text.endswith("\r") else len(text)  # may be half of "\r\n"
        for m in _NEWLINE.finditer(text, pos, end):
            blank = not text[pos : m.start()].strip(" \t")
            found = found or (self._after_blank and not blank)
            self._after_blank = blank
            pos = m.end()
        self._checked = pos
        return found


def split_blocks(text: str) -> tuple[list[str], str]:
    """Split Markdown into complete top-level blocks and the live tail.

    ``"".join(blocks) + tail == text`` always holds, and the blocks found in a prefix of a reply
    are a prefix of the blocks found in the whole reply. See :class:`BlockSplitter` for the
    rules, and use it directly when the text grows: it does not re-parse committed blocks.

    Parameters
    ----------
    text : str
        The reply so far.

    Returns
    -------
    tuple[list[str], str]
        The complete blocks (each with its trailing blank lines) and the tail.

    Examples
    --------
    >>> split_blocks("Intro.\\n\\n- a\\n- b\\n\\nMore\\n")
    (['Intro.\\n\\n', '- a\\n- b\\n\\n'], 'More\\n')
    """
    splitter = BlockSplitter()
    blocks = splitter.feed(text)
    return blocks, splitter.tail
