"""One paragraph's inline tokens written back as safe Markdown: escaped text, code spans, math,
http/https/mailto links, images as links, and emphasis that keeps its pairing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .escape import MATHJAX_ESCAPE, escape, is_active, safe_url
from .tex import safe_tex

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = ["LAB_START", "LAB_TOKENS", "Inline"]


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


# JupyterLab's math pre-pass hides "$" inside code from itself, but not these (see render._Blocks)
LAB_TOKENS = re.compile(r"\\(?:begin|end)\{[a-z]*\*?\}|\\[{}]|[{}]|\\\\[()\[\]]", re.IGNORECASE)
LAB_START = re.compile(r"\$|\\begin\{|\\\\[(\[]")
_LINE_BREAK = re.compile(r"\r\n?")


def _open_lab_span(code: str) -> str | None:
    """The token that would end a math span JupyterLab's pre-pass starts inside ``code`` and
    does not end there (``None`` when there is none)."""
    end: str | None = None
    braces = 0
    for m in LAB_TOKENS.finditer(code):
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


class Inline:
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
        # (character references such as &#13; or &NewLine; decode to line breaks in a text token)
        text = _LINE_BREAK.sub("\n", text)
        if self.in_heading or self.in_table:  # (math shown as text may span lines)
            text = text.replace("\n", " ")
        lines = text.split("\n")
        for k, line in enumerate(lines):
            if k:  # a line break: never a block start, never a blank line
                self.pieces.append(("b", "\n", self.run, 0, -1))
            if line:
                self.pieces.append(("t", line, self.run, line.count("$"), -1))

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
                url = safe_url(str(t.attrs.get("href", "")))
                self.links.append(url)
                if url is not None:
                    self._markup("[")
            elif kind == "link_close":
                url = self.links.pop()
                if url is not None:
                    self._markup(f"]({url})")
            elif kind == "image":
                alt = "image: " + _plain(t.children)
                url = None if self.links else safe_url(str(t.attrs.get("src", "")))
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
        tex = safe_tex(t.content, display=False, in_table=self.in_table)
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
            plain_active = is_active(text, pieces[0][3])
            if plain_active:
                text = MATHJAX_ESCAPE.sub(r"\1", text)
            return escape(text, active=plain_active, at_line_start=True).strip(" \t")

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
        active = {run: is_active("".join(parts), totals[run]) for run, parts in texts.items()}

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
                    text = MATHJAX_ESCAPE.sub(r"\1", text)
                text = escape(text, active=active[run], at_line_start=at_line_start)
            elif kind == "b" and segments and segments[-1][0] == "t":
                segments[-1][1] = segments[-1][1].rstrip(" \t")  # (two spaces: a hard break)
                if not segments[-1][1]:
                    segments.pop()
            if kind == "b" and segments and segments[-1][0] == "b":  # (no blank line)
                if text != "\n":
                    segments[-1][1] = text
                text = ""
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
