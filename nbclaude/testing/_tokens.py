"""Deterministic stand-in token counts (about 4 characters per token).

Not Claude's tokenizer (that one is not public): pieces of up to 4 letters or 3 digits, or one
other character, each with at most one leading space. Output truncation by ``max_tokens`` cuts
at these pieces, so ``max_tokens=1`` returns a single plausible token (``"C"``).
Images count ``ceil(width * height / 750)`` tokens, as the vision docs estimate.
"""

from __future__ import annotations

import math
import re

__all__ = ["count_tokens", "image_tokens", "split_tokens", "tidy_cut", "truncate_tokens"]

_TOKEN = re.compile(r"\s?(?:[^\W\d_]{1,4}|\d{1,3}|[^\w\s]|_)|\s+")


def split_tokens(text: str) -> list[str]:
    """The token pieces of ``text`` (they concatenate back to ``text``).

    Examples
    --------
    >>> split_tokens("Hello there, 12345!")
    ['Hell', 'o', ' ther', 'e', ',', ' 123', '45', '!']
    """
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens ``text`` counts as.

    Examples
    --------
    >>> count_tokens("The answer is (C)")
    7
    """
    return sum(1 for _ in _TOKEN.finditer(text))


def truncate_tokens(text: str, n: int) -> tuple[str, bool]:
    """The first ``n`` tokens of ``text``, and whether anything was cut.

    Examples
    --------
    >>> truncate_tokens("C) Paris", 1)
    ('C', True)
    """
    if n <= 0:
        return "", bool(text)
    end = 0
    for i, m in enumerate(_TOKEN.finditer(text)):
        if i == n:
            return text[:end], True
        end = m.end()
    return text, False


def tidy_cut(cut: str, whole: str) -> str:
    """``cut`` (a prefix of ``whole``) ended at a word boundary, without an unbalanced ``(``,
    ``*`` or backtick, so a reply cut by ``max_tokens`` still reads as Markdown.

    Examples
    --------
    >>> tidy_cut("*(offline fa", "*(offline fake — no model was called)*")
    'offline'
    >>> tidy_cut("*(offl", "*(offline fake — no model was called)*")
    ''
    >>> tidy_cut("C", "C) Formicidae")
    'C'
    """
    if len(cut) < len(whole) and cut[-1:].isalnum() and whole[len(cut)].isalnum():
        k = len(cut) - 1  # inside a word: back to where it starts (maybe nothing is left)
        while k >= 0 and cut[k].isalnum():
            k -= 1
        cut = cut[: k + 1]
    chars = list(cut.rstrip())
    open_at: list[int] = []
    for i, ch in enumerate(chars):
        if ch == "(":
            open_at.append(i)
        elif ch == ")" and open_at:
            open_at.pop()
    for i in open_at:
        chars[i] = ""
    text = "".join(chars)
    for mark in ("*", "`"):
        if text.count(mark) % 2:
            i = text.rfind(mark)
            text = text[:i] + text[i + 1 :]
    return text.strip()


def image_tokens(width: int | None, height: int | None) -> int:
    """Tokens for an image of this size (1,600 when the size is unknown, e.g. a URL).

    Examples
    --------
    >>> image_tokens(1000, 1000)
    1334
    """
    if not width or not height:
        return 1600
    return math.ceil(width * height / 750)
