"""Model output made safe to render as ``text/markdown`` in notebooks.

Model output is untrusted: a prompt injection can make a model emit anything, and a freshly run
cell's outputs are *trusted* in JupyterLab and Notebook 7, where ``text/markdown`` goes through
``marked`` with raw HTML allowed and no sanitizer. So model text is never emitted as it is.
:func:`safe_markdown` parses it with markdown-it (CommonMark, GFM tables and strikethrough, dollar
and bracket math) and writes the token tree back out as canonical Markdown in which nothing but
the structure we chose can be syntax. The result is meant to be safe for these renderers:
JupyterLab/Notebook 7 (a math pre-pass that cuts ``$…$`` out of the source, then marked, then
MathJax over the rendered page), VS Code (markdown-it + KaTeX) and plain CommonMark without math.

* Raw HTML (blocks, inline tags, comments, CDATA, declarations, processing instructions) is shown
  as literal text: ``<`` is written ``&lt;``, ``&`` ``&amp;``.
* Text is escaped: Markdown punctuation gets a backslash; ``[``, ``]`` and ``\\`` are written as
  character references (a backslash before them would read as ``\\[…\\]`` math, or as
  JupyterLab's ``\\\\(`` delimiter); line starts that could open a block are escaped; ``://``
  and ``www.`` are broken up, because marked's bare-URL autolinks can swallow a following code
  span and expose its raw content.
* Links keep only ``http:``, ``https:`` and ``mailto:`` targets, judged after markdown-it has
  decoded entities and normalised the URL. Every other target -- ``javascript:``, ``vbscript:``,
  ``data:``, ``file:``, relative and protocol-relative URLs (a notebook server would resolve them
  against itself) -- is dropped and only the link text stays. Titles are dropped.
* Images never load: ``![alt](https://x/p.png)`` becomes the link ``[image: alt](https://x/p.png)``;
  any other source, or an image inside a link, becomes the text ``[image: alt]``.
* Math (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``) is written with dollar delimiters, which
  JupyterLab and VS Code render. Inside it ``<``/``>`` become ``\\lt{}``/``\\gt{}``, ``](``
  and ``]:`` get a space, an ``&`` that would start a character reference (``&#92;``,
  ``&bsol;`` are backslashes to a renderer that decodes them) is written ``\\&``, and lines that
  a renderer without math would read as a fence, list or quote get a leading ``{}``.
* TeX is code too, and JupyterLab's MathJax keeps one parser for the whole page: model TeX may
  not carry styles, URLs or definitions (:mod:`~nbclaude._markdown.texpolicy` decides each
  command). Shown as text (``\\backslash\\mathrm{name}``), in math and in its text mode alike:
  links and labels (``\\href``, ``\\url``, ``\\ref``, ``\\eqref``, ``\\label``), attributes and
  styles (``\\class``, ``\\cssId``, ``\\style``, ``\\data``, ``\\mmlToken``, ``\\html…``, and
  ``\\unicode`` with an option: ``\\unicode{65}`` stays), tooltips (``\\mathtip``, ``\\texttip``),
  loads (``\\require``, ``\\includegraphics``, LaTeX's file commands), definitions (``\\def``,
  ``\\gdef``, ``\\edef``, ``\\xdef``, ``\\let``, ``\\futurelet``, ``\\newcommand``,
  ``\\renewcommand``, ``\\providecommand``, ``\\newenvironment``, ``\\renewenvironment``,
  ``\\DeclareMathOperator``, ``\\definecolor``, ``\\Newextarrow``, mathtools' and MathJax 4's
  definitions, ``\\csname``, …) and MathJax 4's ``\\U``, which writes a character (a backslash)
  back into the input. ``\\bbox``, the colour commands and ``\\enclose`` keep colours and
  paddings but no CSS. Math with a length above 20 em (a rule, a kern, a row gap) is text.
* Math that cannot be written safely (a backtick, unbalanced braces, a bare ``$``, a huge length)
  is shown as escaped text.
* Dollars that are not math (``costs $5 and $10``) are not math anywhere. MathJax in JupyterLab
  scans the rendered page, where ``\\$`` has already become ``$``, and pairs ``$5 and $``; so a
  run of text that holds several dollars (or a backslash MathJax would act on) is written so that
  the page shows ``\\$`` / ``\\\\``, which MathJax turns back into ``$`` / ``\\``. VS Code then
  shows those backslashes: a deliberate trade for the main front end.
* Code (fenced, indented, inline) is kept byte for byte, in fences longer than any backtick run
  inside; a fence keeps only a plain language word from its info string. Exceptions, shown as
  text instead: an inline code span with a backtick inside emphasis, a link or a paragraph with
  math (marked does not mask such spans), and one that would open a ``\\begin{…}`` or ``\\\\(``
  span in JupyterLab's pre-pass that other code could close. That pre-pass also ignores fences
  inside lists and quotes, so a list holding code with ``$``, ``\\begin{`` or ``\\\\(`` is written
  loose (blank lines stop the pre-pass) and such a block quote is written unquoted.
* Structure is kept: emphasis delimiters get neighbours that let them open and close as in the
  source (written as character references where needed), adjacent lists get different markers,
  and tight lists become loose only where blocks would otherwise merge.

:func:`~nbclaude._markdown.stream.split_blocks` and
:class:`~nbclaude._markdown.stream.BlockSplitter` cut a growing reply into top-level blocks that
can no longer change and a live tail, for streaming displays.

This module writes the blocks and holds :func:`safe_markdown`; the other modules of
:mod:`nbclaude._markdown` (mapped in its docstring) do the parsing, the escaping, the math and the
inline tokens.

Examples
--------
>>> safe_markdown("Hi <img src=x onerror=alert(1)> [x](javascript:alert(1)) $a<b$")
'Hi &lt;img src=x onerror=alert(1)&gt; x $a\\\\lt{}b$\\n'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .escape import escape_text
from .inline import LAB_START, LAB_TOKENS, Inline
from .parser import markdown_parser
from .tex import safe_tex

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = ["safe_markdown"]


_LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")


def _fence(content: str, info: str) -> str:
    longest = max(map(len, re.findall("`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    words = info.split()
    lang = words[0] if words and _LANG.fullmatch(words[0]) else ""
    if content and not content.endswith("\n"):
        content += "\n"
    return f"{fence}{lang}\n{content}{fence}"


# (not math blocks: to a renderer without math, or to JupyterLab's pre-pass, they are paragraphs)
_CLOSED = frozenset(("heading_open", "fence", "code_block", "hr"))
_INTERRUPTS_ANY = frozenset(("heading_open", "fence", "code_block", "hr"))
_THEMATIC_BREAK = re.compile(r"(?:[-*_][ \t]*){3,}(?:\n|$)")
_LIST_START = re.compile(r"(?:[-*+]|1[.)]) \S")


def _can_follow(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether rendered block ``second`` can follow ``first`` on the next line (no blank line)
    and still start a block of its own rather than continue ``first``."""
    (kind1, _), (kind2, text2) = first, second
    if kind1 in _CLOSED or kind2 in _INTERRUPTS_ANY:
        return True
    if "list_open" in kind2:  # only a non-empty item, numbered 1 if ordered, interrupts
        return _LIST_START.match(text2) is not None
    return kind2 == "blockquote_open" and kind1 != "blockquote_open"


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [first + lines[0] if lines[0] else first.rstrip()]
    out.extend(rest + line if line else "" for line in lines[1:])
    return "\n".join(out)


