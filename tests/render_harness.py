"""The rendering harness for safe Markdown: real renderers that behave like the front ends, and
an inspector for the HTML they produce. Used by test_render.py, test_magics_xss.py and any test
that needs to know whether Markdown is safe to show.

Renderers (:func:`renders`):

* ``cm``     markdown-it-py, CommonMark with ``html=True`` (raw HTML passes, like marked), no math.
* ``vscode`` markdown-it-py with tables, strikethrough and dollar math (VS Code renders math
             with KaTeX from such tokens).
* ``marked`` the real ``marked`` 17 (JupyterLab 4.6's parser) through node, GFM, no math at all.
* ``lab``    JupyterLab's pipeline: its math pre-pass (re-implemented below from the behaviour
             of ``@jupyterlab/rendermime``'s ``removeMath``/``replaceMath``), then ``marked``,
             then the math put back; the page is then scanned the way MathJax scans the DOM.

The HTML is parsed with ``html.parser`` (:func:`inspect`) and, for :func:`assert_safe`, must
hold no dangerous element, no event handler, no URL attribute outside http/https/mailto, and no
math a renderer would typeset that breaks the TeX policy (:func:`unsafe_tex`: no command that
makes a link, sets an attribute or a style, opens a pop-up, loads something or defines something;
no ``\\unicode``, ``\\bbox``, colour or ``\\enclose`` options that carry CSS; no length above
20 em). These rules are written here independently of nbclaude's own lists.

``marked`` is the project's pinned devDependency (package.json), installed into node_modules by
``npm ci``; tests get it from the session fixture ``marked`` in conftest.py, which skips when
node or the package is missing (no network at test time).

Corpus (tests/xss_corpus.json, :data:`CORPUS` = :data:`ATTACKS` + :data:`BENIGN`): a JSON list
of ``{"id", "markdown", "note"}``; benign entries add ``"benign": true`` and ``"expect"`` with
any of ``code`` (exact code texts), ``math_inline``, ``math_display`` (exact TeX), ``links``
(hrefs), ``table`` (true), ``text`` (displayed substrings), ``no_math`` (true).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "ATTACKS",
    "BENIGN",
    "CM",
    "CORPUS",
    "MARKED_MODULE",
    "VSCODE",
    "Inspector",
    "Marked",
    "assert_safe",
    "inspect",
    "lab_remove_math",
    "lab_replace_math",
    "mathjax_find",
    "public_corpus",
    "render_lab",
    "renders",
    "start_marked",
    "unsafe_tex",
]

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "xss_corpus.json").read_text(encoding="utf-8")
)
ATTACKS = [v for v in CORPUS if not v.get("benign")]
BENIGN = [v for v in CORPUS if v.get("benign")]


def public_corpus() -> dict[str, dict[str, Any]]:
    """The public payload lists (tests/corpus/README.md), by file name: the vendored copies in
    tests/corpus/public/, else the directory that ``NBCLAUDE_PUBLIC_CORPUS`` names; ``{}`` when
    neither exists. Each is ``{"source", "commit", "license", ..., "payloads": [...]}`` with
    payloads shaped like :data:`CORPUS` entries."""
    import os

    here = Path(__file__).parent / "corpus" / "public"
    folder = here if here.is_dir() else Path(os.environ.get("NBCLAUDE_PUBLIC_CORPUS") or here)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return {f.stem: json.loads(f.read_text(encoding="utf-8")) for f in files}


#: ``marked`` as ``npm ci`` installs it from the project's package-lock.json.
MARKED_MODULE = (
    Path(__file__).resolve().parents[1] / "node_modules" / "marked" / "lib" / "marked.esm.js"
)

# --- renderers -----------------------------------------------------------------------------------


def _markdown_it(math: bool) -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    if not math:
        return MarkdownIt("commonmark", {"html": True})
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # (VS Code has no equation labels: "$$x$$ (a)" would add a "#a" link)
    dollarmath_plugin(
        md, allow_space=False, allow_digits=False, double_inline=True, allow_labels=False
    )
    return md


CM = _markdown_it(math=False)
VSCODE = _markdown_it(math=True)

_MATHSPLIT = re.compile(
    r"(\$\$?|\\(?:begin|end)\{[a-z]*\*?\}|\\[{}$]|[{}]|(?:\n\s*)+|@@\d+@@|\\\\(?:\(|\)|\[|\]))",
    re.IGNORECASE,
)
_LAB_FENCE = re.compile(r"^(?P<f>`{3,}|(?:~T){3,})[^`\n]*\n[\s\S]*?^(?P=f)`*$", re.MULTILINE)
_LAB_CODESPAN = re.compile(r"(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)", re.MULTILINE)


def lab_remove_math(text: str) -> tuple[str, list[str]]:
    """JupyterLab's math pre-pass: cut math out of the Markdown before ``marked`` sees it.

    Behaviour follows ``removeMath`` in @jupyterlab/rendermime (latex.ts): code fences and
    single-line code spans get their dollars hidden first; then the text is split at math
    delimiters, braces, newlines and ``@@n@@`` markers; math may not cross a blank line, braces
    must balance; each math span is HTML-escaped and replaced by ``@@n@@``.
    """
    math: list[str] = []
    if "`" in text or "~~~" in text:
        text = text.replace("~", "~T")
        text = _LAB_FENCE.sub(lambda m: m[0].replace("$", "~D"), text)
        text = _LAB_CODESPAN.sub(lambda m: m[0].replace("$", "~D"), text)

        def detilde(s: str) -> str:
            return re.sub(r"~([TD])", lambda m: "~" if m[1] == "T" else "$", s)

    else:

        def detilde(s: str) -> str:
            return s

    blocks = _MATHSPLIT.split(re.sub(r"\r\n?", "\n", text))

    def process(i: int, j: int) -> None:
        block = "".join(blocks[i : j + 1])
        block = block.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for k in range(i + 1, j + 1):
            blocks[k] = ""
        blocks[i] = f"@@{len(math)}@@"
        math.append(detilde(block))

    start: int | None = None
    end: str | None = None
    last: int | None = None
    braces = 0
    i = 1
    while i < len(blocks):
        block = blocks[i]
        if block[0] == "@":
            blocks[i] = f"@@{len(math)}@@"
            math.append(block)
        elif start is not None:
            if block == end:
                if braces:
                    last = i
                else:
                    process(start, i)
                    start = end = last = None
            elif re.search(r"\n.*\n", block):
                if last is not None:
                    i = last
                    process(start, i)
                start = end = last = None
                braces = 0
            elif block == "{":
                braces += 1
            elif block == "}" and braces:
                braces -= 1
        elif block in ("$", "$$"):
            start, end, braces = i, block, 0
        elif block in ("\\\\(", "\\\\["):
            start, end, braces = i, "\\\\)" if block[-1] == "(" else "\\\\]", 0
        elif block[1:6] == "begin":
            start, end, braces = i, "\\end" + block[6:], 0
        i += 2
    if start is not None and last is not None:
        process(start, last)
    return detilde("".join(blocks)), math


def lab_replace_math(text: str, math: list[str]) -> str:
    """JupyterLab's ``replaceMath``: put the saved math back into the HTML."""

    def put(m: re.Match[str]) -> str:
        group = math[int(m[1])]
        if group[:3] == "\\\\(" and group[-3:] == "\\\\)":
            group = "\\(" + group[3:-3] + "\\)"
        elif group[:3] == "\\\\[" and group[-3:] == "\\\\]":
            group = "\\[" + group[3:-3] + "\\]"
        return group

    return re.sub(r"@@(\d+)@@", put, text)


