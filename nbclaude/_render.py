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
  and ``]:`` get a space, lines that a renderer without math would read as a fence, list or quote
  get a leading ``{}``, and commands that make links, load things or set HTML attributes
  (``\\href``, ``\\url``, ``\\includegraphics``, ``\\class``, ``\\style``, ``\\cssId``,
  ``\\data``, ``\\html…``, ``\\require``, ``\\mmlToken``) are shown as text. Math that cannot be
  written safely (a backtick, unbalanced braces, a bare ``$``) is shown as escaped text.
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

:func:`split_blocks` and :class:`BlockSplitter` cut a growing reply into top-level blocks that can
no longer change and a live tail, for streaming displays.

Examples
--------
>>> safe_markdown("Hi <img src=x onerror=alert(1)> [x](javascript:alert(1)) $a<b$")
'Hi &lt;img src=x onerror=alert(1)&gt; x $a\\\\lt{}b$\\n'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

__all__ = ["BlockSplitter", "escape_text", "safe_markdown", "split_blocks"]

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


def _parser(kind: str = "full") -> MarkdownIt:
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
        md.validateLink = lambda url: True  # type: ignore[method-assign]  # see _safe_url
        if kind == "blocks":
            md.disable("inline")
        _parsers[kind] = md
    return md


# --- text --------------------------------------------------------------------------------------

