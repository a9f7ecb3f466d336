"""TeX from model output made safe to typeset: no styles, URLs or definitions (the commands
:mod:`~nbclaude._markdown.texpolicy` forbids are shown as text), no huge lengths, nothing a
renderer without math (or JupyterLab's math pre-pass) would read as Markdown or HTML, and
``None`` for math that cannot be written safely (then shown as text).
"""

from __future__ import annotations

import re

from .texpolicy import allowed, too_large

__all__ = ["safe_tex"]

_SYMBOLS = {"<": "\\lt{}", ">": "\\:"}
_TABLE_SYMBOLS = {**_SYMBOLS, "|": "\\Vert{}"}
_WWW_TEX = re.compile(r"(www)\.", re.IGNORECASE)
_NAMED_REFERENCE = re.compile(r"[A-Za-z][A-Za-z0-9]*;")  # (after "&": "&bsol;" is a backslash)
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_RISKY_MATH_LINE = re.compile(
    r"[ \t]*(?:[-+*](?:[ \t]|$)|>|#{1,6}(?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|~{3}"
    r"|(?:[-*_][ \t]*){3,}$|=+[ \t]*$)"
)


def safe_tex(src: str, *, display: bool, in_table: bool = False) -> str | None:
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
                out.append(src[i:j] if allowed(name, src, j) else f"\\backslash\\mathrm{{{name}}}")
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
        elif c == "&" and src[i + 1 : i + 2] == "#":
            # (a renderer that decodes character references in maths must get no backslash
            # back from "&#92;": written as the characters it shows)
            out.append("\\&\\#")
            i += 1
        elif c == "&" and _NAMED_REFERENCE.match(src, i + 1):
            out.append("\\&{}")
        else:
            out.append(c)
        i += 1
    if depth:
        return None
    if too_large(src):
        return None
    tex = _WWW_TEX.sub(r"\1{}.", "".join(out).replace("://", ":{}//"))  # no autolinks
    if display:
        lines = [("{}" + ln) if _RISKY_MATH_LINE.match(ln) else ln for ln in tex.split("\n")]
        return "$$\n" + "\n".join(lines) + "\n$$"
    if tex.endswith("\\"):
        tex += "{}"
    return "$" + tex + "$"