class _Blocks:
    """Serialise a markdown-it block token list back to safe Markdown."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        n = len(tokens)
        self.close = list(range(n))
        # Containers holding code that could start a math span in JupyterLab's pre-pass (which
        # only sees fences at the start of a line), and every token that could end one there.
        self.dollar_code: set[int] = set()
        ends: set[str] = set()
        stack: list[int] = []
        for i, t in enumerate(tokens):
            if t.nesting == 1:
                stack.append(i)
            elif t.nesting == -1:
                self.close[stack.pop()] = i
            elif t.type in ("fence", "code_block"):
                if LAB_START.search(t.content):
                    self.dollar_code.update(stack)
                ends.update(m[0] for m in LAB_TOKENS.finditer(t.content))
            for c in t.children or ():
                if c.type == "code_inline":
                    ends.update(m[0] for m in LAB_TOKENS.finditer(c.content))
        self.code_ends = frozenset(ends)

    def render(self, start: int, stop: int, previous: str = "") -> list[tuple[str, str]]:
        """Render sibling blocks in ``tokens[start:stop]`` as (kind, markdown) pairs;
        ``previous`` is the kind of the block just before them."""
        out: list[tuple[str, str]] = []
        tokens, i = self.tokens, start
        while i < stop:
            t = tokens[i]
            end = self.close[i]
            kind, text = t.type, ""
            if kind == "paragraph_open":
                text = self.inline(tokens[i + 1])
                if text.startswith("$$"):
                    # "$$…$$" or "$$…$$ (label)" would be read as a display block: end the
                    # line with an (invisible) space
                    first, newline, rest = text.partition("\n")
                    hard_break = "\\" if first.endswith("\\") else ""
                    first = first.removesuffix(hard_break)
                    text = f"{first}&#32;{hard_break}{newline}{rest}"
            elif kind == "heading_open":
                text = "#" * int(t.tag[1]) + " " + self.inline(tokens[i + 1], in_heading=True)
                text = text.rstrip()
            elif kind in ("fence", "code_block"):
                text = _fence(t.content, t.info if kind == "fence" else "")
            elif kind == "math_block":
                text = safe_tex(t.content, display=True) or ""
                if not text:
                    closing = "\\]" if t.markup == "\\[" else t.markup
                    kind, text = "html_block", self.text_block(t.markup + t.content + closing)
            elif kind == "hr":
                text = "___"
            elif kind == "html_block":
                text = self.text_block(t.content)
            elif kind == "blockquote_open":
                if i in self.dollar_code:
                    out.extend(self.render(i + 1, end, out[-1][0] if out else previous))
                    i = end + 1
                    continue
                inner = "\n\n".join(b for _, b in self.render(i + 1, end))
                text = "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
            elif kind in ("bullet_list_open", "ordered_list_open"):
                text, kind = self.list(i, end, out[-1][0] if out else previous)
            elif kind == "table_open":
                text = self.table(i, end)
            elif t.nesting == 1:
                out.extend(self.render(i + 1, end, out[-1][0] if out else previous))
                i = end + 1
                continue
            elif t.content:
                text = self.text_block(t.content)
            if text:
                out.append((kind, text))
            i = end + 1
        return out

    def inline(self, token: Token, *, in_table: bool = False, in_heading: bool = False) -> str:
        r = Inline(in_table=in_table, in_heading=in_heading, code_ends=self.code_ends)
        r.feed(token.children or [])
        text = r.render()
        if text.startswith("$") and text[-1:].isdigit():
            # mdit-py-plugins' dollarmath reads the last character as the one before position 0
            text += "&#32;"
        return text

    def text_block(self, content: str) -> str:
        paragraphs = re.split(r"\n[ \t]*\n", content.strip())
        return "\n\n".join(escape_text(p) for p in paragraphs if p.strip())

    def list(self, i: int, end: int, previous: str) -> tuple[str, str]:
        tokens = self.tokens
        ordered = tokens[i].type == "ordered_list_open"
        level = tokens[i].level
        loose = i in self.dollar_code or any(
            t.type == "paragraph_open" and t.level == level + 2 and not t.hidden
            for t in tokens[i:end]
        )
        number = int(tokens[i].attrs.get("start", 1) or 1)
        items: list[str] = []
        blocks: list[list[str]] = []
        markup = ""
        j = i + 1
        while j < end:
            item_end = self.close[j]
            rendered = self.render(j + 1, item_end)
            blocks.append([b for _, b in rendered])
            # in a tight list blocks follow each other without a blank line: only possible
            # when the second one cannot be read as a continuation of the first
            loose = loose or not all(map(_can_follow, rendered, rendered[1:]))
            j = item_end + 1
        j = i + 1
        for item_blocks in blocks:
            item_end = self.close[j]
            markup = tokens[j].markup or ("." if ordered else "-")
            kind = f"{tokens[i].type}{markup}"
            if kind == previous:  # two adjacent lists with the same marker would merge
                markup = {"-": "*", "*": "+", "+": "-", ".": ")", ")": "."}[markup]
            marker = f"{number}{markup}" if ordered else markup
            number += 1
            body = ("\n\n" if loose else "\n").join(item_blocks)
            if _THEMATIC_BREAK.match(f"{marker} {body}"):  # "- - -" would be a rule
                body = "\n" + body
            items.append(_indent(body, marker + " ", " " * (len(marker) + 1)) if body else marker)
            j = item_end + 1
        return ("\n\n" if loose else "\n").join(items), f"{tokens[i].type}{markup}"

    def table(self, i: int, end: int) -> str:
        rows: list[list[str]] = []
        aligns: list[str] = []
        for j in range(i, end):
            t = self.tokens[j]
            if t.type == "tr_open":
                rows.append([])
            elif t.type in ("th_open", "td_open"):
                if t.type == "th_open":
                    style = str(t.attrs.get("style", ""))
                    aligns.append(
                        {"left": ":--", "right": "--:", "center": ":-:"}.get(
                            style.rpartition(":")[2], "---"
                        )
                    )
                rows[-1].append(self.inline(self.tokens[j + 1], in_table=True))
        width = len(aligns)
        lines = []
        for row in [rows[0], aligns, *rows[1:]]:
            cells = (row + [""] * width)[:width]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def safe_markdown(text: str, *, references: Mapping[str, Any] | None = None) -> str:
    """Make untrusted Markdown (model output) safe to display as ``text/markdown``.

    The result renders with the same structure (headings, paragraphs, emphasis, lists, quotes,
    tables, code, math, rules, breaks, http/https/mailto links) in JupyterLab, Notebook 7,
    VS Code and Colab, but cannot contain raw HTML, script URLs, or images that load by
    themselves. The module docstring lists the exact policy.

    Parameters
    ----------
    text : str
        Markdown written by a model.
    references : Mapping, optional
        Link reference definitions seen earlier in the same reply (``BlockSplitter.references``),
        so that a block rendered on its own still resolves ``[text][label]``.

    Returns
    -------
    str
        Canonical Markdown, ending with a newline unless empty. Applying the function again
        gives Markdown that renders the same.

    Examples
    --------
    >>> safe_markdown("**Hi** <script>alert(1)</script>")
    '**Hi** &lt;script&gt;alert(1)&lt;/script&gt;\\n'
    >>> safe_markdown("![chart](https://example.org/c.png)")
    '[image: chart](<https://example.org/c.png>)\\n'
    """
    env: dict[str, Any] = {}
    if references:
        env["references"] = dict(references)
    tokens = markdown_parser().parse(text, env)
    blocks = _Blocks(tokens).render(0, len(tokens))
    out = "\n\n".join(b for _, b in blocks)
    return out + "\n" if out else ""
