"""A reply shown in one of ``%%claude``'s output formats: ``markdown``, ``text``, ``code`` or
``json`` (and as checked JSON when the turn asked for a schema).

:func:`shown_as` decides what the cell shows; the cell magic only displays it (and, for
``code``, puts the code into a new cell below: that is the shell's business, not the reply's).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nbclaude._exceptions import NbClaudeError

from .reply import Reply, fenced

__all__ = ["FORMATS", "Shown", "first_code_block", "parse_json_reply", "shown_as"]

#: The output formats, the default first.
FORMATS = ("markdown", "text", "code", "json")


@dataclass
class Shown:
    """What a reply shows in a format."""

    #: Safe Markdown for the cell.
    markdown: str
    #: Notes to show under it ("The reply is not valid JSON; ...").
    notes: list[str] = field(default_factory=list)
    #: The code for a new cell below (``code`` format), if any.
    code: str | None = None
    #: An error to raise after showing the reply (it does not fit its schema).
    problem: NbClaudeError | None = None


def shown_as(reply: Reply, fmt: str) -> Shown:
    """What ``reply`` shows in format ``fmt`` (``json`` also sets :attr:`Reply.data`).

    Examples
    --------
    >>> r = Reply({"id": "m", "type": "message", "role": "assistant", "model": "m",
    ...            "stop_reason": "end_turn", "stop_sequence": None,
    ...            "usage": {"input_tokens": 1, "output_tokens": 1},
    ...            "content": [{"type": "text", "text": 'Sure: {"a": 1}'}]})
    >>> shown_as(r, "json").markdown
    '```json\\n{\\n  "a": 1\\n}\\n```'
    >>> r.data
    {'a': 1}
    """
    full = (reply.prefill or "") + reply.text
    if reply.schema is not None and not reply.interrupted:
        from nbclaude._schema import to_jsonable

        try:
            data = json.dumps(to_jsonable(reply.data), indent=2, ensure_ascii=False)
        except NbClaudeError as exc:  # the reply does not fit the schema
            return Shown(reply.display_markdown(), problem=exc)
        return Shown(fenced(data, "json"))
    if fmt == "code":
        code = first_code_block(full)
        notes = (
            [] if code is not None else ["The reply has no code block; all of it is shown as code."]
        )
        code = full if code is None else code
        for_cell = code.rstrip("\n") if code.strip() and not reply.interrupted else None
        return Shown(fenced(code, "python"), notes, code=for_cell)
    if fmt == "json":
        data, ok = parse_json_reply(full)
        if not ok:
            return Shown(
                reply.display_markdown(), ["The reply is not valid JSON; it is shown as text."]
            )
        reply.data = data
        return Shown(fenced(json.dumps(data, indent=2, ensure_ascii=False), "json"))
    return Shown(reply.display_markdown())


def first_code_block(text: str) -> str | None:
    """The content of the first fenced code block in ``text``, or ``None``.

    Examples
    --------
    >>> first_code_block("Here:\\n```python\\nprint(1)\\n```\\nDone")
    'print(1)\\n'
    """
    m = re.search(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[`~]*[ \t]*$", text, re.M | re.S)
    if m:
        return m.group(2)
    m = re.search(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*)\Z", text, re.M | re.S)  # unclosed fence
    return m.group(2) if m else None


def parse_json_reply(text: str) -> tuple[Any, bool]:
    """Parse the JSON in a reply: the whole text, a fenced block, or the first object/array.

    Examples
    --------
    >>> parse_json_reply('Sure: {"a": 1} hope it helps')
    ({'a': 1}, True)
    """
    candidates = [text.strip()]
    block = first_code_block(text)
    if block is not None:
        candidates.append(block.strip())
    for candidate in candidates:
        try:
            return json.loads(candidate), True
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        return value, True
    return None, False
