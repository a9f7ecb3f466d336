"""Stream events -> the accumulated Message (the same dict a non-streaming call returns).

Rules (docs/api.md §4, §10):

- ``message_start`` carries the Message with empty ``content``.
- ``content_block_start`` appends a block; later events name it by ``index`` (mapped to its
  position, so a stream that skips an index does not break the rest).
- ``text_delta`` / ``thinking_delta`` append text (kept as lists of parts and joined once, so
  20,000 deltas cost linear time); ``signature_delta`` sets the signature; ``citations_delta``
  appends a citation; ``input_json_delta`` pieces are joined and parsed at ``content_block_stop``
  (an empty string means ``{}``).
- Blocks that arrive whole (``redacted_thinking``, server-tool results, unknown types) are kept
  verbatim. A beta ``fallback`` block also relabels the Message's ``model`` to the model that
  took over (as the SDK does), so the reply is priced as that model.
- ``message_delta`` sets ``stop_reason`` & co and *replaces* the usage fields it carries.
- On ``max_tokens`` the last block may never get its ``content_block_stop``: its tool input is
  parsed leniently (a cut-off trailing value is dropped, as the official SDK does).
- Unknown event, block and delta types are ignored.
- A malformed event changes nothing (an event before ``message_start`` or a second one, a block
  started twice, a delta for a block that never started or of the wrong kind, a text that is
  not a string): a *strict* accumulator (a live stream's) raises :class:`MalformedEventError`,
  so what the caller was shown is always what the Message holds; :func:`accumulate` skips it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, cast

from nbclaude._types import Message, StreamEvent

__all__ = ["MalformedEventError", "MessageAccumulator", "accumulate", "parse_partial_json"]


class MalformedEventError(ValueError):
    """A stream event that breaks the protocol (see the module docstring)."""


class MessageAccumulator:
    """Fold stream events into a Message.

    Examples
    --------
    >>> acc = MessageAccumulator()
    >>> acc.feed({"type": "message_start", "message": {"id": "msg_1", "type": "message",
    ...     "role": "assistant", "model": "m", "content": [], "stop_reason": None,
    ...     "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}})
    >>> acc.feed({"type": "content_block_start", "index": 0,
    ...           "content_block": {"type": "text", "text": ""}})
    >>> acc.feed({"type": "content_block_delta", "index": 0,
    ...           "delta": {"type": "text_delta", "text": "Hi"}})
    >>> acc.snapshot()["content"]
    [{'type': 'text', 'text': 'Hi'}]
    """

    __slots__ = ("_content", "_json", "_message", "_parts", "_pos", "_strict", "stopped")

    def __init__(self, *, strict: bool = False) -> None:
        self._strict = strict
        self._message: dict[str, Any] | None = None
        self._content: list[dict[str, Any]] = []
        self._pos: dict[int, int] = {}
        # position -> (field name, list of string parts) for text/thinking blocks being built
        self._parts: dict[int, tuple[str, list[str]]] = {}
        # position -> partial JSON pieces of a tool input being built
        self._json: dict[int, list[str]] = {}
        #: ``True`` once ``message_stop`` arrived.
        self.stopped = False

    @property
    def started(self) -> bool:
        """Whether ``message_start`` has arrived."""
        return self._message is not None

    def feed(self, event: StreamEvent) -> None:
        """Apply one event.

        Raises
        ------
        MalformedEventError
            (Strict only.) The event breaks the protocol; nothing was changed. A value of the
            wrong JSON type may also raise ``AttributeError`` or ``TypeError``.
        """
        etype = event.get("type")
        if etype == "content_block_delta":
            pos = self._pos.get(event.get("index", -1))
            delta: Any = event.get("delta")
            if pos is None:
                self._reject(f"a delta for block {event.get('index')!r}, which never started")
                return
            dtype = delta.get("type")
            if dtype == "text_delta":  # the hot path
                parts = self._parts.get(pos)
                text = delta.get("text")
                if parts is None or parts[0] != "text" or type(text) is not str:
                    self._reject(self._bad(dtype, pos, text))
                    return
                parts[1].append(text)
            elif dtype == "thinking_delta":
                parts = self._parts.get(pos)
                text = delta.get("thinking", "")
                if parts is None or parts[0] != "thinking" or not isinstance(text, str):
                    self._reject(self._bad(dtype, pos, text))
                    return
                parts[1].append(text)
            elif dtype == "input_json_delta":
                pieces = self._json.get(pos)
                text = delta.get("partial_json") or ""
                if pieces is None or not isinstance(text, str):
                    self._reject(self._bad(dtype, pos, text))
                    return
                pieces.append(text)
            elif dtype == "signature_delta":
                if self._content[pos].get("type") != "thinking":
                    self._reject(self._bad(dtype, pos, ""))
                    return
                self._content[pos]["signature"] = delta.get("signature", "")
            elif dtype == "citations_delta":
                if self._content[pos].get("type") != "text":
                    self._reject(self._bad(dtype, pos, ""))
                    return
                block = self._content[pos]
                if not isinstance(block.get("citations"), list):
                    block["citations"] = []
                block["citations"].append(delta.get("citation"))
            elif dtype == "compaction_delta":
                block = self._content[pos]
                for key, value in delta.items():
                    if key != "type":
                        block[key] = value
            return
        if etype == "content_block_start":
            if self._message is None:
                self._reject("content_block_start before message_start")
                return
            given = event.get("content_block")
            if not isinstance(given, dict) or not isinstance(given.get("type"), str):
                self._reject("a content block that is not a typed object")
                return
            block = dict(given)
            pos = len(self._content)
            index = event.get("index", pos)
            btype = block["type"]
            text = block.get(btype) or "" if btype in ("text", "thinking") else ""
            if index in self._pos or not isinstance(text, str):
                why = "started twice" if index in self._pos else "has a text that is not a string"
                self._reject(f"block {index!r} {why}")
                return
            self._content.append(block)
            self._pos[index] = pos
            if btype in ("text", "thinking"):
                self._parts[pos] = (btype, [text])
            elif btype in ("tool_use", "server_tool_use", "mcp_tool_use"):
                self._json[pos] = []
            elif btype == "fallback":
                # Server-side fallback: the rest of the reply comes from another model, and the
                # Message reports (and is priced as) that model, as the SDK does.
                target = block.get("to")
                if isinstance(target, dict) and isinstance(target.get("model"), str):
                    self._message["model"] = target["model"]
            return
        if etype == "content_block_stop":
            pos = self._pos.get(event.get("index", -1))
            if pos is not None:
                self._finish_block(pos, complete=True)
            return
        if etype == "message_start":
            message = event.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            if self._message is not None or not isinstance(message, dict):
                self._reject("a second message_start" if self._message else "no message")
                return
            if content is not None and not isinstance(content, list):
                self._reject("a message_start whose content is not a list")
                return
            message = dict(message)
            self._content = [dict(b) for b in content] if content else []
            self._pos = {i: i for i in range(len(self._content))}
            message["usage"] = dict(message.get("usage") or {})
            self._message = message
            return
        if etype == "message_delta":
            if self._message is None:
                self._reject("message_delta before message_start")
                return
            changes = event.get("delta") or {}
            usage = event.get("usage")
            if not isinstance(changes, dict) or not isinstance(usage, (dict, type(None))):
                self._reject("a message_delta whose delta or usage is not an object")
                return
            for key, value in changes.items():
                self._message[key] = value
            if usage is not None:
                totals = self._message["usage"]
                for key, value in usage.items():
                    if value is not None:
                        totals[key] = value
            return
        if etype == "message_stop":
            self.stopped = True
        # ping, error and unknown events change nothing here

    def _reject(self, problem: str) -> None:
        if self._strict:
            raise MalformedEventError(problem)

    def _bad(self, dtype: str, pos: int, text: Any) -> str:
        if not isinstance(text, str):
            return f"a {dtype} whose text is not a string"
        return f"a {dtype} for a {self._content[pos].get('type')} block"

    def _finish_block(self, pos: int, *, complete: bool) -> None:
        parts = self._parts.pop(pos, None)
        if parts is not None:
            self._content[pos][parts[0]] = "".join(parts[1])
        pieces = self._json.pop(pos, None)
        if pieces is not None:
            self._content[pos]["input"] = _parse_input("".join(pieces), complete=complete)

    def snapshot(self) -> Message:
        """The Message so far, as an independent dict (blocks still open are shown as far as
        they got; an open tool input is parsed leniently). ``ValueError`` before
        ``message_start``."""
        if self._message is None:
            raise ValueError("no message_start event yet")
        content: list[dict[str, Any]] = []
        for pos, block in enumerate(self._content):
            block = dict(block)
            parts = self._parts.get(pos)
            if parts is not None:
                block[parts[0]] = "".join(parts[1])
            pieces = self._json.get(pos)
            if pieces is not None:
                block["input"] = _parse_input("".join(pieces), complete=False)
            content.append(block)
        message = dict(self._message)
        message["usage"] = dict(self._message["usage"])
        message["content"] = content
        return cast(Message, message)

    def final(self) -> Message:
        """Close every open block and return the Message (the accumulator stays usable)."""
        for pos in list(self._parts) + list(self._json):
            self._finish_block(pos, complete=False)
        return self.snapshot()


def accumulate(events: Iterable[StreamEvent]) -> Message:
    """Fold a whole sequence of events into the final Message.

    Examples
    --------
    >>> accumulate([
    ...     {"type": "message_start", "message": {"id": "m", "type": "message",
    ...      "role": "assistant", "model": "x", "content": [], "stop_reason": None,
    ...      "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ...     {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
    ...      "usage": {"output_tokens": 5}},
    ... ])["usage"]
    {'input_tokens': 1, 'output_tokens': 5}
    """
    acc = MessageAccumulator()
    for event in events:
        acc.feed(event)
    return acc.final()


def _parse_input(text: str, *, complete: bool) -> Any:
    if not text.strip():
        return {}
    if complete:
        try:
            return json.loads(text)
        except ValueError:
            pass
    return parse_partial_json(text)


class _TruncatedError(Exception):
    """The text ended inside a value."""


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_SPACE = re.compile(r"[ \t\n\r]*")
_LITERALS = (("true", True), ("false", False), ("null", None))


def parse_partial_json(text: str) -> Any:
    """Parse JSON that may be cut off, keeping what is complete.

    An unfinished trailing value (string, ``tr``, ``1.``) is dropped together with its key;
    complete numbers, literals and containers are kept; open containers are closed. What cannot
    be parsed at all gives ``{}``. This matches the official SDK (``jiter`` ``partial_mode``).

    Examples
    --------
    >>> parse_partial_json('{"filename": "a.txt", "lines": ["x", "y", "unfini')
    {'filename': 'a.txt', 'lines': ['x', 'y']}
    >>> parse_partial_json('{"n": 12')
    {'n': 12}
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        value, _ = _value(text, 0)
    except (_TruncatedError, ValueError):
        return {}
    return value


def _skip(s: str, i: int) -> int:
    return _SPACE.match(s, i).end()  # type: ignore[union-attr]  # "*" always matches


def _value(s: str, i: int) -> tuple[Any, int]:
    i = _skip(s, i)
    if i >= len(s):
        raise _TruncatedError
    c = s[i]
    if c == "{":
        return _object(s, i + 1)
    if c == "[":
        return _array(s, i + 1)
    if c == '"':
        return _string(s, i)
    if c in _NUMBER_CHARS:
        j = i
        while j < len(s) and s[j] in _NUMBER_CHARS:
            j += 1
        m = _NUMBER.fullmatch(s, i, j)
        if m is None:
            if j == len(s):
                raise _TruncatedError
            raise ValueError(f"bad number at {i}")
        raw = m.group()
        return (float(raw) if any(ch in raw for ch in ".eE") else int(raw)), j
    for word, value in _LITERALS:
        if s.startswith(word, i):
            return value, i + len(word)
        if word.startswith(s[i:]):
            raise _TruncatedError
    raise ValueError(f"unexpected {c!r} at {i}")


def _string(s: str, i: int) -> tuple[str, int]:
    try:
        return json.decoder.scanstring(s, i + 1)  # type: ignore[attr-defined,no-any-return]
    except ValueError:
        raise _TruncatedError from None


def _object(s: str, i: int) -> tuple[dict[str, Any], int]:
    obj: dict[str, Any] = {}
    n = len(s)
    while True:
        i = _skip(s, i)
        if i >= n:
            return obj, n
        c = s[i]
        if c == "}":
            return obj, i + 1
        if c == ",":
            i += 1
            continue
        if c != '"':
            raise ValueError(f"expected a key at {i}")
        try:
            key, i = _string(s, i)
        except _TruncatedError:
            return obj, n
        i = _skip(s, i)
        if i >= n:
            return obj, n
        if s[i] != ":":
            raise ValueError(f"expected ':' at {i}")
        try:
            value, i = _value(s, i + 1)
        except _TruncatedError:
            return obj, n
        obj[key] = value


def _array(s: str, i: int) -> tuple[list[Any], int]:
    arr: list[Any] = []
    n = len(s)
    while True:
        i = _skip(s, i)
        if i >= n:
            return arr, n
        c = s[i]
        if c == "]":
            return arr, i + 1
        if c == ",":
            i += 1
            continue
        try:
            value, i = _value(s, i)
        except _TruncatedError:
            return arr, n
        arr.append(value)