_ESCAPES = {c: "\\" + c for c in "`*_~|!$#"}
# Brackets as entities: a backslash before them would read as ``\\[…\\]`` display math.
_ESCAPES.update({"\\": "&#92;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "&#91;", "]": "&#93;"})
_PLAIN = str.maketrans(_ESCAPES)
_ACTIVE = str.maketrans({**_ESCAPES, "\\": "&#92;&#92;", "$": "&#92;\\$"})
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_LINE_START = re.compile(r"[-+=]|(\d{1,9})([.)])")
# Text that MathJax, run over JupyterLab's rendered page, would treat as math or as an escape.
_MATHJAX_TRIGGER = re.compile(r"\\(?:[\\$(\[]|(?:begin|end|ref|eqref)(?![A-Za-z]))")
_MATHJAX_ESCAPE = re.compile(r"\\([\\$])")


def _escape_line(line: str, table: dict[int, str], at_line_start: bool) -> str:
    out = line.translate(table).replace("://", "\\://")  # no bare-URL autolinks
    if "ww." in out or "WW." in out or "wW." in out or "Ww." in out:
        out = _WWW.sub(r"\1\\.", out)
    if at_line_start:
        m = _LINE_START.match(out)
        if m:
            out = f"{m[1]}\\{m[2]}{out[m.end() :]}" if m[1] else f"\\{out[0]}{out[1:]}"
    return out


def _escape(text: str, *, active: bool, at_line_start: bool) -> str:
    table = _ACTIVE if active else _PLAIN
    lines = text.split("\n")
    if at_line_start:
        lines[0] = lines[0].lstrip(" \t")
    lines = [line.rstrip(" \t") for line in lines[:-1]] + lines[-1:]  # no hard breaks
    out = [_escape_line(lines[0], table, at_line_start)]
    out.extend(_escape_line(line.lstrip(" \t"), table, True) for line in lines[1:])
    return "\n".join(out)


def _is_active(text: str, dollars: int) -> bool:
    """Whether JupyterLab's MathJax pass would misread this run of text (see module doc).

    ``text`` holds the run's text, with each math span written as ``"$\\x00"``.
    """
    own_dollars = text.count("$") - text.count("$\x00")
    return (own_dollars > 0 and dollars >= 2) or _MATHJAX_TRIGGER.search(text) is not None


def escape_text(text: str) -> str:
    """Turn plain text into Markdown that displays exactly that text.

    Every character that Markdown, HTML or JupyterLab's math pass could read as syntax is
    escaped; line breaks become hard breaks.

    Parameters
    ----------
    text : str
        Any text (a model name, a file name, an error message...).

    Returns
    -------
    str
        Markdown for one paragraph (no trailing newline).

    Examples
    --------
    >>> escape_text("<b>*not bold*</b>")
    '&lt;b&gt;\\\\*not bold\\\\*&lt;/b&gt;'
    """
    active = _is_active(text, text.count("$"))
    if active:
        text = _MATHJAX_ESCAPE.sub(r"\1", text)
    lines = [line.strip(" \t") for line in text.strip().split("\n")]
    return "\\\n".join(_escape(line, active=active, at_line_start=True) for line in lines)


# --- math --------------------------------------------------------------------------------------

_UNSAFE_TEX = frozenset(
    [
        "href",
        "url",
        "includegraphics",
        "class",
        "cssId",
        "style",
        "data",
        "require",
        "html",
        "htmlClass",
        "htmlId",
        "htmlStyle",
        "htmlData",
        "mmlToken",
    ]
)
_SYMBOLS = {"<": "\\lt{}", ">": "\\:"}
_TABLE_SYMBOLS = {**_SYMBOLS, "|": "\\Vert{}"}
_WWW_TEX = re.compile(r"(www)\.", re.IGNORECASE)
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_RISKY_MATH_LINE = re.compile(
    r"[ \t]*(?:[-+*](?:[ \t]|$)|>|#{1,6}(?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|~{3}"
    r"|(?:[-*_][ \t]*){3,}$|=+[ \t]*$)"
)


def _safe_tex(src: str, *, display: bool, in_table: bool = False) -> str | None:
    """TeX that is safe in every renderer, or ``None`` when it must be shown as text."""
    if display:
        src = "\n".join(line.strip() for line in src.split("\n") if line.strip())
        if not src:
            return None
    else:
        src = src.replace("\n", " ").strip()
        if not src:
            return None
    out: list[str] = []
    depth, i, n = 0, 0, len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            if i + 1 == n:
                return None
            j = i + 1
            while j < n and src[j] in _LETTERS:
                j += 1
            if j > i + 1:
                name = src[i + 1 : j]
                out.append(f"\\backslash\\mathrm{{{name}}}" if name in _UNSAFE_TEX else src[i:j])
                if name == "end" and src[j : j + 1] == "{":
                    out.append(" ")  # JupyterLab's pre-pass must not end a span in our math
                i = j
                continue
            nxt = src[i + 1]
            if nxt == "`":
                return None
            symbols = _TABLE_SYMBOLS if in_table else _SYMBOLS
            out.append(symbols.get(nxt, src[i : i + 2]))
            i += 2
            if nxt == "\\" and i < n and (src[i] in _LETTERS or src[i] in ")]"):
                # "\\\\href" would be "\\href" to a Markdown parser without math, and "\\\\)"
                # ends a span in JupyterLab's pre-pass
                out.append(" ")
            continue
        if c in "`$":
            return None
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return None
        if c == "<":
            out.append("\\lt{}")
        elif c == ">":
            out.append("\\gt{}")
        elif c == "]" and i + 1 < n and src[i + 1] in "(:":
            out.append("] ")
        elif c == "|" and in_table:
            out.append("\\vert{}")  # a pipe would end the table cell
        else:
            out.append(c)
        i += 1
    if depth:
        return None
    tex = _WWW_TEX.sub(r"\1{}.", "".join(out).replace("://", ":{}//"))  # no autolinks
    if display:
        lines = [("{}" + ln) if _RISKY_MATH_LINE.match(ln) else ln for ln in tex.split("\n")]
        return "$$\n" + "\n".join(lines) + "\n$$"
    if tex.endswith("\\"):
        tex += "{}"
    return "$" + tex + "$"


# --- links -------------------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URL_KEEP = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!'()*+,;=%"
)


def _safe_url(url: str) -> str | None:
    """The link destination to write, or ``None`` when the target is not allowed."""
    url = url.strip()
    m = _SCHEME.match(url)
    if m is None:
        return None
    scheme = m[1].lower()
    if scheme not in ("http", "https", "mailto"):
        return None
    if scheme != "mailto" and not url[m.end() :].startswith("//"):
        return None
    out = []
    for ch in url:
        if ch in _URL_KEEP:
            out.append(ch)
        elif ch == "&":
            out.append("&amp;")
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "<" + "".join(out) + ">"


def _plain(tokens: list[Token] | None) -> str:
    """The plain text of inline tokens (for image descriptions)."""
    parts: list[str] = []
    for t in tokens or ():
        if t.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif t.children:
            parts.append(_plain(t.children))
        else:
            parts.append(t.content)
    return "".join(parts)


# --- inline ------------------------------------------------------------------------------------

# JupyterLab's math pre-pass hides "$" inside code from itself, but not these (see _Blocks)
_LAB_TOKENS = re.compile(r"\\(?:begin|end)\{[a-z]*\*?\}|\\[{}]|[{}]|\\\\[()\[\]]", re.IGNORECASE)
_LAB_START = re.compile(r"\$|\\begin\{|\\\\[(\[]")


def _open_lab_span(code: str) -> str | None:
    """The token that would end a math span JupyterLab's pre-pass starts inside ``code`` and
    does not end there (``None`` when there is none)."""
    end: str | None = None
    braces = 0
    for m in _LAB_TOKENS.finditer(code):
        token = m[0]
        if end is None:
            if token[1:6] == "begin":
                end, braces = "\\end" + token[6:], 0
            elif token in ("\\\\(", "\\\\["):
                end, braces = ("\\\\)" if token[2] == "(" else "\\\\]"), 0
        elif token == end and not braces:
            end = None
        elif token == "{":
            braces += 1
        elif token == "}" and braces:
            braces -= 1
    return end


_BOUNDARY_OPEN = frozenset(("em_open", "strong_open", "s_open"))
_BOUNDARY_CLOSE = frozenset(("em_close", "strong_close", "s_close"))
_OTHER_MARKER = {"*": "_", "_": "*"}


def _char_class(ch: str) -> str:
    """CommonMark's class of a neighbour of an emphasis delimiter: space, punct or other."""
    from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace

    if isWhiteSpace(ord(ch)):
        return "space"
    return "punct" if isMdAsciiPunct(ord(ch)) or isPunctChar(ch) else "other"


def _delimiter_flags(marker: str, before: str, after: str) -> tuple[bool, bool]:
    """CommonMark's (can open, can close) for a delimiter run between two characters."""
    last, nxt = _char_class(before), _char_class(after)
    left = nxt != "space" and (nxt != "punct" or last != "other")
    right = last != "space" and (last != "punct" or nxt != "other")
    if marker == "_":
        return left and (not right or last == "punct"), right and (not left or nxt == "punct")
    return left, right


class _Inline:
    """Render one inline token list as escaped Markdown.

    Pieces are grouped in *runs*: the text MathJax would see as one string on JupyterLab's
    rendered page (element boundaries end a run; line breaks do not).
    """

    def __init__(self, *, in_table: bool, in_heading: bool, code_ends: frozenset[str]) -> None:
        self.code_ends = code_ends
        self.in_table = in_table
        self.in_heading = in_heading
        # (kind, text, run, dollars, pair): kind "t" text to escape, "m" markup, "b" line break,
        # "d" emphasis delimiter (pair = index of its opening piece, negated when it closes)
        self.pieces: list[tuple[str, str, int, int, int]] = []
        self.run = 0
        self.links: list[str | None] = []
        self.open_delims: list[int] = []
        self.has_math = False

    def _text(self, text: str) -> None:
        if not text:
            return
        if self.in_heading or self.in_table:  # (math shown as text may span lines)
            text = text.replace("\n", " ")
        self.pieces.append(("t", text, self.run, text.count("$"), -1))

    def _markup(self, text: str, *, kind: str = "m", dollars: int = 0, pair: int = -1) -> None:
        if kind != "math":
            self.run += 1
        self.pieces.append(("m" if kind == "math" else kind, text, self.run, dollars, pair))
        if kind != "math":
            self.run += 1

    def _code(self, content: str) -> None:
        if (
            not content
            or ("`" in content and (self.links or self.open_delims or self.has_math))
            or _open_lab_span(content) in self.code_ends
        ):
            # marked does not mask multi-backtick code spans when it looks for the end of a link
            # text or an emphasis, so a "*" or "]" inside could end them early (and expose code)
            # and in a renderer without math, math may hold such delimiters
            self._text(content)
            return
        longest = max(map(len, re.findall("`+", content)), default=0)
        fence = "`" * (longest + 1)
        if (
            content[0] == "`"
            or content[-1] == "`"
            or (content[0] == " " and content[-1] == " " and content.strip(" "))
        ):
            content = f" {content} "
        if self.in_table:
            content = content.replace("|", "\\|")
        self._markup(fence + content + fence)

    def feed(self, tokens: list[Token]) -> None:
        # (a renderer without math reads "_" and "*" inside math as emphasis)
        self.has_math = self.has_math or any(t.type.startswith("math") for t in tokens)
        for k, t in enumerate(tokens):
            kind = t.type
            if kind in ("text", "text_special", "html_inline"):
                self._text(t.content)
            elif kind == "code_inline":
                self._code(t.content)
            elif kind in ("softbreak", "hardbreak"):
                if self.in_heading:
                    self._text(" ")
                else:
                    text = "\\\n" if kind == "hardbreak" else "\n"
                    self.pieces.append(("b", text, self.run, 0, -1))
            elif kind in ("math_inline", "math_inline_double"):
                self._math(t, tokens, k)
            elif kind == "link_open":
                url = _safe_url(str(t.attrs.get("href", "")))
                self.links.append(url)
                if url is not None:
                    self._markup("[")
            elif kind == "link_close":
                url = self.links.pop()
                if url is not None:
                    self._markup(f"]({url})")
            elif kind == "image":
                alt = "image: " + _plain(t.children)
                url = None if self.links else _safe_url(str(t.attrs.get("src", "")))
                if url is None:
                    self._text(f"[{alt}]")
                else:
                    self._markup("[")
                    self._text(alt)
                    self._markup(f"]({url})")
            elif kind in _BOUNDARY_OPEN:
                self.open_delims.append(len(self.pieces) + 1)
                self._markup(t.markup, kind="d", pair=len(self.pieces) + 1)
            elif kind in _BOUNDARY_CLOSE:
                pair = self.open_delims.pop() if self.open_delims else 0
                if pair and pair == len(self.pieces):  # nothing inside (a dropped link): drop
                    self.pieces.pop()
                else:
                    self._markup(t.markup, kind="d", pair=-pair)
            elif t.children:
                self.feed(t.children)
            else:
                self._text(t.content)

    def _math(self, t: Token, tokens: list[Token], k: int) -> None:
        double = t.type == "math_inline_double"
        tex = _safe_tex(t.content, display=False, in_table=self.in_table)
        if tex is not None:
            before = tokens[k - 1].content[-1:] if k and tokens[k - 1].type == "text" else ""
            after = tokens[k + 1].content[:1] if k + 1 < len(tokens) else ""
            if before.isdigit() or after.isdigit():
                tex = None  # "5$x$" is not math for dollar-math parsers
        if tex is None:
            opening = t.markup
            closing = {"\\(": "\\)", "\\[": "\\]"}.get(opening, opening)
            self._text(opening + t.content + closing)
        else:
            self._markup(f"${tex}$" if double else tex, kind="math", dollars=4 if double else 2)

    def render(self) -> str:
        pieces = self.pieces
        if len(pieces) == 1 and pieces[0][0] == "t":  # plain text: the common case
            text = pieces[0][1]
            plain_active = _is_active(text, pieces[0][3])
            if plain_active:
                text = _MATHJAX_ESCAPE.sub(r"\1", text)
            return _escape(text, active=plain_active, at_line_start=True).strip(" \t")

        # 1. which runs JupyterLab's MathJax pass would misread (see the module docstring)
        totals: dict[int, int] = {}
        texts: dict[int, list[str]] = {}
        for kind, text, run, dollars, _ in self.pieces:
            totals[run] = totals.get(run, 0) + dollars
            if kind in "tb" or dollars:
                # math counts as one "$": a backslash just before it would escape it on the page;
                # a line break is a newline there
                texts.setdefault(run, []).append(
                    text if kind == "t" else "\n" if kind == "b" else "$\x00"
                )
        active = {run: _is_active("".join(parts), totals[run]) for run, parts in texts.items()}

        # 2. segments: escaped text, markup, breaks and delimiters
        segments: list[list[Any]] = []  # [kind, text, pair]
        at_line_start = True
        k, n = 0, len(self.pieces)
        while k < n:
            kind, text, run, _, pair = self.pieces[k]
            if kind == "t":
                parts = [text]
                while k + 1 < n and self.pieces[k + 1][0] == "t" and self.pieces[k + 1][2] == run:
                    k += 1
                    parts.append(self.pieces[k][1])
                text = "".join(parts)
                if active[run]:
                    text = _MATHJAX_ESCAPE.sub(r"\1", text)
                text = _escape(text, active=active[run], at_line_start=at_line_start)
            elif kind == "b" and segments and segments[-1][0] == "t":
                segments[-1][1] = segments[-1][1].rstrip(" \t")  # (two spaces: a hard break)
                if not segments[-1][1]:
                    segments.pop()
            if text:
                segments.append([kind, text, pair])
                at_line_start = kind == "b"
            k += 1

        while segments and segments[0][0] == "b":  # (after a dropped link, say)
            segments.pop(0)
        while segments and segments[-1][0] == "b":
            segments.pop()
        if not any(seg[0] == "d" for seg in segments):
            return "".join(seg[1] for seg in segments).strip(" \t")

        # 3. emphasis. Every delimiter run must be exactly one token's markup (runs that touch
        #    merge, and CommonMark's "rule of 3" then pairs them differently), and a nested
        #    pair should not use its parent's character; "*" and "_" are interchangeable.
        pairs: dict[int, list[int]] = {}  # id -> [opening index, closing index, parent id]
        stack: list[int] = []
        for i, seg in enumerate(segments):
            if seg[0] == "d" and seg[2] > 0:
                pairs[seg[2]] = [i, -1, stack[-1] if stack else 0]
                stack.append(seg[2])
            elif seg[0] == "d" and -seg[2] in pairs:
                pairs[-seg[2]][1] = i
                while stack and stack.pop() != -seg[2]:
                    pass
        chars: dict[int, str] = {}

        def char_at(index: int) -> str | None:
            if 0 <= index < len(segments) and segments[index][0] == "d":
                return chars.get(abs(segments[index][2]))
            return None

        for ident, (opening, closing, parent) in pairs.items():
            original = segments[opening][1][0]
            if original not in "*_":
                chars[ident] = original
                continue
            taken = {char_at(opening - 1), char_at(closing + 1) if closing >= 0 else None}
            choices = [c for c in (original, _OTHER_MARKER[original]) if c not in taken]
            chars[ident] = next((c for c in choices if c != chars.get(parent)), None) or (
                choices[0] if choices else original
            )
        for seg in segments:
            if seg[0] == "d" and abs(seg[2]) in chars:
                seg[1] = chars[abs(seg[2])] * len(seg[1])
        # ... and flanked so that it opens (or closes) and does nothing else: write a neighbouring
        # character as a character reference, which CommonMark sees as punctuation ("&" or ";").
        # An opener wants no letter before it and no space after it; a closer the reverse.
        for i, seg in enumerate(segments):
            if seg[0] != "d":
                continue
            opening = seg[2] > 0
            before = segments[i - 1][1][-1] if i else " "
            after = segments[i + 1][1][0] if i + 1 < len(segments) else " "
            can_open, can_close = _delimiter_flags(seg[1][0], before, after)
            if (can_open and not can_close) if opening else (can_close and not can_open):
                continue
            outer, inner = (i - 1, i + 1) if opening else (i + 1, i - 1)
            for index, unwanted in ((outer, "other"), (inner, "space")):
                if 0 <= index < len(segments) and segments[index][0] == "t":
                    text = segments[index][1]
                    ch = text[-1] if index < i else text[0]
                    if _char_class(ch) == unwanted:
                        ref = f"&#{ord(ch)};"
                        segments[index][1] = text[:-1] + ref if index < i else ref + text[1:]
        return "".join(seg[1] for seg in segments).strip(" \t")


# --- blocks ------------------------------------------------------------------------------------

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
                if _LAB_START.search(t.content):
                    self.dollar_code.update(stack)
                ends.update(m[0] for m in _LAB_TOKENS.finditer(t.content))
            for c in t.children or ():
                if c.type == "code_inline":
                    ends.update(m[0] for m in _LAB_TOKENS.finditer(c.content))
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
                text = _safe_tex(t.content, display=True) or ""
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
        r = _Inline(in_table=in_table, in_heading=in_heading, code_ends=self.code_ends)
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
    tokens = _parser().parse(text, env)
    blocks = _Blocks(tokens).render(0, len(tokens))
    out = "\n\n".join(b for _, b in blocks)
    return out + "\n" if out else ""


# --- streaming ---------------------------------------------------------------------------------

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
        tokens = _parser("blocks").parse(pending, {})
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
                _parser("blocks").parse(done, env)
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
