"""The TeX policy: model TeX may not carry styles, URLs or definitions (nbclaude._markdown.tex).

Every command that makes a link, sets an attribute or a style, opens a pop-up, loads or reads
something, or defines something that outlives its formula (MathJax keeps definitions for the
whole page) is shown as text; lengths are capped; plain maths renders unchanged. The checks
use the render harness's own TeX rules (``unsafe_tex``), written independently of the policy.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from render_harness import ATTACKS, VSCODE, Marked, assert_safe, inspect, renders, unsafe_tex

from nbclaude._markdown import safe_markdown

TEX_ATTACKS = [v for v in ATTACKS if v["id"].startswith("tex-")]


def math_of(markdown: str) -> list[str]:
    """The TeX a math renderer (VS Code's markdown-it) typesets in ``markdown``."""
    return inspect(VSCODE.render(markdown), mathjax=False).math_spans


def test_the_corpus_has_the_tex_attacks() -> None:
    assert len(TEX_ATTACKS) >= 50


@pytest.mark.parametrize("vector", TEX_ATTACKS, ids=[v["id"] for v in TEX_ATTACKS])
def test_raw_tex_attacks_are_caught_by_the_harness(vector: dict[str, Any], marked: Marked) -> None:
    """The checks can fail: each raw TeX vector is unsafe in VS Code's or JupyterLab's math."""
    problems = [
        p
        for name, html in renders(vector["markdown"], marked).items()
        for p in inspect(html, mathjax=name == "lab").problems
    ]
    assert any("unsafe TeX" in p for p in problems), problems


@pytest.mark.parametrize("vector", TEX_ATTACKS, ids=[v["id"] for v in TEX_ATTACKS])
def test_tex_attacks_are_neutralised(vector: dict[str, Any], marked: Marked) -> None:
    out = safe_markdown(vector["markdown"])
    assert_safe(out, marked)
    assert safe_markdown(out) == out


# Commands shown as text wherever they appear, by what they do (MathJax 3.2 and 4.1, KaTeX).
FORBIDDEN = {
    "links": "href url ref eqref refeq label",
    "attributes and styles": "class cssId style data mmlToken htmlClass htmlId htmlStyle "
    "htmlData html",
    "pop-ups": "mathtip texttip",
    "loads and reads": "require includegraphics input include InputIfFileExists usepackage "
    "RequirePackage documentclass lstinputlisting verbatiminput openin openout read readline "
    "write immediate special newread newwrite closein closeout",
    "definitions": "def gdef edef xdef let futurelet global long newcommand renewcommand "
    "providecommand DeclareRobustCommand newenvironment renewenvironment DeclareMathOperator "
    "DeclarePairedDelimiter DeclarePairedDelimiterX DeclarePairedDelimiterXPP "
    "DeclarePairedDelimiters DeclarePairedDelimitersX DeclarePairedDelimitersXPP Newextarrow "
    "newcolumntype newtagform renewtagform usetagform mathtoolsset MakeAboxedCommand "
    "definecolor colorlet setOptions begingroup endgroup begingroupReset begingroupSandbox "
    "csname endcsname expandafter noexpand catcode chardef mathchardef",
    "input rewriting": "U",
}
FORBIDDEN_NAMES = [name for names in FORBIDDEN.values() for name in names.split()]


@pytest.mark.parametrize("name", FORBIDDEN_NAMES)
@pytest.mark.parametrize("display", [False, True])
def test_forbidden_commands_are_shown_as_text(name: str, display: bool) -> None:
    tex = f"a\\{name}{{x}}{{y}}\\{name}*[z]b"
    out = safe_markdown(f"$$\n{tex}\n$$" if display else f"Now ${tex}$.")
    maths = math_of(out)
    assert len(maths) == 1, out
    assert maths[0].count(f"\\backslash\\mathrm{{{name}}}") == 2, out
    assert not re.search(rf"(?<!\\)\\{name}(?![A-Za-z])", maths[0]), out
    assert_safe(out, None)


@pytest.mark.parametrize(
    "tex",
    [
        "\\unicode[Arial;background:url(//attacker.example/u.png)]{x41}",
        "\\unicode[0.8,0.2]{x41}",
        "\\unicode[0.8,0.2][Arial]{x41}",
        "\\unicode [x]{65}",
        "\\unicode\n[x]{65}",
        "\\unicode\u00a0[x]{65}",
        "\\unicode\ufeff[x]{65}",
        "\\unicode\u3000[x]{65}",
        "\\unicode65",
        "\\unicode{\\href{x}{y}}",
        "\\unicode{x41",
    ],
)
def test_unicode_with_options_is_shown_as_text(tex: str) -> None:
    for src in (f"${tex}$", f"$$\n{tex}\n$$"):
        out = safe_markdown(src)
        for math in math_of(out):
            assert "\\backslash\\mathrm{unicode}" in math, (src, out)
            assert not unsafe_tex(math), (src, math)
        assert_safe(out, None)


KEPT = [
    # plain \unicode stays (_markdown/texpolicy.py), and everything ordinary maths uses
    "\\unicode{65}",
    "\\unicode{x41}",
    "\\unicode{0x41} + \\unicode{ x263A }",
    "e^{i\\pi}+1=0",
    "\\frac{a}{b} \\sqrt[3]{x} \\binom{n}{k} \\dfrac12",
    "\\int_0^1 x^2\\,dx \\iint \\oint \\sum_{i=1}^{n} \\prod \\lim_{x\\to 0}",
    "\\mathbb{R} \\mathcal{F} \\mathfrak{g} \\mathrm{d}x \\boldsymbol{v} \\vec{v} \\hat{x}",
    "\\alpha\\beta\\Gamma\\varepsilon \\infty \\partial \\nabla \\hbar",
    "\\left( \\frac{a}{b} \\right) \\bigl[ x \\bigr] \\langle x \\rangle \\lVert v \\rVert",
    "\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}",
    "\\begin{aligned} x &= 1 \\\\ y &= 2 \\end{aligned}",
    "\\begin{cases} 1 & x \\ge 0 \\\\ 0 & \\text{otherwise} \\end{cases}",
    "\\begin{array}{c|c} 1 & 2 \\\\ \\hline 3 & 4 \\end{array}",
    "\\operatorname{sgn}(x) \\operatorname*{arg\\,max}_x f(x) \\sin x \\log_2 n",
    "\\mathchoice{a}{b}{c}{d} \\text{if } x \\mbox{ and } \\textbf{y}",
    "\\overset{!}{=} \\underbrace{a+b}_{c} \\overline{z} \\xrightarrow[a]{b} \\stackrel{?}{=}",
    "\\tag{1} \\notag \\nonumber",
    "\\ce{H2O + CO2 = H2CO3} \\pu{123 kJ/mol}",
    "\\cancel{x} \\boxed{y} \\bbox{z} \\bbox[yellow]{z} \\bbox[5px]{z} \\bbox[yellow, 2pt]{z}",
    "\\bbox[#ff0]{z} \\bbox[#FFEE00,1em]{z} \\enclose{circle}{x} \\enclose{box,roundedbox}{y}",
    "\\color{red}{x} \\color{red} x \\textcolor{blue}{y} \\colorbox{yellow}{z}",
    "\\fcolorbox{red}{yellow}{z} \\color[rgb]{1,0,0.5}{x} \\color[HTML]{FF0000}{x} \\color{#f00}x",
    "\\hspace{1em} \\kern3mu \\mkern-3mu \\mspace{18mu} \\, \\: \\; \\! \\quad \\qquad \\hskip 2pt",
    "\\rule{1em}{0.4pt} \\rule[-1ex]{2cm}{1pt} \\phantom{x} \\hphantom{y} \\vphantom{z}",
    "\\smash{x} \\llap{y} \\rlap{z} \\mathllap{a} \\mathrlap{b} \\mathclap{c}",
    "\\raise{1ex}{x} \\lower 2pt{y} \\moveleft{1em}{z} \\Rule{1em}{1em}{0em} \\Space{1em}{1em}{0em}",
    "\\begin{array}{l} a \\\\[2pt] b \\\\[-1ex] c \\end{array}",
    "\\Huge x \\tiny y \\displaystyle \\sum \\scriptstyle z",
    "\\toggle{a}{b}\\endtoggle \\char65 \\verb|x| \\# \\% \\& \\{ \\} \\_",
    "\\not= \\neq \\leq \\ge \\approx \\equiv \\sim \\simeq \\propto \\ldots \\cdots \\vdots",
    "20em \\kern 20em x \\rule{20em}{1pt}",  # the cap itself is allowed
    "\\skew{3}{\\hat}{A} \\sqrt[\\leftroot{-2}\\uproot{2}3]{x} \\xmathstrut{0.5} \\uproot3",
    "\\begin{aligned} \\MoveEqLeft[4] a &= b \\\\ &= c \\end{aligned}",
]


@pytest.mark.parametrize("tex", KEPT)
def test_plain_maths_is_kept_unchanged(tex: str, marked: Marked) -> None:
    for src, expected in (
        (f"Inline ${tex}$ here.", f"Inline ${tex}$ here.\n"),
        (f"$$\n{tex}\n$$", f"$$\n{tex}\n$$\n"),
    ):
        # (a space after \end keeps JupyterLab's pre-pass from ending a span early)
        out = safe_markdown(src).replace("\\end {", "\\end{")
        assert out == expected
        views = assert_safe(safe_markdown(src), marked)
        assert [m.replace("\\end {", "\\end{") for m in views["vscode"].math_spans] == [tex]
        lab = [m.replace("\\end {", "\\end{") for m in views["lab"].found_math]
        assert any(tex in m for m in lab), lab


@pytest.mark.parametrize(
    ("tex", "bad"),
    [
        ("\\bbox[position:fixed;inset:0]{x}", "bbox"),
        ("\\bbox[red,border:1px solid]{x}", "bbox"),
        ("\\bbox [background:url(//attacker.example)]{x}", "bbox"),
        ("\\bbox\ufeff[left:0]{x}", "bbox"),
        ("\\bbox[{]}x]{x}", "bbox"),
        ("\\bbox[red;x]{x}", "bbox"),
        ("\\color{red;position:fixed}{x}", "color"),
        ("\\color{url(//attacker.example/c.png)}{x}", "color"),
        ("\\color[named;x]{red}{x}", "color"),
        ("\\color\\red x", "color"),
        ("\\textcolor{var(--jp-layout-color0)}{x}", "textcolor"),
        ("\\colorbox{url(x)}{x}", "colorbox"),
        ("\\fcolorbox{red}{url(x)}{x}", "fcolorbox"),
        ("\\fcolorbox{red}", "fcolorbox"),
        ("\\cellcolor{red;x}", "cellcolor"),
        ("\\rowcolor{red;x}", "rowcolor"),
        ("\\columncolor{red;x}", "columncolor"),
        ('\\enclose{box}[mathbackground="red"]{x}', "enclose"),
        ('\\enclose{box} [data-padding="500"]{x}', "enclose"),
        ("\\enclose{{box}}{x}", "enclose"),
    ],
)
def test_style_options_are_shown_as_text(tex: str, bad: str) -> None:
    out = safe_markdown(f"${tex}$")
    maths = math_of(out)
    assert maths, out
    assert f"\\backslash\\mathrm{{{bad}}}" in maths[0], out
    assert not unsafe_tex(maths[0]), maths[0]


@pytest.mark.parametrize(
    "tex",
    [
        "\\rule{200em}{200em}",
        "\\rule{21em}{1pt}",
        "\\kern-500em x",
        "\\hspace{1000em}",
        "\\mkern-9000mu",
        "\\mspace{400mu}",
        "\\hskip 300pt",
        "\\raise{500em}{x}",
        "\\lower 99in{x}",
        "\\moveleft 3in x",
        "\\begin{array}{l}a\\\\[-300em]b\\end{array}",
        "\\bbox[100em]{x}",
        "\\rule{1em}{10cm}",
        "\\Space{1em}{0.5 in}{25 em}",
        "\\kern 1000000000sp \\kern 30pc",
        # numbers MathJax turns into lengths: mu, fifteenths of an em, em, heights of "("
        "\\skew{100000}{\\hat}{x}",
        "\\sqrt[\\leftroot{-10000}3]{x}",
        "\\sqrt[\\uproot{400}3]{x}",
        "\\MoveEqLeft[1000] x",
        "\\xmathstrut{1000}",
        "\\xmathstrut[900]{1}",
        "\\xmathstrut{{1000}}",
    ],
)
def test_lengths_above_the_cap_make_the_math_text(tex: str) -> None:
    for src in (f"See ${tex}$ here.", f"$$\n{tex}\n$$"):
        out = safe_markdown(src)
        assert not math_of(out), out
        assert_safe(out, None)


def test_neutralised_math_is_stable() -> None:
    for src in ["$\\unicode[x]{x41} \\def\\a{b}$", "$$\n\\bbox[left:0]{x}\n\\label{a}\n$$"]:
        out = safe_markdown(src)
        assert safe_markdown(out) == out


@pytest.mark.parametrize(
    "src",
    [
        "$&#92;href{https://attacker.example}{y}$",
        "$&#x5C;unicode[x;position:fixed]{x41}$",
        "$$\n&bsol;def&bsol;x{1}\n$$",
        "$a &amp; b &lt; c$",
    ],
)
def test_character_references_in_maths_stay_text(src: str) -> None:
    """A renderer that decodes character references in maths must not get a backslash (or any
    other character) back from one: ``&`` before ``#`` or a letter is written ``\\&``."""
    out = safe_markdown(src)
    (math,) = math_of(out)
    assert not re.search(r"&(?:#|[A-Za-z][A-Za-z0-9]*;)", math), math
    assert "\\&" in math
    assert safe_markdown(out) == out
