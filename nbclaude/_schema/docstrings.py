"""Docstrings -> descriptions: :func:`parse_docstring` for numpy, Google and Sphinx styles.

Tool definitions (:mod:`nbclaude._tools`) and JSON Schemas of classes
(:mod:`nbclaude._schema.build`) take their descriptions from here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["Docstring", "parse_docstring"]


class Docstring(NamedTuple):
    description: str  # the summary and extended description, before any section
    params: dict[str, str]  # parameter / attribute name -> description
    types: dict[str, str]  # parameter name -> the type written in the docstring
    returns: str  # the Returns section, as one line


_SECTIONS = {
    "args": "params",
    "arguments": "params",
    "parameters": "params",
    "params": "params",
    "other parameters": "params",
    "keyword args": "params",
    "keyword arguments": "params",
    "attributes": "params",
    "returns": "returns",
    "return": "returns",
    "yields": "other",
    "raises": "other",
    "examples": "other",
    "example": "other",
    "notes": "other",
    "note": "other",
    "see also": "other",
    "references": "other",
    "warnings": "other",
    "warning": "other",
    "warns": "other",
    "todo": "other",
    "methods": "other",
}
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_GOOGLE_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ENTRY = re.compile(
    r"^\*{0,2}(?P<names>[\w.]+)\s*(?:\((?P<type>[^)]*)\))?\s*:\s*(?P<desc>.*)$"
)
_NUMPY_ENTRY = re.compile(
    r"^(?P<names>\*{0,2}[\w.]+(?:\s*,\s*\*{0,2}[\w.]+)*)\s*(?::\s*(?P<type>.*))?$"
)
_SPHINX = re.compile(
    r"^:(?P<kind>param|parameter|arg|argument|key|keyword|type|returns?)\b"
    r"\s*(?P<rest>[^:]*):\s*(?P<desc>.*)$"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _join(lines: list[str]) -> str:
    return " ".join(s for s in (line.strip() for line in lines) if s)


def parse_docstring(doc: str | None) -> Docstring:
    """Split a docstring into description, parameter descriptions and a Returns line.

    Understands numpy sections (``Parameters`` underlined with dashes, ``x : int`` entries),
    Google sections (``Args:`` with ``x (int): text`` entries) and Sphinx fields
    (``:param x: text``). Sections other than parameters, attributes and returns are dropped.
    """
    if not doc:
        return Docstring("", {}, {}, "")
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    ptypes: dict[str, str] = {}
    returns: list[str] = []
    i = 0
    in_description = True
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        name = stripped.rstrip(":").strip().lower()
        numpy = name in _SECTIONS and i + 1 < len(lines) and bool(_UNDERLINE.match(lines[i + 1]))
        google = not numpy and name in _SECTIONS and bool(_GOOGLE_HEADER.match(line))
        sphinx = _SPHINX.match(stripped)
        if numpy or google:
            in_description = False
            start = i + (2 if numpy else 1)
            end = start
            while end < len(lines):
                nxt = lines[end]
                nxt_name = nxt.strip().rstrip(":").strip().lower()
                if nxt_name in _SECTIONS and (
                    (end + 1 < len(lines) and _UNDERLINE.match(lines[end + 1]))
                    or (_GOOGLE_HEADER.match(nxt) and _indent(nxt) <= _indent(line))
                ):
                    break
                if nxt.strip() and _indent(nxt) < _indent(line) + (0 if numpy else 1):
                    break
                end += 1
            body = lines[start:end]
            kind = _SECTIONS[name]
            if kind == "params":
                _section_entries(body, numpy, params, ptypes)
            elif kind == "returns":
                returns.extend(_returns_text(body, numpy))
            i = end
            continue
        if sphinx:
            in_description = False
            kind, rest = sphinx["kind"], sphinx["rest"].split()
            desc = [sphinx["desc"]]
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith(":"):
                desc.append(lines[i])
                i += 1
            if kind.startswith("return"):
                returns.append(_join(desc))
            elif kind == "type" and rest:
                ptypes[rest[-1]] = _join(desc)
            elif rest:
                params[rest[-1]] = _join(desc)
                if len(rest) > 1:
                    ptypes.setdefault(rest[-1], " ".join(rest[:-1]))
            continue
        if in_description:
            description.append(line.rstrip())
        i += 1
    while description and not description[-1].strip():
        description.pop()
    text = "\n".join(description).strip()
    return Docstring(text, params, ptypes, " ".join(r for r in returns if r))


def _entries(body: list[str]) -> Iterator[tuple[str, list[str]]]:
    """(entry line, continuation lines) for the lines of a section."""
    base = min((_indent(line) for line in body if line.strip()), default=0)
    head: str | None = None
    rest: list[str] = []
    for line in body:
        if line.strip() and _indent(line) <= base:
            if head is not None:
                yield head, rest
            head, rest = line.strip(), []
        elif head is not None:
            rest.append(line)
    if head is not None:
        yield head, rest


def _section_entries(
    body: list[str], numpy: bool, params: dict[str, str], ptypes: dict[str, str]
) -> None:
    for head, rest in _entries(body):
        if numpy:
            m = _NUMPY_ENTRY.match(head)
            if not m:
                continue
            desc, typ = _join(rest), (m["type"] or "").strip()
        else:
            m = _GOOGLE_ENTRY.match(head)
            if not m:
                continue
            desc, typ = _join([m["desc"], *rest]), (m["type"] or "").strip()
        for raw in m["names"].split(","):
            key = raw.strip().lstrip("*")
            if key:
                params.setdefault(key, desc)
                if typ:
                    ptypes.setdefault(key, typ)


def _returns_text(body: list[str], numpy: bool) -> list[str]:
    if not numpy:
        return [_join(body)]
    out = []
    for head, rest in _entries(body):
        desc = _join(rest)
        out.append(f"{head}: {desc}" if desc else head)
    return out
