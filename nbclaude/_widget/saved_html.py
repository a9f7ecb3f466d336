"""The readable copy of a ChatWidget's conversation kept in the saved notebook: safe HTML.

The copy is a ``text/html`` output, shown by JupyterLab, Notebook 7, nbconvert and GitHub
without a kernel. A reopened notebook is often *trusted* (JupyterLab signs what it saves), and
then its HTML outputs run as they are, so this HTML is safe by construction, not by a
sanitizer: every character of the model's (or the user's) text is escaped, and the only markup
is ours.

* Model text is parsed with nbclaude's Markdown parser (:mod:`nbclaude._markdown.parser`: the
  same reading of ``$`` as the cell output) and written as HTML by :class:`SafeRenderer`:
  raw HTML shows as text; links keep only ``http:``, ``https:`` and ``mailto:`` targets (others
  keep their text only) and open in a new tab without a referrer; images never load (an
  ``http(s)`` one becomes the link "image: alt", any other the text); code is escaped text in
  ``<pre><code>``.
* Maths is TeX made safe by :func:`nbclaude._markdown.tex.safe_tex` (no commands that make
  links, load things or set attributes; ``None``: shown as code), and with no definitions
  (``\\def``, ``\\newcommand``, ``\\let``, …) nor ``\\unicode[…]`` (shown as code),
  between ``\\(…\\)`` / ``\\[…\\]`` in a ``mathjax_process`` span,
  inside a container marked ``mathjax_ignore``: where MathJax runs (JupyterLab, nbconvert) it
  typesets the formulas and never a dollar of the text (``Pay $5 if $x > 1$, else $7.``
  keeps both prices); elsewhere the TeX reads as itself. Only the newest :data:`MAX_TYPESET`
  formulas are marked for MathJax (older ones read as TeX in ``<code>``), so that a long chat
  costs the page a bounded time each time its copy is rendered.
* Images are our own thumbnails (``data:image/...`` made by Python), nothing else; user text is
  shown as typed; tool calls and thinking are folded (``<details>``).
* Styles are a few fixed inline rules of ours (borders and spacing that read in light and dark
  themes); no ``<style>`` element, no classes that outside CSS could hook into except ours.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nbclaude._markdown.parser import markdown_parser
from nbclaude._markdown.tex import safe_tex
from nbclaude._session.money import usd

from .protocol import Block, Entry

if TYPE_CHECKING:
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

__all__ = ["MAX_TYPESET", "conversation_html", "markdown_html", "placeholder_html"]

_SAFE_LINK = re.compile(r"(?:https?://[^\s\x00-\x1f]+|mailto:[^\s\x00-\x1f]+)", re.IGNORECASE)
#: TeX that would define commands for every later formula on the page, or set a font/CSS
#: (``\unicode[...]``): shown as code here, on top of ``safe_tex``.
_DEFINES = re.compile(
    r"\\(?:(?:[gex]?def|let|futurelet|(?:re)?newcommand|providecommand|(?:re)?newenvironment"
    r"|DeclareMathOperator|require)(?![A-Za-z])|unicode\s*\[)"
)
#: How many formulas of one copy are left for MathJax to typeset: the newest ones. JupyterLab
#: typesets an HTML output each time it is rendered, hidden or not, and the copy is rendered
#: again after every turn: a chat with a thousand formulas would cost the page seconds each
#: time. Older formulas read as their TeX.
MAX_TYPESET = 50
_IMAGE_SRC = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+")

_BOX = "border:1px solid #8888;border-radius:6px;padding:6px 10px;margin:6px 0;max-width:56rem"
_MSG = "border-left:3px solid #8888;padding:2px 10px;margin:8px 0"
_USER = _MSG + ";background:#8881"
_META = "opacity:0.7;font-size:0.9em"
_PRE = "white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0"
_THUMB = "max-width:160px;max-height:160px;margin:4px 6px 4px 0;vertical-align:top"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _href(url: str) -> str | None:
    """The link target to write, or ``None`` when it is not allowed."""
    url = url.strip()
    return url if _SAFE_LINK.fullmatch(url) else None


def _renderer() -> Any:
    from markdown_it.renderer import RendererHTML

    class SafeRenderer(RendererHTML):
        """markdown-it's HTML renderer with every rule that could emit markup of the model's
        replaced (see the module docstring)."""

        def html_block(self, tokens: Sequence[Token], idx: int, *_: Any) -> str:
            return f"<p>{_esc(tokens[idx].content)}</p>\n"

        def html_inline(self, tokens: Sequence[Token], idx: int, *_: Any) -> str:
            return _esc(tokens[idx].content)

        def link_open(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            href = _href(str(tokens[idx].attrGet("href") or ""))
            env.setdefault("links", []).append(href is not None)
            if href is None:
                return ""
            return f'<a href="{_esc(href)}" target="_blank" rel="nofollow noopener noreferrer">'

        def link_close(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            links = env.get("links") or [False]
            return "</a>" if links.pop() else ""

        def image(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            token = tokens[idx]
            alt = _esc(self.renderInlineAsText(token.children or [], options, env) or "image")
            src = _href(str(token.attrGet("src") or ""))
            inside_link = any(env.get("links") or [])
            if src is None or src.lower().startswith("mailto:") or inside_link:
                return f"[image: {alt}]"
            return (
                f'<a href="{_esc(src)}" target="_blank" rel="nofollow noopener noreferrer" '
                f'title="Remote image, not loaded">image: {alt}</a>'
            )

        def fence(self, tokens: Sequence[Token], idx: int, *_: Any) -> str:
            token = tokens[idx]
            lang = re.sub(r"[^\w+#.-]", "", (token.info or "").strip().split(" ")[0])[:40]
            label = f'<div style="{_META}">{_esc(lang)}</div>' if lang else ""
            return (
                f'<div style="margin:6px 0">{label}<pre style="overflow-x:auto;margin:0">'
                f"<code>{_esc(token.content)}</code></pre></div>\n"
            )

        def code_block(self, tokens: Sequence[Token], idx: int, *_: Any) -> str:
            return f"<pre><code>{_esc(tokens[idx].content)}</code></pre>\n"

        def _math(self, token: Token, display: bool, env: EnvType) -> str:
            safe = safe_tex(token.content, display=display)  # "$…$" or "$$\n…\n$$"
            tex = None if safe is None else safe.strip("$").strip("\n")
            if tex is None or _DEFINES.search(tex):
                return f"<code>{_esc(token.markup + token.content + token.markup)}</code>"
            open_, close = ("\\[", "\\]") if display else ("\\(", "\\)")
            budget = env.get("typeset")
            if isinstance(budget, list):
                if budget[0] <= 0:  # past the newest MAX_TYPESET formulas: read as TeX
                    return f'<code class="nbc-math">{_esc(open_ + tex + close)}</code>'
                budget[0] -= 1
            tag = "div" if token.block else "span"
            return (
                f'<{tag} class="nbc-math mathjax_process tex2jax_process">'
                f"{_esc(open_ + tex + close)}</{tag}>"
            )

        def math_inline(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            return self._math(tokens[idx], False, env)

        def math_inline_double(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            return self._math(tokens[idx], True, env)

        def math_block(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            return self._math(tokens[idx], True, env) + "\n"

        def math_block_label(
            self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
        ) -> str:
            return self._math(tokens[idx], True, env) + "\n"

    return SafeRenderer()


_RENDERER: Any = None


def markdown_html(text: str, typeset: list[int] | None = None) -> str:
    """Model Markdown as safe HTML (the policy is the module docstring). ``typeset`` counts
    down the formulas left to mark for MathJax (``None``: all of them); past it they read as
    TeX in ``<code>``.

    Examples
    --------
    >>> print(markdown_html("**Hi** <b>x</b> [a](javascript:alert(1)) $a<b$"), end="")
    <p><strong>Hi</strong> &lt;b&gt;x&lt;/b&gt; a <span class="nbc-math mathjax_process \
tex2jax_process">\\(a\\lt{}b\\)</span></p>
    """
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = _renderer()
    md = markdown_parser("full")
    env: dict[str, Any] = {} if typeset is None else {"typeset": typeset}
    tokens = md.parse(str(text), env)
    return str(_RENDERER.render(tokens, md.options, env))


def _thumbnail(block: Mapping[str, Any]) -> str:
    label = str(block.get("label") or "image")
    src = str(block.get("src") or "")
    if not _IMAGE_SRC.fullmatch(src):
        return f"<em>{_esc(label)}</em>"
    return f'<img src="{src}" alt="{_esc(label)}" title="{_esc(label)}" style="{_THUMB}">'


def _tool(block: Block) -> str:
    status = str(block.get("status") or "")
    parts = [
        f"<summary>Tool <code>{_esc(block.get('name') or 'tool')}</code> "
        f'<span style="{_META}">{_esc(status)}</span></summary>',
        f'<div style="{_META}">Input</div><pre style="{_PRE}">{_esc(block.get("input", ""))}</pre>',
    ]
    images = block.get("images") or []
    if "result" in block or images:
        parts.append(f'<div style="{_META}">Result</div>')
        if block.get("result"):
            parts.append(f'<pre style="{_PRE}">{_esc(block.get("result", ""))}</pre>')
        parts.extend(_thumbnail(i) for i in images)
    return f'<details style="margin:4px 0">{"".join(parts)}</details>'


def _meta(entry: Entry) -> str:
    meta = entry.get("meta") or {}
    parts = []
    if meta.get("model"):
        parts.append(_esc(meta["model"]))
    tokens = meta.get("output_tokens")
    if tokens:
        parts.append(f"{tokens:,} token" + ("" if tokens == 1 else "s"))
    cost = meta.get("cost")
    if isinstance(cost, (int, float)):
        parts.append(_esc(usd(cost)))
    if meta.get("interrupted"):
        parts.append("stopped")
    return f' <span style="{_META}">{" · ".join(parts)}</span>' if parts else ""


def _entry(entry: Entry, typeset: list[int]) -> str:
    user = entry.get("role") == "user"
    out = [f"<div><strong>{'You' if user else 'Claude'}</strong>{_meta(entry)}</div>"]
    for block in entry.get("blocks") or []:
        kind = block.get("type")
        if kind == "text":
            text = str(block.get("text") or "")
            out.append(
                f'<div style="{_PRE}">{_esc(text)}</div>' if user else markdown_html(text, typeset)
            )
        elif kind == "thinking":
            out.append(
                f'<details style="margin:4px 0"><summary>Thinking</summary>'
                f"{markdown_html(str(block.get('text') or ''), typeset)}</details>"
            )
        elif kind == "image":
            out.append(_thumbnail(block))
        elif kind == "tool":
            out.append(_tool(block))
        else:
            out.append(f"<div><em>{_esc(block.get('label') or kind or 'block')}</em></div>")
    return f'<div class="nbc-saved-msg" style="{_USER if user else _MSG}">{"".join(out)}</div>'


def placeholder_html(saved_id: str) -> str:
    """What the copy holds for the moment between the widget's display and its first write.

    Examples
    --------
    >>> 'data-nbc-for="ab12"' in placeholder_html("ab12")
    True
    """
    return (
        f'<div class="nbc-saved" data-nbc-for="{_esc(saved_id)}" style="{_BOX}">'
        f'<strong>Chat with Claude</strong> <span style="{_META}">the saved copy of a '
        "ChatWidget is being written</span></div>"
    )


def conversation_html(entries: Sequence[Entry], *, saved_id: str, model: str = "") -> str:
    """The readable copy of a conversation: one ``<div class="nbc-saved">`` of safe HTML.

    ``entries`` are the widget's transcript entries (tool calls paired with their results,
    our own thumbnails); ``saved_id`` ties the copy to its widget, whose live views hide it.

    Examples
    --------
    >>> page = conversation_html(
    ...     [{"role": "user", "blocks": [{"type": "text", "text": "Hi <b>"}]}], saved_id="ab12")
    >>> "Hi &lt;b&gt;" in page and 'data-nbc-for="ab12"' in page
    True
    """
    count = len(entries)
    about = f"{count:,} message" + ("" if count == 1 else "s")
    if model:
        about += f" · {_esc(model)}"
    head = (
        f"<div><strong>Chat with Claude</strong> "
        f'<span style="{_META}">{about} · saved copy of a ChatWidget (the live chat shows '
        "when its kernel runs)</span></div>"
    )
    typeset = [MAX_TYPESET]  # the newest formulas first
    body = "".join(reversed([_entry(e, typeset) for e in reversed(entries)]))
    return (
        f'<div class="nbc-saved mathjax_ignore tex2jax_ignore" data-nbc-for="{_esc(saved_id)}" '
        f'style="{_BOX}">{head}{body}</div>'
    )