_NODE_SERVER = r"""
import { createInterface } from 'node:readline';
import { marked } from 'MARKED';
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let out;
  try { out = marked.parse(JSON.parse(line), { gfm: true, async: false }); }
  catch (e) { out = 'ERROR ' + e; }
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


class Marked:
    """A long-running node process rendering Markdown with the real ``marked``."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def __call__(self, markdown: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(markdown) + "\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        assert not out.startswith("ERROR "), out
        return str(out)


@contextmanager
def start_marked() -> Iterator[Marked]:
    """Start node with the project's pinned ``marked``; skip the test when it is not installed.

    The conftest.py fixture ``marked`` holds one for the whole session.
    """
    node = shutil.which("node")
    if not node:
        pytest.skip("node is needed for the marked renderer (install Node.js 20+)")
    if not MARKED_MODULE.exists():
        pytest.skip(
            f"marked is not installed ({MARKED_MODULE} is missing): run `npm ci` in the repository"
        )
    script = _NODE_SERVER.replace("MARKED", MARKED_MODULE.as_uri())
    proc = subprocess.Popen(
        [node, "--input-type=module", "--eval", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield Marked(proc)
    finally:
        proc.kill()
        proc.wait()


def render_lab(markdown: str, marked: Marked) -> str:
    """The HTML JupyterLab makes of ``markdown`` (before MathJax runs over the page)."""
    text, math = lab_remove_math(markdown)
    return lab_replace_math(marked(text), math)


def renders(markdown: str, marked: Marked | None) -> dict[str, str]:
    """``markdown`` rendered by each renderer, by name (see the module docstring)."""
    out = {"cm": CM.render(markdown), "vscode": VSCODE.render(markdown)}
    if marked is not None:
        out["marked"] = marked(markdown)
        out["lab"] = render_lab(markdown, marked)
    return out


# --- HTML inspection -----------------------------------------------------------------------------

DANGEROUS_TAGS = frozenset([
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "base", "meta",
    "link", "form", "svg", "math", "img", "image", "video", "audio", "source", "track", "input",
    "button", "textarea", "select", "template", "noscript", "portal", "picture",
])  # fmt: skip
URL_ATTRS = frozenset([
    "href", "src", "action", "formaction", "xlink:href", "poster", "background", "data", "srcset",
    "srcdoc", "ping", "codebase", "cite", "longdesc", "manifest",
])  # fmt: skip
_MATHJAX_SKIP = frozenset(
    ["script", "noscript", "style", "textarea", "pre", "code", "annotation", "annotation-xml"]
)
# --- TeX that may not be typeset (checked here independently of nbclaude's own lists) ---------
# A control word: a backslash not itself escaped (``\\\\href`` is a line break, then letters).
_CS = r"(?<!\\)(?:\\\\)*\\"
#: Commands that make links or labels, set attributes or styles, open pop-ups, load or read
#: things, or define things that outlive the formula (MathJax keeps them for the whole page).
TEX_FORBIDDEN = re.compile(_CS + r"(?:href|url|includegraphics|class|cssId|style|data|require"
    r"|html\w*|mmlToken|label|ref|eqref|refeq|mathtip|texttip|def|gdef|edef|xdef|let|futurelet"
    r"|global|newcommand|renewcommand|providecommand|newenvironment|renewenvironment"
    r"|DeclareMathOperator|DeclarePairedDelimiter\w*|Newextarrow|newcolumntype|newtagform"
    r"|renewtagform|usetagform|mathtoolsset|MakeAboxedCommand|definecolor|colorlet|setOptions"
    r"|begingroup\w*|endgroup|U|csname|expandafter|catcode|input|include|immediate|write"
    r"|openin|openout|usepackage|lstinputlisting|verbatiminput)(?![A-Za-z])")  # fmt: skip
_SP = r"[\s\ufeff]*"  # JavaScript's \s (MathJax skips it before an optional argument)
_TEX_UNICODE = re.compile(
    _CS + r"unicode(?![A-Za-z])(?!" + _SP + r"\{\s*(?:[0-9]+|0?x[0-9A-Fa-f]+)\s*\})"
)
_TEX_BBOX = re.compile(_CS + r"bbox" + _SP + r"\[([^\]]*)")
_TEX_COLOR = re.compile(_CS + r"(f?colorbox|color|textcolor|cellcolor|rowcolor|columncolor)"
    r"(?![A-Za-z])")  # fmt: skip
_COLOR_ARG = re.compile(_SP + r"(?:\[[A-Za-z]*\])?" + _SP + r"\{[A-Za-z0-9#.,!\s+-]*\}")
_TEX_ENCLOSE = re.compile(_CS + r"enclose" + _SP + r"\{(?:[^{}]|\{[^{}]*\})*\}" + _SP + r"\[")
_TEX_LENGTH = re.compile(r"(?<![0-9.])(\d+(?:\.\d*)?|\.\d+)" + _SP
                         + r"(em|ex|mu|pt|bp|px|pc|dd|cc|nd|nc|mm|cm|in|sp)")  # fmt: skip
_EM = {"em": 1, "ex": 0.5, "mu": 1 / 18, "pt": 0.1, "bp": 0.1004, "px": 0.1, "pc": 1.2,
       "dd": 0.107, "cc": 1.284, "nd": 0.107, "nc": 1.28, "mm": 0.2845, "cm": 2.845,
       "in": 7.227, "sp": 0.1 / 65536}  # fmt: skip
_PER_EM = {"skew": 18, "uproot": 15, "leftroot": 15, "MoveEqLeft": 1, "xmathstrut": 1}
_TEX_SCALED = re.compile(_CS + r"(skew|uproot|leftroot|MoveEqLeft|xmathstrut)(?![A-Za-z])"
                         + r"((?:" + _SP + r"[\[{][^\]}]*[\]}])*)")  # fmt: skip
#: The largest TeX length allowed in model math (KaTeX's ``maxSize`` in the widget).
TEX_MAX_EM = 20


def unsafe_tex(tex: str) -> list[str]:
    """What in TeX (as a renderer would typeset it) breaks the policy: forbidden commands,
    ``\\unicode`` with options, ``\\bbox`` styles, colour values that are not colours,
    ``\\enclose`` attributes, and lengths above :data:`TEX_MAX_EM`."""
    found = [m[0] for m in TEX_FORBIDDEN.finditer(tex)]
    found += [m[0] + "[...]" for m in _TEX_UNICODE.finditer(tex)]
    found += [m[0] for m in _TEX_BBOX.finditer(tex) if re.search(r"[^A-Za-z0-9#.,\s]", m[1])]
    found += [m[0] for m in _TEX_ENCLOSE.finditer(tex)]
    for m in _TEX_COLOR.finditer(tex):
        pos = m.end()
        for _ in range(2 if m[1] == "fcolorbox" else 1):
            arg = _COLOR_ARG.match(tex, pos)
            if arg is None:
                found.append(m[0] + tex[pos : pos + 40])
                break
            pos = arg.end()
    found += [m[0] for m in _TEX_LENGTH.finditer(tex) if float(m[1]) * _EM[m[2]] > TEX_MAX_EM]
    for m in _TEX_SCALED.finditer(tex):  # numbers MathJax turns into lengths
        if any(abs(float(n)) / _PER_EM[m[1]] > TEX_MAX_EM for n in re.findall(r"\d*\.?\d+", m[2])):
            found.append(m[0])
    return found


def url_scheme_ok(value: str) -> bool:
    cleaned = re.sub(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]", "", value)
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return m is not None and m[1].lower() in ("http", "https", "mailto")


class Inspector(HTMLParser):
    """Collect what matters in rendered HTML; split text the way MathJax does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []
        self.codes: list[str] = []
        self.tags: list[str] = []
        self.math_spans: list[str] = []  # markdown-it dollarmath output
        self.strings: list[str] = [""]  # text strings as MathJax sees them
        self.text: list[str] = []
        self.found_math: list[str] = []  # what MathJax would typeset (set by inspect)
        self.shown = ""  # the text a reader sees, after MathJax (set by inspect)
        self._skip = 0
        self._code: list[str] | None = None
        self._math: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.problems.append(f"{tag}[{name}]")
            if name in URL_ATTRS and not url_scheme_ok(value or ""):
                self.problems.append(f"{tag}[{name}={value!r}]")
            if name == "style" and not re.fullmatch(
                r"text-align:\s*(left|right|center)", value or ""
            ):
                self.problems.append(f"{tag}[style={value!r}]")
            if name == "href":
                self.links.append(value or "")
        if tag == "br":
            self.strings[-1] += "\n"
            return
        self.strings.append("")
        if tag in _MATHJAX_SKIP:
            self._skip += 1
        if tag == "code":
            self._code = []
        if dict(attrs).get("class", "") in ("math inline", "math block"):
            self._math = []

    def handle_endtag(self, tag: str) -> None:
        self.strings.append("")
        if tag in _MATHJAX_SKIP:
            self._skip = max(0, self._skip - 1)
        if tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None
        if tag in ("span", "div") and self._math is not None:
            self.math_spans.append("".join(self._math).strip())
            self._math = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._code is not None:
            self._code.append(data)
        if self._math is not None:
            self._math.append(data)
        if not self._skip:
            self.strings[-1] += data


_MJ_START = re.compile(
    r"\\begin\s*\{([^}]*)\}|\\([\\$])|\\(?:eq)?ref\s*\{[^}]*\}|\$\$|\$|\\\(|\\\["
)
_MJ_END = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}


def mathjax_find(string: str) -> tuple[list[str], str]:
    """What MathJax (tex input, processEscapes, processEnvironments, processRefs) finds in one
    DOM string: the math, and the text shown for the rest."""
    found: list[str] = []
    shown: list[str] = []
    pos = 0
    while True:
        m = _MJ_START.search(string, pos)
        if m is None:
            break
        shown.append(string[pos : m.start()])
        if m[2]:  # escaped \\ or \$
            shown.append(m[2])
            pos = m.end()
            continue
        if m[0].startswith("\\ref") or m[0].startswith("\\eqref"):
            found.append(m[0])
            pos = m.end()
            continue
        close = f"\\end{{{m[1]}}}" if m[1] is not None else _MJ_END[m[0]]
        ends = re.compile(r"\\[\\{}$]|[{}]|" + re.escape(close))
        braces, stop = 0, None
        for e in ends.finditer(string, m.end()):
            if e[0] == close and braces == 0:
                stop = e
                break
            if e[0] == "{":
                braces += 1
            elif e[0] == "}" and braces:
                braces -= 1
        if stop is None:
            shown.append(m[0])
            pos = m.end()
            continue
        found.append(string[m.start() : stop.end()])
        pos = stop.end()
    shown.append(string[pos:])
    return found, "".join(shown)


def inspect(rendered: str, *, mathjax: bool) -> Inspector:
    """Inspect rendered HTML; with ``mathjax``, also find what MathJax would typeset on the page."""
    ins = Inspector()
    ins.feed(rendered)
    ins.close()
    shown = []
    for s in ins.strings:
        if mathjax:
            found, text = mathjax_find(s)
            ins.found_math.extend(found)
            shown.append(text)
        else:
            shown.append(s)
    ins.shown = "".join(shown)
    for math in [*ins.math_spans, *ins.found_math]:
        bad = unsafe_tex(math)
        if bad:
            ins.problems.append(f"unsafe TeX {bad} in math {math[:300]!r}")
    return ins


def assert_safe(markdown: str, marked: Marked | None) -> dict[str, Inspector]:
    """Render ``markdown`` in every renderer (``marked`` and ``lab`` only when ``marked`` is
    given), fail on any problem, and return each renderer's :class:`Inspector`."""
    out = {}
    for name, rendered in renders(markdown, marked).items():
        ins = inspect(rendered, mathjax=name == "lab")
        assert not ins.problems, (
            f"{name}: {ins.problems}\n--- markdown:\n{markdown}\n--- html:\n{rendered}"
        )
        out[name] = ins
    return out
