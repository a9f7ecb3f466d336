"""Rebuilding a conversation from a saved notebook (``Session.from_notebook``).

A saved ``.ipynb`` holds the machine-readable turns of its ``%%claude`` outputs and the
conversations of its chat widgets (:mod:`nbclaude._session.transcript_format`). They are read
in cell order (and, within a cell, output order) and combined by these rules:

1. Only the shared session counts (``"shared": false`` is another conversation), and only
   recorded turns (``%%claude --once`` is not part of the conversation).
2. A widget output holds the whole conversation as the widget last saw it. If it extends what
   was rebuilt so far, it replaces it; if it is an older view of it (a prefix), it adds
   nothing; if it differs (the conversation was reset since), the later one wins.
3. A cell's turn goes where it was in the conversation (its ``"index"``), after what comes
   before it: a turn that is already there (a widget holds it) adds nothing, a turn at index 0
   starts afresh (``%%claude --new``, a reset), a turn past the end is added at the end.

So the last, longest consistent view wins: a widget that lived on after later ``%%claude``
cells (it saw them) is not cut short by them, and cells run after a restart and a resume go
on from it. Messages are compared by what they say (roles, texts, tool ids), not by their
image bytes. Outputs that cannot be read are skipped and counted; every message that is used
is checked like a saved session's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbclaude._exceptions import InvalidRequestError
from nbclaude._types import MessageParam

from .transcript_format import KEY, OMITTED, THUMB_EDGE, THUMBNAIL, VERSION
from .validate import Invalid, check_messages

__all__ = ["Rebuilt", "read_notebook", "rebuild"]


@dataclass
class Rebuilt:
    """A conversation rebuilt from a notebook, and what to tell about it."""

    messages: list[MessageParam]
    model: str | None = None
    system: str | None = None
    #: Images that came back as their thumbnails, documents that were not kept.
    thumbnails: int = 0
    omitted: int = 0
    #: Outputs with turns that were read, and those skipped (``"cell 4: why"``).
    used: int = 0
    skipped: list[str] = field(default_factory=list)

    def note(self) -> str:
        """What a user should know about it, in a sentence or two.

        Examples
        --------
        >>> print(Rebuilt([], thumbnails=2, used=3).note())  # doctest: +NORMALIZE_WHITESPACE
        Read 3 saved outputs. 2 images came back as thumbnails (384 px): send them again for
        details.
        """
        parts = [f"Read {self.used} saved output{'s' if self.used != 1 else ''}."]
        if self.thumbnails:
            one = self.thumbnails == 1
            parts.append(
                f"{self.thumbnails} image{'' if one else 's'} came back as "
                f"thumbnail{'' if one else 's'} ({THUMB_EDGE} px): send {'it' if one else 'them'}"
                " again for details."
            )
        if self.omitted:
            parts.append(f"{self.omitted} attachment(s) were too large to keep in the notebook.")
        if self.skipped:
            parts.append(f"Skipped {len(self.skipped)} unreadable output(s) ({self.skipped[0]}).")
        return " ".join(parts)


def _signature(message: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a message says, without image bytes (thumbnails of one image may differ)."""
    content = message.get("content")
    if isinstance(content, str):
        return (message.get("role"), content)
    blocks: list[Any] = []
    for block in content or []:
        kind = block.get("type")
        if kind == "image" or block.get(OMITTED):
            blocks.append((kind,))
        elif kind == "tool_result":
            inner = block.get("content")
            text = inner if isinstance(inner, str) else [b.get("text") for b in inner or []]
            blocks.append((kind, block.get("tool_use_id"), json.dumps(text)))
        else:
            keys = ("text", "id", "name", "thinking", "data")
            blocks.append((kind, *(json.dumps(block.get(k)) for k in keys)))
    return (message.get("role"), *blocks)


