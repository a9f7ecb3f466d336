"""The markdown-it parser that reads model output: CommonMark with raw HTML (so that it can be
shown as text), GFM tables and strikethrough, and math: ``$…$``/``$$…$$`` with Pandoc's rules
(``$5 and $10`` is not math), ``\\(…\\)`` and ``\\[…\\]``.

markdown-it is imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_inline import StateInline

__all__ = ["markdown_parser"]

_parsers: dict[str, MarkdownIt] = {}


def _backslashes_before(src: str, pos: int) -> int:
    count = 0
    while pos > count and src[pos - count - 1] == "\\":
        count += 1
    return count


def _dollar_inline(state: StateInline, silent: bool) -> bool:
    """Inline rule for ``$…$`` and ``$$…$$`` with Pandoc's rules: no space inside the
    delimiters, no digit before the opening or after the closing one (so ``$5 and $10`` is
    not math). Replaces mdit-py-plugins' rule, which reads ``src[-1]`` at position 0."""
    src, pos, stop = state.src, state.pos, state.posMax
    if src[pos] != "$" or (pos and src[pos - 1].isdigit()) or _backslashes_before(src, pos) % 2:
        return False
    delimiter = "$$" if src.startswith("$$", pos) else "$"
    start = pos + len(delimiter)
    if start >= stop or src[start] in " \t\n":
        return False
    end = src.find(delimiter, start, stop)
    while end >= 0 and _backslashes_before(src, end) % 2:
        end = src.find(delimiter, end + 1, stop)
    after = end + len(delimiter)
    if end <= start or src[end - 1] in " \t\n" or (after < stop and src[after].isdigit()):
        return False
    if not silent:
        token = state.push("math_inline_double" if delimiter == "$$" else "math_inline", "math", 0)
        token.content = src[start:end]
        token.markup = delimiter
    state.pos = after
    return True


def _bracket_inline(state: StateInline, silent: bool) -> bool:
    """Inline rule for ``\\(…\\)`` (inline) and ``\\[…\\]`` (display) math."""
    src, pos = state.src, state.pos
    if src[pos] != "\\" or pos + 1 >= state.posMax or src[pos + 1] not in "([":
        return False
    close = "\\)" if src[pos + 1] == "(" else "\\]"
    end = src.find(close, pos + 2, state.posMax)
    if end < 0 or not src[pos + 2 : end].strip() or src[end + 2 : end + 3] in ("(", "[", ":"):
        return False  # (escaped link syntax such as \\[x\\](y) is not math)
    if not silent:
        token = state.push("math_inline" if close == "\\)" else "math_inline_double", "math", 0)
        token.content = src[pos + 2 : end]
        token.markup = src[pos : pos + 2]
    state.pos = end + 2
    return True


def _bracket_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Block rule for ``\\[`` … ``\\]`` display math starting a line (no blank lines inside)."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    first = state.src[begin : state.eMarks[start]]
    if not first.startswith("\\["):
        return False
    line, body = start, first[2:]
    while True:
        stripped = body.rstrip()
        if stripped.endswith("\\]") and (line > start or len(stripped) > 2):
            body = stripped[:-2]
            break
        line += 1
        if line >= end:
            return False
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        if not text.strip():
            return False
        body = body + "\n" + text
    if not silent:
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = body
        token.markup = "\\["
        token.map = [start, line + 1]
    state.line = line + 1
    return True


def markdown_parser(kind: str = "full") -> MarkdownIt:
    """The cached markdown-it parser (``"full"``, or ``"blocks"`` without inline parsing)."""
    md = _parsers.get(kind)
    if md is None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.dollarmath import dollarmath_plugin

        md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
        dollarmath_plugin(
            md,
            allow_labels=False,
            allow_space=False,
            allow_blank_lines=False,
            double_inline=True,
        )
        md.inline.ruler.at("math_inline", _dollar_inline)
        md.inline.ruler.before("escape", "math_bracket", _bracket_inline)
        md.block.ruler.before("fence", "math_block_bracket", _bracket_block)
        # every target is judged when written (escape.safe_url)
        md.validateLink = lambda url: True  # type: ignore[method-assign]
        if kind == "blocks":
            md.disable("inline")
        _parsers[kind] = md
    return md
