"""The little reasoning the default reply does, deterministically.

* :func:`needs_tool`: with ``tool_choice`` ``auto`` the default reply calls a tool only when
  the last user message plausibly needs it: it names a word of the tool's name, description,
  parameter names or enum values (``"What's the weather in Paris?"`` with ``get_weather``),
  not when it only shares filler words (``"What color is the sky?"``).
* :func:`multiple_choice`: the option a multiple-choice question's one-token answer should be,
  when the fake can tell: arithmetic it can evaluate, and a few facts (the guide's "latin for
  Ant" is Formicidae). Otherwise ``None``, and the default reply answers ``?``: visibly not an
  answer, never a confident wrong letter.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["FACTS", "multiple_choice", "needs_tool", "options"]

_WORD = re.compile(r"[a-z][a-z0-9]+")
# Words that say nothing about what a tool is for.
_FILLER = frozenset(
    " ".join(
        (
            "a an and any are as at be by can current do does for from get given how in info",
            "is it its me my of on or please set some tell that the this to tool use what when",
            "where which who why will with you your list find show give make value values name",
            "type data result results return returns input output string number object",
            "optional required now again more then next also too yes no ok okay thanks thank",
            "hello hi hey so well",
        )
    ).split()
)
#: Facts the fake knows, as (words that must all be in the question, the answer's word).
FACTS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"latin", "ant"}), "formicidae"),
    (frozenset({"greek", "sun"}), "helios"),
    (frozenset({"capital", "france"}), "paris"),
    (frozenset({"largest", "planet"}), "jupiter"),
    (frozenset({"chemical", "symbol", "gold"}), "au"),
)
_FOLLOW_UP = re.compile(r"\s*(?:and|also|then|what about|how about)\b", re.IGNORECASE)
# What an arithmetic question names, for a calculator-like tool.
_MATH = frozenset(
    [
        "add",
        "addition",
        "sum",
        "plus",
        "calculate",
        "calculator",
        "calc",
        "math",
        "arithmetic",
        "multiply",
        "subtract",
        "divide",
        "compute",
        "evaluate",
    ]
)
_OPTION = re.compile(r"(?:^|(?<=[\s(\[,;]))\(?([A-H])[).:\]]\s*")
_TIMES, _DIVIDE = "\u00d7", "\u00f7"  # the multiplication and division signs
_EXPR = re.compile(rf"(\d+(?:\.\d+)?(?:\s*(?:[-+*/{_TIMES}{_DIVIDE}x]|\*\*)\s*\d+(?:\.\d+)?)+)")
_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _words(text: str) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        if w in _FILLER:
            continue
        out.add(w)
        if w.endswith("s") and len(w) > 3:
            out.add(w[:-1])  # "cities" -> "citie" is harmless; "dogs" -> "dog"
    return out


def _tool_words(tool: Mapping[str, Any]) -> set[str]:
    words = _words(re.sub(r"[_\-]", " ", str(tool.get("name", ""))))
    words |= _words(str(tool.get("description") or ""))
    schema = tool.get("input_schema")
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if isinstance(props, Mapping):
        for name, prop in props.items():
            words |= _words(re.sub(r"[_\-]", " ", str(name)))
            if isinstance(prop, Mapping):
                words |= _words(" ".join(str(v) for v in prop.get("enum") or ()))
    return words


def needs_tool(
    prompts: str | Iterable[str], tools: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The first custom tool whose subject the prompt names, or ``None``.

    ``prompts`` are the user's messages, newest first: a follow-up (no word of its own, or
    starting "and", "what about", ...: ``"And in Rome?"``) is read as being about the message
    before it too. Arithmetic in the prompt
    names a calculator-like tool (``add``, ``calculate``, ...).

    Examples
    --------
    >>> weather = {"name": "get_weather", "description": "Get the current weather in a given "
    ...            "location", "input_schema": {"type": "object", "properties": {
    ...            "location": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}}}}
    >>> needs_tool("What's the weather in Paris?", [weather])["name"]
    'get_weather'
    >>> needs_tool("What color is the sky?", [weather]) is None
    True
    >>> needs_tool(["And in Rome?", "What is the weather in Oslo?"], [weather])["name"]
    'get_weather'
    >>> needs_tool(["Who was Caesar?", "What is the weather in Oslo?"], [weather]) is None
    True
    """
    customs = [t for t in tools if t.get("type") in (None, "custom")]
    for prompt in [prompts] if isinstance(prompts, str) else prompts:
        said = _words(prompt)
        if _EXPR.search(prompt):
            said |= _MATH
        for tool in customs:
            if said & _tool_words(tool):
                return tool
        if said and not _FOLLOW_UP.match(prompt):
            return None
        # "and now?", "And in Rome?", "What about tomorrow?": about the message before
    return None


def options(question: str) -> dict[str, str]:
    """The lettered options of a multiple-choice question: ``{"A": "Apoidea", ...}``.

    Examples
    --------
    >>> options("What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae")
    {'A': 'Apoidea', 'B': 'Rhopalocera', 'C': 'Formicidae'}
    """
    marks = list(_OPTION.finditer(question))
    found: dict[str, str] = {}
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(question)
        text = question[m.end() : end].strip().rstrip(",;").strip()
        found.setdefault(m.group(1), text)
    letters = sorted(found)
    # A real list of options runs A, B, C, ...: "Vitamin C." is not one.
    if len(letters) < 2 or letters != [chr(ord("A") + i) for i in range(len(letters))]:
        return {}
    return found


def _evaluate(expr: str) -> float | None:
    text = expr.replace(_TIMES, "*").replace(_DIVIDE, "/").replace("x", "*")
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None

    def walk(n: ast.AST) -> float:
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return float(n.value)
        if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
            return float(_OPS[type(n.op)](walk(n.left), walk(n.right)))
        raise ValueError(n)

    try:
        return walk(node)
    except (ValueError, ZeroDivisionError):
        return None


def _number(text: str) -> float | None:
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*\.?\s*", text)
    return float(m.group(1)) if m else None


def multiple_choice(question: str) -> str | None:
    """The letter of the correct option when the fake can tell, else ``None``.

    Examples
    --------
    >>> multiple_choice("What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae")
    'C'
    >>> multiple_choice("What is 6 * 7? (A) 42 (B) 36 (C) 48")
    'A'
    >>> multiple_choice("Who wrote Hamlet? (A) Marlowe (B) Shakespeare") is None
    True
    """
    found = options(question)
    if not found:
        return None
    first = _OPTION.search(question)
    stem = question[: first.start()] if first is not None else question
    m = _EXPR.search(stem)
    if m is not None:
        value = _evaluate(m.group(1))
        if value is not None:
            for letter, text in found.items():
                n = _number(text)
                if n is not None and abs(n - value) < 1e-9:
                    return letter
            return None
    words = set(_WORD.findall(stem.lower()))
    for needed, answer in FACTS:
        if needed <= words:
            for letter, text in found.items():
                if answer in _WORD.findall(text.lower()):
                    return letter
    return None
