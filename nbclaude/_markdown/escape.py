"""Plain text and link targets written as Markdown that shows exactly them: Markdown, HTML and
JupyterLab's math pass find no syntax in the text (see the policy in
:mod:`nbclaude._markdown.render`), and only ``http:``, ``https:`` and ``mailto:`` targets survive.
"""

from __future__ import annotations

import re

__all__ = ["MATHJAX_ESCAPE", "escape", "escape_text", "is_active", "safe_url"]

_ESCAPES = {c: "\\" + c for c in "`*_~|!$#"}
# Brackets as entities: a backslash before them would read as ``\\[…\\]`` display math.
_ESCAPES.update({"\\": "&#92;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "&#91;", "]": "&#93;"})
_PLAIN = str.maketrans(_ESCAPES)
_ACTIVE = str.maketrans({**_ESCAPES, "\\": "&#92;&#92;", "$": "&#92;\\$"})
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_LINE_START = re.compile(r"[-+=]|(\d{1,9})([.)])")
# Text that MathJax, run over JupyterLab's rendered page, would treat as math or as an escape.
_MATHJAX_TRIGGER = re.compile(r"\\(?:[\\$(\[]|(?:begin|end|ref|eqref)(?![A-Za-z]))")
MATHJAX_ESCAPE = re.compile(r"\\([\\$])")


def _escape_line(line: str, table: dict[int, str], at_line_start: bool) -> str:
    out = line.translate(table).replace("://", "\\://")  # no bare-URL autolinks
    if "ww." in out or "WW." in out or "wW." in out or "Ww." in out:
        out = _WWW.sub(r"\1\\.", out)
    if at_line_start:
        m = _LINE_START.match(out)
        if m:
            out = f"{m[1]}\\{m[2]}{out[m.end() :]}" if m[1] else f"\\{out[0]}{out[1:]}"
    return out


def escape(text: str, *, active: bool, at_line_start: bool) -> str:
    """Escape a run of text for Markdown. ``active``: :func:`is_active` says MathJax would misread
    the run, so a dollar or a backslash is written to show escaped on the page, for MathJax."""
    table = _ACTIVE if active else _PLAIN
    lines = text.split("\n")
    if at_line_start:
        lines[0] = lines[0].lstrip(" \t")
    lines = [line.rstrip(" \t") for line in lines[:-1]] + lines[-1:]  # no hard breaks
    out = [_escape_line(lines[0], table, at_line_start)]
    out.extend(_escape_line(line.lstrip(" \t"), table, True) for line in lines[1:])
    return "\n".join(out)


def is_active(text: str, dollars: int) -> bool:
    """Whether JupyterLab's MathJax pass would misread this run of text (see the policy in
    :mod:`nbclaude._markdown.render`).

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
    active = is_active(text, text.count("$"))
    if active:
        text = MATHJAX_ESCAPE.sub(r"\1", text)
    lines = [line.strip(" \t") for line in re.split(r"\r\n?|\n", text.strip())]
    return "\\\n".join(escape(line, active=active, at_line_start=True) for line in lines)


# --- links -------------------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URL_KEEP = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!'()*+,;=%"
)


def safe_url(url: str) -> str | None:
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
