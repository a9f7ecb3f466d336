"""Which TeX commands model output may use: no styles, URLs or definitions.

JupyterLab 4 typesets with MathJax 3.2 and every TeX package it has (plus ``require``), over
the whole page, with one parser for all outputs; VS Code and the ChatWidget use KaTeX; MathJax 4
adds packages. Each command that can do more than draw maths was decided from their sources:

* **Links, labels**: ``\\href``, ``\\url``, ``\\ref``, ``\\eqref``, ``\\refeq`` make links;
  ``\\label`` registers a name for the whole page (a later output with the same label fails).
* **Attributes and styles**: ``\\class``, ``\\cssId``, ``\\style``, ``\\data``, ``\\mmlToken``,
  KaTeX's ``\\html…``, ``\\unicode`` with an option (MathJax writes its font into a ``style``
  attribute: CSS ``url()`` loads a remote address, ``position:fixed`` covers the notebook; the
  font is also cached for that character for the whole page). ``\\unicode{65}`` stays.
* **Pop-ups**: ``\\mathtip``, ``\\texttip`` (a tooltip opens over other content).
* **Loads and reads**: ``\\require`` (an extension, for the whole page), ``\\includegraphics``,
  and LaTeX's file and shell commands (``\\input``, ``\\write``, ``\\openin``, …), which no
  maths renderer needs.
* **Definitions** (they outlive the formula in MathJax: every later output changes):
  ``\\def`` and its relatives, ``\\newcommand`` and its relatives, environments,
  ``\\DeclareMathOperator``, mathtools' delimiters, tag forms and options, ``\\Newextarrow``,
  ``\\newcolumntype``, ``\\definecolor``, ``\\setOptions``, MathJax 4's ``begingroup``
  commands, TeX's ``\\csname``/``\\catcode`` family.
* **Input rewriting**: MathJax 4's ``\\U{5C}`` puts a character back into the input, so a
  backslash could rebuild any command above.

Nothing to decide for ``configmacros`` (it reads the page's configuration, it has no command)
or MathJax 4's ``texhtml`` (HTML after ``<``): every ``<`` in model maths is written ``\\lt{}``.

These are shown as text (``\\backslash\\mathrm{name}``) wherever they appear, text mode included.
Commands with options are checked: ``\\bbox`` keeps colours and paddings but not style parts;
colour commands (``\\color``, ``\\textcolor``, ``\\colorbox``, ``\\fcolorbox``, colortbl's) keep
colour names, ``#hex`` and numeric values, not CSS (``url()``, ``;``); ``\\enclose`` keeps its
notation but not its attributes. Allowed on purpose: ``\\operatorname`` (local), ``\\mathchoice``,
``\\toggle`` (its content is checked like any TeX), ``\\verb``, ``\\char`` (draws a character), and
spacing, rules, ``\\smash``, ``\\llap`` and friends: JupyterLab's output area clips what they push
outside it. No length may exceed :data:`MAX_EM` (KaTeX's ``maxSize`` in the widget), nor the
numbers that ``\\skew``, ``\\uproot``, ``\\leftroot``, ``\\MoveEqLeft`` and ``\\xmathstrut`` turn
into lengths; such math is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["FORBIDDEN", "MAX_EM", "allowed", "too_large"]

_LINKS = "href url ref eqref refeq label"
_ATTRIBUTES = "class cssId style data mmlToken"
_POPUPS = "mathtip texttip"
_LOADS = (
    "require includegraphics input include InputIfFileExists usepackage RequirePackage "
    "documentclass lstinputlisting verbatiminput openin openout read readline write immediate "
    "special newread newwrite closein closeout"
)
_DEFINITIONS = (
    "def gdef edef xdef let futurelet global long outer newcommand renewcommand providecommand "
    "DeclareRobustCommand newenvironment renewenvironment DeclareMathOperator "
    "DeclarePairedDelimiter DeclarePairedDelimiterX DeclarePairedDelimiterXPP "
    "DeclarePairedDelimiters DeclarePairedDelimitersX DeclarePairedDelimitersXPP Newextarrow "
    "newcolumntype newtagform renewtagform usetagform mathtoolsset MakeAboxedCommand "
    "definecolor colorlet DefineNamedColor setOptions begingroup endgroup begingroupReset "
    "begingroupSandbox csname endcsname expandafter noexpand string catcode chardef mathchardef "
    "countdef dimendef toksdef newcount newdimen newlength setlength addtolength newif"
)
_REWRITING = "U"

#: Control words shown as text wherever they appear (and every one starting with ``html``).
FORBIDDEN = frozenset(
    " ".join([_LINKS, _ATTRIBUTES, _POPUPS, _LOADS, _DEFINITIONS, _REWRITING]).split()
)

#: The largest length (in em) model math may use.
MAX_EM = 20

# JavaScript's \s, which MathJax skips before an optional argument (Python's \s lacks U+FEFF)
_SP = r"[\s\ufeff]*"
_PLAIN_UNICODE = re.compile(_SP + r"\{\s*(?:[0-9]+|0?x[0-9A-Fa-f]+)\s*\}")
_BRACKET = re.compile(_SP + r"\[")
_BBOX_OPTIONS = re.compile(_SP + r"\[([A-Za-z0-9#.,\s]*)\]")
_BBOX_PART = re.compile(
    r"[A-Za-z0-9]+|#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|(?:\.\d+|\d+(?:\.\d*)?)(?:pt|em|ex|mu|px|in|cm|mm)"
)
_COLOR = re.compile(_SP + r"(?:\[[A-Za-z]*\])?" + _SP + r"\{[A-Za-z0-9#.,!\s+-]*\}")
_NOTATION = re.compile(_SP + r"\{[A-Za-z, ]*\}")
_COLOR_ARGS = {
    "color": 1,
    "textcolor": 1,
    "colorbox": 1,
    "fcolorbox": 2,
    "cellcolor": 1,
    "rowcolor": 1,
    "columncolor": 1,
    "pagecolor": 1,
}
_LENGTH = re.compile(
    r"(?<![0-9.])(\d+(?:\.\d*)?|\.\d+)" + _SP + r"(em|ex|mu|pt|bp|px|pc|dd|cc|nd|nc|mm|cm|in|sp)"
)
# numbers MathJax turns into lengths (\\skew in mu, \\uproot and \\leftroot in fifteenths of
# an em, mathtools' \\MoveEqLeft in em, \\xmathstrut in heights of "("): how many make an em
_PER_EM = {"skew": 18.0, "uproot": 15.0, "leftroot": 15.0, "MoveEqLeft": 1.0, "xmathstrut": 1.0}
_SCALED = re.compile(
    r"\\(skew|uproot|leftroot|MoveEqLeft|xmathstrut)(?![A-Za-z])"
    r"((?:" + _SP + r"(?:\[[^\[\]{}]*\]|\{[^{}]*\}))*)(" + _SP + r"[\[{])?"
)
_NUMBER = re.compile(r"\d*\.?\d+")
# each unit in em, rounded up over MathJax's and KaTeX's definitions
_EM = {
    "em": 1.0, "ex": 0.5, "mu": 1 / 18, "pt": 0.1, "bp": 0.1004, "px": 0.1, "pc": 1.2,
    "dd": 0.107, "cc": 1.284, "nd": 0.107, "nc": 1.28, "mm": 0.2845, "cm": 2.845, "in": 7.227,
    "sp": 0.1 / 65536,
}  # fmt: skip


def _plain_unicode(src: str, end: int) -> bool:
    return _PLAIN_UNICODE.match(src, end) is not None


def _bbox(src: str, end: int) -> bool:
    if _BRACKET.match(src, end) is None:
        return True
    m = _BBOX_OPTIONS.match(src, end)
    return m is not None and all(
        _BBOX_PART.fullmatch(part.strip()) for part in m[1].split(",") if part.strip()
    )


def _colors(count: int) -> Callable[[str, int], bool]:
    def check(src: str, end: int) -> bool:
        for _ in range(count):
            m = _COLOR.match(src, end)
            if m is None:
                return False
            end = m.end()
        return True

    return check


def _enclose(src: str, end: int) -> bool:
    m = _NOTATION.match(src, end)
    return m is not None and _BRACKET.match(src, m.end()) is None


_CHECKS: dict[str, Callable[[str, int], bool]] = {
    "unicode": _plain_unicode,
    "bbox": _bbox,
    "enclose": _enclose,
    **{name: _colors(n) for name, n in _COLOR_ARGS.items()},
}


def allowed(name: str, src: str, end: int) -> bool:
    """Whether the control word ``\\name``, which ends at ``src[end]``, may stay in model TeX.

    Parameters
    ----------
    name : str
        The command's name (letters only, without the backslash).
    src : str
        The TeX it is in.
    end : int
        The index just after the name in ``src`` (where its arguments start).

    Returns
    -------
    bool
        ``False`` when the command must be shown as text.

    Examples
    --------
    >>> allowed("frac", "\\\\frac{a}{b}", 5)
    True
    >>> allowed("def", "\\\\def\\\\x{1}", 4)
    False
    >>> allowed("unicode", "\\\\unicode{65}", 8), allowed("unicode", "\\\\unicode[x]{65}", 8)
    (True, False)
    """
    if name in FORBIDDEN or name.startswith("html"):
        return False
    check = _CHECKS.get(name)
    return check is None or check(src, end)


def too_large(tex: str) -> bool:
    """Whether ``tex`` holds a length above :data:`MAX_EM` (then it is shown as text): a TeX
    length, or a number MathJax turns into one (``\\skew``, ``\\uproot``, ``\\leftroot``,
    ``\\MoveEqLeft``, ``\\xmathstrut``).

    Examples
    --------
    >>> too_large("\\\\rule{1em}{2pt}"), too_large("\\\\kern-500em"), too_large("\\\\hskip 3in")
    (False, True, True)
    """
    if any(float(m[1]) * _EM[m[2]] > MAX_EM for m in _LENGTH.finditer(tex)):
        return True
    for m in _SCALED.finditer(tex):
        if m[3]:  # an argument with braces inside: not checked, so not allowed
            return True
        if any(float(n) / _PER_EM[m[1]] > MAX_EM for n in _NUMBER.findall(m[2])):
            return True
    return False