def _same(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    return len(a) == len(b) and all(
        _signature(x) == _signature(y) for x, y in zip(a, b, strict=True)
    )


def rebuild(transcripts: Sequence[Mapping[str, Any]]) -> list[MessageParam]:
    """The conversation that ``transcripts`` (in cell order) add up to; the rules are in the
    module docstring.

    Examples
    --------
    >>> a = [{"role": "user", "content": "A"}, {"role": "assistant", "content": "a"}]
    >>> b = [{"role": "user", "content": "B"}, {"role": "assistant", "content": "b"}]
    >>> cell = {"kind": "cell", "index": 0, "messages": a}
    >>> widget = {"kind": "widget", "messages": a + b}
    >>> [m["content"] for m in rebuild([cell, widget, {"kind": "cell", "index": 2,
    ...                                                  "messages": b}])]
    ['A', 'a', 'B', 'b']
    """
    conversation: list[MessageParam] = []
    for t in transcripts:
        messages = list(t["messages"])
        if t.get("kind") == "widget":
            if _same(conversation, messages[: len(conversation)]):
                conversation = messages  # it goes on from what we have
            elif not _same(messages, conversation[: len(messages)]):
                conversation = messages  # a different conversation since: the later wins
            continue
        index = t.get("index")
        if not isinstance(index, int) or index < 0 or index > len(conversation):
            index = len(conversation)
        if _same(conversation[index : index + len(messages)], messages):
            continue  # already there
        conversation = conversation[:index] + messages
    return conversation


def _outputs(nb: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    cells = nb.get("cells") if isinstance(nb, Mapping) else None
    if not isinstance(cells, list):
        raise Invalid("it is not a Jupyter notebook (no cells)")
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs") or []:
            metadata = output.get("metadata") if isinstance(output, Mapping) else None
            if isinstance(metadata, Mapping) and KEY in metadata:
                yield number, metadata[KEY]


def _restore(messages: list[MessageParam], into: Rebuilt) -> list[MessageParam]:
    """Remove the marks of what was made smaller, counting them."""
    out: list[MessageParam] = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            blocks = []
            for block in content:
                block = dict(block)
                into.thumbnails += bool(block.pop(THUMBNAIL, False))
                into.omitted += bool(block.pop(OMITTED, False))
                if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                    inner = _restore([{"role": "user", "content": block["content"]}], into)
                    block["content"] = inner[0]["content"]
                blocks.append(block)
            content = blocks
        out.append({"role": message["role"], "content": content})
    return out


def read_notebook(path: str | os.PathLike[str]) -> Rebuilt:
    """The conversation a saved notebook holds (see the module docstring for the rules).

    Raises
    ------
    InvalidRequestError
        One line naming the file, if it cannot be read or holds no turns at all.

    Examples
    --------
    >>> read_notebook("/no/such/lesson.ipynb")
    Traceback (most recent call last):
    ...
    nbclaude._exceptions.InvalidRequestError: Cannot resume from /no/such/lesson.ipynb: no such file
    """
    try:
        nb = json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise InvalidRequestError(f"Cannot resume from {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not a readable notebook"
        raise InvalidRequestError(f"Cannot resume from {path}: {why}") from None
    result = Rebuilt([])
    good: list[Mapping[str, Any]] = []
    try:
        outputs = list(_outputs(nb))
    except Invalid as exc:
        raise InvalidRequestError(f"Cannot resume from {path}: {exc}") from None
    for number, t in outputs:
        try:
            if not isinstance(t, Mapping) or t.get("version") != VERSION:
                raise Invalid(f"unknown format version {t.get('version')!r}"
                              if isinstance(t, Mapping) else "not an object")  # fmt: skip
            if t.get("kind") not in ("cell", "widget"):
                raise Invalid(f"unknown kind {t.get('kind')!r}")
            check_messages(t.get("messages"))
        except Invalid as exc:
            result.skipped.append(f"cell {number}: {exc}")
            continue
        if t.get("shared", True) is False or t.get("recorded", True) is False:
            continue
        good.append(t)
        result.used += 1
        if isinstance(t.get("model"), str) and t["model"]:
            result.model = t["model"]
        if isinstance(t.get("system"), str):
            result.system = t["system"]
    if not good:
        why = "no conversation saved in it"
        if result.skipped:
            why += f" that can be read ({result.skipped[0]})"
        raise InvalidRequestError(f"Cannot resume from {path}: {why} (were its outputs cleared?)")
    result.messages = _restore(rebuild(good), result)
    return result
